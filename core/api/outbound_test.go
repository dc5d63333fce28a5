package api_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/providers/backup/s3/s3"
	"github.com/berth-dev/berth/providers/git/gitea/gitea"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// internalSecret is what an internal service answers; no API answer may
// contain it.
const internalSecret = "db_password=hunter2-internal"

// failingHost answers every request 500 with a secret-looking body.
func failingHost(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"message": "internal error: " + internalSecret})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func wantBlocked(t *testing.T, r response, field string) {
	t.Helper()
	var e api.ErrorBody
	r.json(t, &e)
	if r.Status != 403 || e.Error.Code != "outbound_blocked" || e.Error.Field != field || !strings.Contains(e.Error.Message, "outbound_allow") {
		t.Fatalf("status %d %+v, want 403 outbound_blocked on %q: %s", r.Status, e.Error, field, r.Body)
	}
}

func allowOutbound(t *testing.T, st *store.Store, entries ...string) {
	t.Helper()
	ctx := context.Background()
	in, err := st.InstanceSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := st.ListUsers(ctx, store.Page{Limit: 1})
	if err != nil || len(u) == 0 {
		t.Fatalf("users: %v", err)
	}
	in.OutboundAllow = entries
	if _, err := st.UpdateInstanceSettings(ctx, in, u[0].ID); err != nil {
		t.Fatal(err)
	}
}

// TestOutboundGitConnections: an organization admin who is not an instance
// administrator cannot aim a git connection, a repository or a branch
// listing at the berth host; the instance administrator can, and what the
// host answers is never echoed; outbound_allow lifts the refusal; a changed
// base URL needs the credentials again.
func TestOutboundGitConnections(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	h.plugins["git.gitea"] = plugintest.GitProvider(t, gitea.New())
	orgAdmin := h.orgAdmin(f)
	host := failingHost(t)
	conn := func(key, baseURL string) response {
		return h.do("POST", "/api/v1/git-connections", key, map[string]any{"name": "gitea-" + rand8(), "provider": "gitea",
			"base_url": baseURL, "credentials": map[string]any{"token": "tok"}})
	}

	for _, u := range []string{host.URL, "http://localhost:3000", "http://[::1]/", "http://0.0.0.0/", "http://169.254.169.254/latest",
		"http://2130706433/", "http://0x7f.0.0.1/", "http://0177.0.0.1/"} {
		wantBlocked(t, conn(orgAdmin, u), "base_url")
	}
	// The instance administrator may aim at the host.
	var saved store.GitConnection
	h.must(201, conn(f.key, host.URL)).json(t, &saved)
	base := "/api/v1/git-connections/" + saved.ID.String()

	// Uses by the organization admin reach it (an address literal cannot
	// change after it was saved) and see a summary, never the body.
	for _, r := range []response{
		h.do("POST", base+"/test", orgAdmin, nil),
		h.do("GET", base+"/repositories", orgAdmin, nil),
		h.do("GET", base+"/repositories", f.key, nil),
	} {
		if r.Status != 502 || strings.Contains(string(r.Body), "hunter2") || !strings.Contains(r.errorMessage(), "the host answered 500") {
			t.Fatalf("failed use: %d %s", r.Status, r.Body)
		}
	}
	wantBlocked(t, h.do("GET", base+"/branches?repository=http://169.254.169.254/a/b.git", orgAdmin, nil), "repository")

	// A changed base URL needs the credentials again, from anyone.
	wantField(t, h.do("PATCH", base, f.key, map[string]any{"base_url": "https://gitea.example.com"}), 422, "credentials")
	h.must(200, h.do("PATCH", base, f.key, map[string]any{"name": "renamed"}))
	wantBlocked(t, h.do("PATCH", base, orgAdmin, map[string]any{"base_url": "http://127.0.0.1:1", "credentials": map[string]any{"token": "t2"}}), "base_url")
	h.must(200, h.do("PATCH", base, orgAdmin, map[string]any{"base_url": "https://gitea.example.com", "credentials": map[string]any{"token": "t2"}}))

	// Repositories of applications.
	app := "/api/v1/applications/" + f.appID
	apps := "/api/v1/environments/" + f.envID + "/applications"
	for _, repo := range []string{"http://127.0.0.1:3000/a/b.git", "git@169.254.169.254:a/b.git", "ssh://git@localhost/a.git", "git://[::1]/a"} {
		wantBlocked(t, h.do("PATCH", app, orgAdmin, map[string]any{"git_repository": repo}), "git_repository")
		wantBlocked(t, h.do("POST", apps, orgAdmin, map[string]any{"name": "a" + rand8(), "git_repository": repo, "port": 80}), "git_repository")
	}
	h.must(200, h.do("PATCH", app, f.key, map[string]any{"git_repository": "http://127.0.0.1:3000/a/b.git"}))
	// Changing something else of an application the administrator aimed
	// inside is fine.
	h.must(200, h.do("PATCH", app, orgAdmin, map[string]any{"git_ref": "develop"}))

	// outbound_allow lifts the refusal.
	allowOutbound(t, h.store, "127.0.0.0/8")
	h.must(201, conn(orgAdmin, host.URL))
	wantBlocked(t, conn(orgAdmin, "http://169.254.169.254/"), "base_url")
	h.must(200, h.do("PATCH", app, orgAdmin, map[string]any{"git_repository": "http://127.0.0.1:3001/a/b.git"}))
}

// s3Databases runs destination tests and listings with the real S3 plugin
// code, in process.
type s3Databases struct{ *fakeDatabases }

func (s3Databases) target(ctx context.Context, d store.BackupDestination) (*s3.Target, error) {
	t := s3.New()
	_, err := t.Configure(ctx, &sdk.ConfigureRequest{Settings: d.Settings})
	return t, err
}

func (s s3Databases) TestDestination(ctx context.Context, d store.BackupDestination) (string, error) {
	t, err := s.target(ctx, d)
	if err != nil {
		return "", err
	}
	resp, err := t.TestConnection(ctx, &sdk.TestConnectionRequest{})
	if err != nil {
		return "", err
	}
	return resp.Message, nil
}

func (s s3Databases) ListObjects(ctx context.Context, d store.BackupDestination, prefix string) ([]api.BackupObject, error) {
	t, err := s.target(ctx, d)
	if err != nil {
		return nil, err
	}
	_, err = t.List(ctx, &sdk.ListRequest{Prefix: prefix})
	return nil, err
}

// s3Plugins lists backup.s3 with its real settings schema.
type s3Plugins struct{}

func (s3Plugins) ListPlugins(ctx context.Context) ([]api.PluginInfo, error) {
	sc, err := s3.New().ConfigSchema(ctx, &sdk.ConfigSchemaRequest{})
	if err != nil {
		return nil, err
	}
	return []api.PluginInfo{{ID: "backup.s3", Kind: "backup", Schema: sc.Settings}}, nil
}

// TestOutboundBackupDestinations: the S3 endpoint is checked like a git
// base URL, a changed endpoint needs the secret again, and a failing
// endpoint's answer is never echoed.
func TestOutboundBackupDestinations(t *testing.T) {
	h := newHarness(t)
	box, _ := secrets.New(testKey)
	tok, holder := auth.NewSetupToken()
	h.token = tok
	h.srv = api.New(api.Options{Store: h.store, Setup: holder, CSRFKey: box.Derive("csrf"), Plugins: s3Plugins{},
		Services: withDatabases(h.store, s3Databases{&fakeDatabases{st: h.store}}, nil)})
	f := h.fixture()
	orgAdmin := h.orgAdmin(f)
	host := failingHost(t)
	dests := "/api/v1/organizations/" + f.orgID + "/backup-destinations"
	create := func(key, endpoint string) response {
		return h.do("POST", dests, key, map[string]any{"name": "b-" + rand8(), "plugin_id": "backup.s3", "settings": map[string]any{
			"endpoint": endpoint, "bucket": "backups", "access_key_id": "AKIA", "secret_access_key": "very-secret-key", "region": "us-east-1"}})
	}
	wantBlocked(t, create(orgAdmin, host.URL), "settings.endpoint")
	wantBlocked(t, create(orgAdmin, "http://169.254.169.254"), "settings.endpoint")
	var d store.BackupDestination
	h.must(201, create(f.key, host.URL)).json(t, &d)
	path := "/api/v1/backup-destinations/" + d.ID.String()

	var res api.DestinationTest
	r := h.must(200, h.do("POST", path+"/test", orgAdmin, nil))
	r.json(t, &res)
	if res.OK || strings.Contains(string(r.Body), "hunter2") || !strings.Contains(res.Message, "500") {
		t.Fatalf("test of a failing endpoint: %s", r.Body)
	}
	r = h.do("GET", path+"/objects", orgAdmin, nil)
	if r.Status != 502 || strings.Contains(string(r.Body), "hunter2") || !strings.Contains(r.errorMessage(), "500") {
		t.Fatalf("objects of a failing endpoint: %d %s", r.Status, r.Body)
	}

	// A changed endpoint needs the secret again; other changes do not.
	wantField(t, h.do("PATCH", path, f.key, map[string]any{"settings": map[string]any{"endpoint": "https://s3.example.com"}}), 422, "settings.secret_access_key")
	h.must(200, h.do("PATCH", path, orgAdmin, map[string]any{"settings": map[string]any{"bucket": "other"}}))
	wantBlocked(t, h.do("PATCH", path, orgAdmin, map[string]any{"settings": map[string]any{"endpoint": "http://[::1]:9000", "secret_access_key": "s"}}), "settings.endpoint")
	h.must(200, h.do("PATCH", path, orgAdmin, map[string]any{"settings": map[string]any{"endpoint": "https://s3.example.com", "secret_access_key": "s"}}))

	allowOutbound(t, h.store, "127.0.0.1")
	h.must(201, create(orgAdmin, host.URL))
}

// rand8 is a short random name suffix.
func rand8() string { return strings.ToLower(rand.Text()[:8]) }

// orgAdmin adds an organization admin who is not an instance administrator
// and returns their API key.
func (h *harness) orgAdmin(f fixture) string {
	h.t.Helper()
	email := "org-admin@example.com"
	h.must(201, h.do("POST", "/api/v1/organizations/"+f.orgID+"/members", f.key, map[string]any{
		"email": email, "name": "Org Admin", "password": password, "role": "admin"}))
	return h.apiKeyFromSession(h.must(200, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password})))
}

// switchableResolver answers one name with an address a test changes, as
// a DNS server controlled by a tenant would.
type switchableResolver struct {
	mu   sync.Mutex
	addr string
}

func (r *switchableResolver) set(a string) { r.mu.Lock(); r.addr = a; r.mu.Unlock() }

func (r *switchableResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if host != "forge.tenant.test" {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []netip.Addr{netip.MustParseAddr(r.addr)}, nil
}

// TestOutboundRecheckBeforeUse: a host name saved while it pointed at a
// public address and re-pointed at the host afterwards is refused before
// berth sends the stored token there; outbound_allow lifts it.
func TestOutboundRecheckBeforeUse(t *testing.T) {
	h := newHarness(t)
	res := &switchableResolver{addr: "93.184.216.34"}
	guard := netguard.New(netguard.Options{Resolver: res, Allow: func(ctx context.Context) ([]string, error) {
		in, err := h.store.InstanceSettings(ctx)
		return in.OutboundAllow, err
	}})
	box, _ := secrets.New(testKey)
	tok, holder := auth.NewSetupToken()
	h.token = tok
	h.srv = api.New(api.Options{Store: h.store, Setup: holder, CSRFKey: box.Derive("csrf"),
		GitProviders: providers{fake: h.provider, plugins: h.plugins}, Outbound: guard})
	f := h.fixture()
	h.provider.repos = []string{"team/a"}
	orgAdmin := h.orgAdmin(f)
	var conn store.GitConnection
	h.must(201, h.do("POST", "/api/v1/git-connections", orgAdmin, map[string]any{"name": "forge", "provider": "example",
		"base_url": "https://forge.tenant.test", "credentials": map[string]any{"token": "good-token"}})).json(t, &conn)
	base := "/api/v1/git-connections/" + conn.ID.String()
	h.must(200, h.do("POST", base+"/test", orgAdmin, nil))

	res.set("127.0.0.1")
	wantBlocked(t, h.do("POST", base+"/test", orgAdmin, nil), "base_url")
	wantBlocked(t, h.do("GET", base+"/repositories", orgAdmin, nil), "base_url")
	wantBlocked(t, h.do("GET", base+"/branches?repository=team/a", orgAdmin, nil), "base_url")
	h.must(200, h.do("POST", base+"/test", f.key, nil)) // the instance administrator is not checked

	allowOutbound(t, h.store, "forge.tenant.test")
	h.must(200, h.do("POST", base+"/test", orgAdmin, nil))
}
