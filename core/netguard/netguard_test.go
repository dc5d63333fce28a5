package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

// fakeResolver answers from a table; other names do not resolve.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	ips, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	out := make([]netip.Addr, len(ips))
	for i, s := range ips {
		out[i] = netip.MustParseAddr(s)
	}
	return out, nil
}

var testResolver = fakeResolver{
	"git.example.com":    {"93.184.216.34"},
	"mixed.example.com":  {"93.184.216.34", "127.0.0.1"},
	"meta.example.com":   {"169.254.169.254"},
	"docker.example.com": {"172.18.0.7"},
	"own.example.com":    {"203.0.113.10"},
	"v6.example.com":     {"2001:db8::1", "::1"},
	"mapped.example.com": {"::ffff:127.0.0.1"},
	"gitea.internal":     {"127.0.0.1"},
	"lan.example.com":    {"10.0.0.5"},
}

func testInterfaces() ([]Interface, error) {
	return []Interface{
		{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}},
		{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("203.0.113.10/24")}},
		{Name: "docker0", Addrs: []netip.Prefix{netip.MustParsePrefix("172.17.0.1/16")}},
		{Name: "br-5f2a", Addrs: []netip.Prefix{netip.MustParsePrefix("172.18.0.1/16")}},
	}, nil
}

func testGuard(allow ...string) *Guard {
	return New(Options{Resolver: testResolver, Interfaces: testInterfaces,
		Allow: func(context.Context) ([]string, error) { return allow, nil }})
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		allow   []string
		blocked string // substring of the message; "" means allowed
	}{
		{"loopback literal", "http://127.0.0.1:3000/api", nil, "loopback"},
		{"loopback elsewhere in 127/8", "https://127.8.9.10/", nil, "loopback"},
		{"localhost", "http://localhost:8080", nil, "loopback"},
		{"localhost with a trailing dot", "http://LOCALHOST./", nil, "loopback"},
		{"sub.localhost", "http://api.localhost/", nil, "loopback"},
		{"ipv6 loopback", "http://[::1]:9000/", nil, "loopback"},
		{"unspecified", "http://0.0.0.0:8080/", nil, "unspecified"},
		{"unspecified v6", "http://[::]/", nil, "unspecified"},
		{"this network", "http://0.1.2.3/", nil, "unspecified"},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", nil, "link-local"},
		{"link-local v6 with zone", "http://[fe80::1%25eth0]/", nil, "link-local"},
		{"multicast", "http://224.0.0.1/", nil, "multicast"},
		{"decimal IPv4", "http://2130706433/", nil, "loopback"},
		{"hex IPv4", "http://0x7f000001/", nil, "loopback"},
		{"hex dotted", "http://0x7f.0.0.1/", nil, "loopback"},
		{"octal dotted", "http://0177.0.0.1/", nil, "loopback"},
		{"short form", "http://127.1/", nil, "loopback"},
		{"v4-mapped v6", "http://[::ffff:127.0.0.1]/", nil, "loopback"},
		{"v4-mapped metadata", "http://[::ffff:a9fe:a9fe]/", nil, "link-local"},
		{"v4-compatible v6", "http://[::127.0.0.1]/", nil, "loopback"},
		{"name resolving to metadata", "https://meta.example.com/", nil, "link-local"},
		{"name resolving to public and loopback", "https://mixed.example.com/", nil, "loopback"},
		{"name resolving to v6 loopback among others", "https://v6.example.com/", nil, "loopback"},
		{"name resolving to mapped loopback", "https://mapped.example.com/", nil, "loopback"},
		{"host's own address", "https://203.0.113.10/", nil, "berth host"},
		{"name resolving to the host", "https://own.example.com/", nil, "berth host"},
		{"docker bridge subnet", "http://172.17.0.5:5000/", nil, "Docker network"},
		{"br- subnet by name", "https://docker.example.com/", nil, "Docker network"},
		{"public address", "https://93.184.216.34/", nil, ""},
		{"public name", "https://git.example.com/api/v3", nil, ""},
		{"private LAN is not the host", "https://lan.example.com/", nil, ""},
		{"unresolvable name is checked again before use", "https://nowhere.example.com/", nil, ""},
		{"empty URL", "", nil, ""},
		{"allowed CIDR", "http://127.0.0.1:3000/", []string{"127.0.0.0/8"}, ""},
		{"allowed IP", "http://[::1]:3000/", []string{"::1"}, ""},
		{"allowed IP covers the decimal form", "http://2130706433/", []string{"127.0.0.1"}, ""},
		{"allowed mapped IP covers v4", "http://127.0.0.1/", []string{"::ffff:127.0.0.1"}, ""},
		{"allowed CIDR does not cover others", "http://169.254.169.254/", []string{"127.0.0.0/8"}, "link-local"},
		{"allowed host name", "https://gitea.internal/", []string{"Gitea.Internal."}, ""},
		{"allowed host name does not cover the address", "http://127.0.0.1/", []string{"gitea.internal"}, "loopback"},
		{"mixed name needs every internal address allowed", "https://mixed.example.com/", []string{"127.0.0.1/32"}, ""},
		{"allowed docker subnet", "http://172.17.0.5/", []string{"172.17.0.0/16"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := testGuard(tt.allow...).CheckURL(context.Background(), "base_url", tt.url)
			if tt.blocked == "" {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v, want allowed", tt.url, err)
				}
				return
			}
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("CheckURL(%q) = %v, want a BlockedError", tt.url, err)
			}
			if be.Field != "base_url" || !strings.Contains(be.Message, tt.blocked) || !strings.Contains(be.Message, "outbound_allow") {
				t.Fatalf("CheckURL(%q) = %+v, want field base_url and %q", tt.url, be, tt.blocked)
			}
			if strings.Contains(tt.url, "example.com") && strings.Contains(be.Message, "127.0.0.1") {
				t.Fatalf("message %q reveals the resolved address", be.Message)
			}
		})
	}
}

func TestOpenAllowsEverything(t *testing.T) {
	g := Open()
	for _, u := range []string{"http://127.0.0.1/", "http://169.254.169.254/", "http://localhost/"} {
		if err := g.CheckURL(context.Background(), "base_url", u); err != nil {
			t.Fatalf("Open().CheckURL(%q) = %v", u, err)
		}
	}
}

func TestRepositoryHost(t *testing.T) {
	tests := []struct {
		repo, host string
		ok         bool
	}{
		{"https://github.com/octo/hello.git", "github.com", true},
		{"http://127.0.0.1:3000/a/b.git", "127.0.0.1", true},
		{"ssh://git@gitlab.example.com:2222/a/b.git", "gitlab.example.com", true},
		{"git://[::1]/repo", "::1", true},
		{"git@github.com:octo/hello.git", "github.com", true},
		{"localhost:repo.git", "localhost", true},
		{"git@[::1]:repo.git", "::1", true},
		{"octo/hello", "", false},
		{"/srv/git/repo", "", false},
		{"file:///srv/git/repo", "", false},
		{"./repo:x", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		host, ok := RepositoryHost(tt.repo)
		if host != tt.host || ok != tt.ok {
			t.Errorf("RepositoryHost(%q) = %q, %v; want %q, %v", tt.repo, host, ok, tt.host, tt.ok)
		}
	}
}

func TestCheckRepository(t *testing.T) {
	g := testGuard()
	ctx := context.Background()
	for repo, blocked := range map[string]bool{
		"git@127.0.0.1:team/app.git":        true,
		"ssh://git@localhost/app.git":       true,
		"https://mixed.example.com/app.git": true,
		"http://169.254.169.254/x.git":      true,
		"https://git.example.com/app.git":   false,
		"team/app":                          false,
		"/srv/git/app":                      false,
	} {
		err := g.CheckRepository(ctx, "git_repository", repo)
		var be *BlockedError
		if got := errors.As(err, &be); got != blocked || (err != nil && !got) {
			t.Errorf("CheckRepository(%q) = %v, want blocked %v", repo, err, blocked)
		}
	}
}

// TestRecheck: literals and localhost were judged when saved; names are
// resolved again.
func TestRecheck(t *testing.T) {
	g := testGuard()
	ctx := context.Background()
	for _, u := range []string{"http://127.0.0.1:3000/", "http://localhost/", "http://2130706433/", "https://git.example.com/"} {
		if err := g.RecheckURL(ctx, "base_url", u); err != nil {
			t.Errorf("RecheckURL(%q) = %v, want allowed", u, err)
		}
	}
	var be *BlockedError
	if err := g.RecheckURL(ctx, "base_url", "https://mixed.example.com/"); !errors.As(err, &be) {
		t.Errorf("RecheckURL(rebound name) = %v, want blocked", err)
	}
	if err := g.RecheckRepository(ctx, "git_repository", "git@meta.example.com:a/b"); !errors.As(err, &be) {
		t.Errorf("RecheckRepository(rebound name) = %v, want blocked", err)
	}
	if err := testGuard("mixed.example.com").RecheckURL(ctx, "base_url", "https://mixed.example.com/"); err != nil {
		t.Errorf("RecheckURL(allowed name) = %v", err)
	}
}

func TestAllowListError(t *testing.T) {
	boom := errors.New("database down")
	g := New(Options{Resolver: testResolver, Interfaces: testInterfaces,
		Allow: func(context.Context) ([]string, error) { return nil, boom }})
	if err := g.CheckURL(context.Background(), "base_url", "http://127.0.0.1/"); !errors.Is(err, boom) {
		t.Fatalf("CheckURL = %v, want the allow-list error wrapped", err)
	}
}

func TestValidAllowEntry(t *testing.T) {
	for e, ok := range map[string]bool{
		"10.0.0.0/8": true, "127.0.0.1": true, "::1": true, "fd00::/8": true, "gitea.internal": true,
		"git-host": true, "": false, "10.0.0.0/33": false, "not a host": false, "a..b": false, "x/y": false,
	} {
		if err := ValidAllowEntry(e); (err == nil) != ok {
			t.Errorf("ValidAllowEntry(%q) = %v, want ok %v", e, err, ok)
		}
	}
}

// TestDialContext: the connect-time check sees the address actually
// dialled, whatever name led there.
func TestDialContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	get := func(g *Guard, host string) error {
		c := &http.Client{Transport: &http.Transport{DialContext: g.DialContext(nil)}}
		resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	var be *BlockedError
	if err := get(testGuard(), "127.0.0.1"); !errors.As(err, &be) {
		t.Fatalf("dial 127.0.0.1 = %v, want blocked", err)
	}
	if err := get(testGuard(), "2130706433"); !errors.As(err, &be) {
		t.Fatalf("dial 2130706433 = %v, want blocked", err)
	}
	if err := get(testGuard("127.0.0.1"), "127.0.0.1"); err != nil {
		t.Fatalf("dial allowed 127.0.0.1 = %v", err)
	}
	if err := get(testGuard("localhost"), "localhost"); err != nil {
		t.Fatalf("dial allowed name localhost = %v", err)
	}
	if err := get(Open(), "127.0.0.1"); err != nil {
		t.Fatalf("Open dial = %v", err)
	}
	// A bare Dialer with the Control function refuses the same way.
	d := &net.Dialer{Control: testGuard().Control(context.Background())}
	if _, err := d.Dial("tcp", srv.Listener.Addr().String()); !errors.As(err, &be) {
		t.Fatalf("Control dial = %v, want blocked", err)
	}
}

func TestDescribe(t *testing.T) {
	secret := "AKIA-internal-token-xyz"
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("gitea: server error (500 Internal Server Error): GET /api/v1/user/repos: %s: %w", secret, sdk.ErrUnavailable), "the host answered 500: the host is failing"},
		{fmt.Errorf("github: token rejected (401): GET /user/repos: %s: %w", secret, sdk.ErrUnauthenticated), "the host answered 401: the credentials were refused or lack permission"},
		{fmt.Errorf("S3 endpoint http://x is failing (InternalError: %s, HTTP 503): %w", secret, sdk.ErrUnavailable), "the host answered 503: the host is failing"},
		{errors.New(`Get "http://10.0.0.1/": dial tcp 10.0.0.1:80: connect: connection refused`), "connection refused"},
		{errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), "TLS error (the host's certificate is not trusted or the handshake failed)"},
		{errors.New("dial tcp: lookup nowhere.example: no such host"), "the host name does not resolve"},
		{context.DeadlineExceeded, "the request timed out"},
		{fmt.Errorf("%s: %w", secret, sdk.ErrUnauthenticated), "the host refused the credentials"},
		{errors.New(secret), "the request failed (the details are in the server log)"},
		{&BlockedError{Field: "base_url", Message: "no"}, "base_url: no"},
		{sdk.NewConfigError("bucket", "is required"), sdk.NewConfigError("bucket", "is required").Error()},
		{fmt.Errorf("repository: %q is not owner/repo: %w", "x", sdk.ErrInvalidArgument), `repository: "x" is not owner/repo: ` + sdk.ErrInvalidArgument.Error()},
		{fmt.Errorf("gitea: request refused (422 Unprocessable Entity): POST /x: %s: %w", secret, sdk.ErrInvalidArgument), "the host answered 422"},
	}
	for _, tt := range tests {
		got := Describe(tt.err)
		if got != tt.want {
			t.Errorf("Describe(%v) = %q, want %q", tt.err, got, tt.want)
		}
		if strings.Contains(got, secret) {
			t.Errorf("Describe(%v) echoes the remote answer", tt.err)
		}
	}
}

// TestCheckHostPort: a host a plugin connects to itself (an SMTP server)
// follows the rules of URLs.
func TestCheckHostPort(t *testing.T) {
	tests := []struct {
		name    string
		host    string
		port    int
		allow   []string
		blocked string // substring of the message; "" means allowed
	}{
		{"loopback literal", "127.0.0.1", 25, nil, `"127.0.0.1" (port 25) is a loopback address`},
		{"localhost", "localhost", 587, nil, `"localhost" (port 587) is this host`},
		{"default port is not named", "127.0.0.1", 0, nil, `"127.0.0.1" is a loopback`},
		{"bracketed v6 loopback", "[::1]", 25, nil, "loopback"},
		{"bare v6 loopback", "::1", 25, nil, "loopback"},
		{"port typed into the host", "127.0.0.1:2525", 0, nil, `"127.0.0.1" (port 2525) is a loopback`},
		{"v6 with a port typed into the host", "[::1]:2525", 25, nil, "(port 2525)"},
		{"decimal IPv4", "2130706433", 25, nil, "loopback"},
		{"cloud metadata", "169.254.169.254", 25, nil, "link-local"},
		{"name resolving to metadata", "meta.example.com", 465, nil, `"meta.example.com" (port 465) resolves to a link-local`},
		{"name resolving to public and loopback", "mixed.example.com", 25, nil, "loopback"},
		{"host's own address", "203.0.113.10", 25, nil, "berth host"},
		{"docker bridge subnet", "172.17.0.5", 1025, nil, "Docker network"},
		{"public name", "git.example.com", 587, nil, ""},
		{"public address", "93.184.216.34", 465, nil, ""},
		{"private LAN is not the host", "lan.example.com", 25, nil, ""},
		{"unresolvable name is checked again before use", "smtp.nowhere.example.com", 25, nil, ""},
		{"empty host", "", 25, nil, ""},
		{"allowed CIDR", "127.0.0.1", 1025, []string{"127.0.0.0/8"}, ""},
		{"allowed CIDR covers a port typed into the host", "127.0.0.1:1025", 0, []string{"127.0.0.1"}, ""},
		{"allowed host name", "gitea.internal", 25, []string{"gitea.internal"}, ""},
		{"allowed host name does not cover the address", "127.0.0.1", 25, []string{"gitea.internal"}, "loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := testGuard(tt.allow...).CheckHostPort(context.Background(), "settings.host", tt.host, tt.port)
			if tt.blocked == "" {
				if err != nil {
					t.Fatalf("CheckHostPort(%q, %d) = %v, want allowed", tt.host, tt.port, err)
				}
				return
			}
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("CheckHostPort(%q, %d) = %v, want a BlockedError", tt.host, tt.port, err)
			}
			if be.Field != "settings.host" || !strings.Contains(be.Message, tt.blocked) || !strings.Contains(be.Message, "outbound_allow") {
				t.Fatalf("CheckHostPort(%q, %d) = %+v, want field settings.host and %q", tt.host, tt.port, be, tt.blocked)
			}
			if strings.Contains(tt.host, "example.com") && strings.Contains(be.Message, "127.0.0.1") {
				t.Fatalf("message %q reveals the resolved address", be.Message)
			}
		})
	}
	if err := Open().CheckHostPort(context.Background(), "settings.host", "127.0.0.1", 25); err != nil {
		t.Errorf("Open().CheckHostPort(loopback) = %v", err)
	}
}

// TestRecheckHostPort: literals and localhost were judged when saved;
// names are resolved again.
func TestRecheckHostPort(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		host    string
		port    int
		allow   []string
		blocked bool
	}{
		{"127.0.0.1", 25, nil, false},
		{"localhost:2525", 0, nil, false},
		{"[::1]", 25, nil, false},
		{"git.example.com", 587, nil, false},
		{"mixed.example.com", 587, nil, true},
		{"meta.example.com:25", 0, nil, true},
		{"mixed.example.com", 587, []string{"mixed.example.com"}, false},
		{"", 25, nil, false},
	}
	for _, tt := range tests {
		err := testGuard(tt.allow...).RecheckHostPort(ctx, "settings.host", tt.host, tt.port)
		var be *BlockedError
		if got := errors.As(err, &be); got != tt.blocked || (err != nil && !got) {
			t.Errorf("RecheckHostPort(%q, %d) allow %v = %v, want blocked %v", tt.host, tt.port, tt.allow, err, tt.blocked)
		}
	}
}
