package gitclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

func TestFetchRefKinds(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		repo       string
		ref        string
		wantRef    string
		wantCommit string
		wantSubj   string
		shallow    bool
		submodule  bool
	}{
		{"default branch", f.bare, "", "refs/heads/main", f.c3, subjects[3], true, true},
		{"branch", f.bare, "main", "refs/heads/main", f.c3, subjects[3], true, true},
		{"other branch", f.bare, "feature", "refs/heads/feature", f.c4, subjects[4], true, true},
		{"full branch ref", f.bare, "refs/heads/feature", "refs/heads/feature", f.c4, subjects[4], true, true},
		{"annotated tag", f.bare, "v1", "refs/tags/v1", f.c2, subjects[2], true, false},
		{"lightweight tag", f.bare, "v0.1", "refs/tags/v0.1", f.c1, subjects[1], true, false},
		{"full commit", f.bare, f.c1, f.c1, f.c1, subjects[1], false, false},
		{"short commit", f.bare, f.c2[:7], f.c2, f.c2, subjects[2], false, false},
		{"file URL", "file://" + f.bare, "feature", "refs/heads/feature", f.c4, subjects[4], true, true},
	}
	p := newClient()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "clone")
			var logs gitfixture.Log
			r, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: tt.repo, Ref: tt.ref, Dir: dir, Log: logs.Line})
			if err != nil {
				t.Fatalf("Fetch(%q): %v\nlog:\n%s", tt.ref, err, logs.String())
			}
			if r.Commit != tt.wantCommit || r.Ref != tt.wantRef || r.Subject != tt.wantSubj {
				t.Errorf("Fetch(%q) = {%s %s %q}, want {%s %s %q}", tt.ref, r.Ref, r.Commit, r.Subject, tt.wantRef, tt.wantCommit, tt.wantSubj)
			}
			if head := git(t, dir, "rev-parse", "HEAD"); head != tt.wantCommit {
				t.Errorf("HEAD = %s, want %s", head, tt.wantCommit)
			}
			if tt.shallow {
				if got := git(t, dir, "rev-parse", "--is-shallow-repository"); got != "true" {
					t.Errorf("clone of %s is not shallow", tt.ref)
				}
			}
			_, err = os.Stat(filepath.Join(dir, "sub", "lib.txt"))
			if tt.submodule && err != nil {
				t.Errorf("submodule not checked out: %v", err)
			}
			if logs.String() == "" {
				t.Errorf("Fetch logged nothing")
			}
		})
	}
}

func TestFetchDepth(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		depth int
		want  string
	}{
		{0, "1"},
		{2, "2"},
		{-1, "3"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.depth), func(t *testing.T) {
			dir := t.TempDir()
			if _, err := newClient().Fetch(t.Context(), &sdk.FetchRequest{Repository: f.bare, Ref: "main", Dir: dir, Depth: tt.depth}); err != nil {
				t.Fatal(err)
			}
			if got := git(t, dir, "rev-list", "--count", "HEAD"); got != tt.want {
				t.Errorf("depth %d: %s commits, want %s", tt.depth, got, tt.want)
			}
		})
	}
}

func TestFetchIntoExistingClone(t *testing.T) {
	f := newFixture(t)
	p := newClient()
	dir := t.TempDir()
	if _, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: f.bare, Ref: "main", Dir: dir}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "left-over.txt"), "untracked")
	writeFile(t, filepath.Join(dir, "README"), "modified")
	for _, ref := range []string{"feature", f.c1, "main"} {
		r, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: f.bare, Ref: ref, Dir: dir})
		if err != nil {
			t.Fatalf("Fetch(%s) into an existing clone: %v", ref, err)
		}
		if got := git(t, dir, "rev-parse", "HEAD"); got != r.Commit {
			t.Errorf("after Fetch(%s): HEAD %s, response %s", ref, got, r.Commit)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "left-over.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("untracked file survived: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "README")); string(b) != "two\n" {
		t.Errorf("README = %q, want the committed content", b)
	}
}

func TestFetchErrors(t *testing.T) {
	f := newFixture(t)
	noLocal := newClient()
	noLocal.opts.AllowLocal = false
	tests := []struct {
		name string
		p    *client
		repo string
		ref  string
		want error
	}{
		{"missing branch", newClient(), f.bare, "no-such-branch", sdk.ErrNotFound},
		{"missing commit", newClient(), f.bare, strings.Repeat("ab", 20), sdk.ErrNotFound},
		{"missing repository", newClient(), filepath.Join(f.root, "nope.git"), "main", sdk.ErrNotFound},
		{"ref option", newClient(), f.bare, "--upload-pack=touch /tmp/pwned", sdk.ErrInvalidArgument},
		{"ref dash", newClient(), f.bare, "-main", sdk.ErrInvalidArgument},
		{"ref with space", newClient(), f.bare, "main foo", sdk.ErrInvalidArgument},
		{"ref with dots", newClient(), f.bare, "main/../x", sdk.ErrInvalidArgument},
		{"repository option", newClient(), "--upload-pack=touch /tmp/pwned", "main", sdk.ErrInvalidArgument},
		{"repository dash", newClient(), "-u" + f.bare, "main", sdk.ErrInvalidArgument},
		{"ext transport", newClient(), "ext::sh -c touch% /tmp/pwned", "main", sdk.ErrInvalidArgument},
		{"ssh host option", newClient(), "ssh://-oProxyCommand=touch%20/tmp/pwned/repo", "main", sdk.ErrInvalidArgument},
		{"relative path", newClient(), "some/dir", "main", sdk.ErrInvalidArgument},
		{"local not allowed", noLocal, f.bare, "main", sdk.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.Fetch(t.Context(), &sdk.FetchRequest{Repository: tt.repo, Ref: tt.ref, Dir: t.TempDir()})
			if !errors.Is(err, tt.want) {
				t.Errorf("Fetch(%q, %q) = %v, want %v", tt.repo, tt.ref, err, tt.want)
			}
		})
	}
	if _, err := os.Stat("/tmp/pwned"); err == nil {
		t.Errorf("an injected command ran")
	}
}

// gitHTTPServer serves the repositories under root over smart HTTP with
// git http-backend, accepting only the basic credentials user:token.
func gitHTTPServer(t *testing.T, root, user, token string) *httptest.Server {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// watchArgv records the command line of every git the provider starts.
func watchArgv(t *testing.T) func() string {
	var mu sync.Mutex
	var argv []string
	onStart = func(pid int) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		mu.Lock()
		argv = append(argv, strings.ReplaceAll(string(b), "\x00", " "))
		mu.Unlock()
	}
	t.Cleanup(func() { onStart = nil })
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(argv, "\n")
	}
}

func TestFetchHTTPSCredentials(t *testing.T) {
	f := newFixture(t)
	const token = "tok-Secret-4242"
	srv := gitHTTPServer(t, f.root, "x-access-token", token)
	repo := srv.URL + "/app.git"
	argv := watchArgv(t)

	var logs gitfixture.Log
	r, err := newClient().Fetch(t.Context(), &sdk.FetchRequest{
		Repository: repo, Ref: "feature", Dir: t.TempDir(), Credentials: &sdk.Credentials{Token: token}, Log: logs.Line,
	})
	if err != nil {
		t.Fatalf("Fetch with a token: %v\n%s", err, logs.String())
	}
	if r.Commit != f.c4 {
		t.Errorf("commit %s, want %s", r.Commit, f.c4)
	}
	branches, err := newClient().ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: repo, Credentials: &sdk.Credentials{Token: token}})
	if err != nil || len(branches.Branches) != 2 {
		t.Errorf("ListBranches with a token = %+v, %v", branches, err)
	}

	for _, c := range []struct {
		name  string
		repo  string
		creds *sdk.Credentials
	}{
		{"wrong token", repo, &sdk.Credentials{Token: "wrong-" + token}},
		{"wrong password in URL", strings.Replace(repo, "://", "://x-access-token:wrong-"+token+"@", 1), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs gitfixture.Log
			_, err := newClient().Fetch(t.Context(), &sdk.FetchRequest{Repository: c.repo, Ref: "main", Dir: t.TempDir(), Credentials: c.creds, Log: logs.Line})
			if !errors.Is(err, sdk.ErrUnauthenticated) {
				t.Errorf("Fetch = %v, want sdk.ErrUnauthenticated", err)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("the error shows the token: %v", err)
			}
			if strings.Contains(logs.String(), token) {
				t.Errorf("the log shows the token:\n%s", logs.String())
			}
		})
	}
	if strings.Contains(argv(), token) {
		t.Errorf("a git command line holds the token:\n%s", argv())
	}
}

func TestCredentialsNeverInErrors(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there now
	const token = "bogus-Token-0123456789"
	argv := watchArgv(t)
	tests := []struct {
		name  string
		repo  string
		creds *sdk.Credentials
	}{
		{"token", "https://" + addr + "/owner/repo.git", &sdk.Credentials{Token: token}},
		{"password", "https://" + addr + "/owner/repo.git", &sdk.Credentials{Username: "me", Password: token}},
		{"password in URL", "https://me:" + token + "@" + addr + "/owner/repo.git", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs gitfixture.Log
			_, err := newClient().Fetch(t.Context(), &sdk.FetchRequest{Repository: tt.repo, Ref: "main", Dir: t.TempDir(), Credentials: tt.creds, Log: logs.Line})
			if err == nil {
				t.Fatal("Fetch from a closed port succeeded")
			}
			if !errors.Is(err, sdk.ErrUnavailable) {
				t.Errorf("Fetch = %v, want sdk.ErrUnavailable", err)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(logs.String(), token) {
				t.Errorf("the token leaked:\nerror: %v\nlog:\n%s", err, logs.String())
			}
			_, err = newClient().ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: tt.repo, Credentials: tt.creds})
			if err == nil || strings.Contains(err.Error(), token) {
				t.Errorf("ListBranches = %v, want an error without the token", err)
			}
		})
	}
	if strings.Contains(argv(), token) {
		t.Errorf("a git command line holds the token:\n%s", argv())
	}
}

func TestFetchSSHDeployKey(t *testing.T) {
	f := newFixture(t)
	// A stand-in for ssh on PATH: it records its arguments and the deploy
	// key's mode, then runs the remote command locally as sshd would.
	bin := t.TempDir()
	record := filepath.Join(t.TempDir(), "ssh.log")
	script := `#!/bin/sh
key=""; prev=""
for a in "$@"; do
  [ "$prev" = "-i" ] && key="$a"
  printf 'arg %s\n' "$a" >> '` + record + `'
  prev="$a"; last="$a"
done
[ -n "$key" ] && printf 'keymode %s\nkey %s\n' "$(stat -c %a "$key")" "$(cat "$key")" >> '` + record + `'
exec /bin/sh -c "$last"
`
	writeFile(t, filepath.Join(bin, "ssh"), script)
	if err := os.Chmod(filepath.Join(bin, "ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----"
	tests := []struct {
		name       string
		knownHosts string
		want       string
	}{
		{"accept new host keys", "", "StrictHostKeyChecking=accept-new"},
		{"known hosts", "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", "StrictHostKeyChecking=yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(record)
			var logs gitfixture.Log
			r, err := newClient().Fetch(t.Context(), &sdk.FetchRequest{
				Repository: "git@git.example.com:" + f.bare, Ref: "feature", Dir: t.TempDir(), Log: logs.Line,
				Credentials: &sdk.Credentials{SSHPrivateKey: []byte(key), SSHKnownHosts: []byte(tt.knownHosts)},
			})
			if err != nil {
				t.Fatalf("Fetch over ssh: %v\n%s", err, logs.String())
			}
			if r.Commit != f.c4 {
				t.Errorf("commit %s, want %s", r.Commit, f.c4)
			}
			b, err := os.ReadFile(record)
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			for _, want := range []string{tt.want, "arg git@git.example.com", "keymode 600", "key " + key, "arg BatchMode=yes"} {
				if !strings.Contains(got, want) {
					t.Errorf("ssh invocation lacks %q:\n%s", want, got)
				}
			}
			for _, line := range strings.Split(got, "\n") {
				if kf, ok := strings.CutPrefix(line, "arg "); ok && strings.HasSuffix(kf, "deploy_key") {
					if _, err := os.Stat(kf); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("the deploy key %s survived the fetch: %v", kf, err)
					}
				}
			}
			if strings.Contains(logs.String(), "not-a-real-key") {
				t.Errorf("the key was logged")
			}
		})
	}
}

func TestCancellationKillsGit(t *testing.T) {
	// A server that accepts connections and never answers: git hangs.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	pids := make(chan int, 10)
	onStart = func(pid int) { pids <- pid }
	t.Cleanup(func() { onStart = nil })

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := newClient().Fetch(ctx, &sdk.FetchRequest{Repository: "http://" + lis.Addr().String() + "/repo.git", Ref: "main", Dir: t.TempDir()})
		done <- err
	}()
	var pid int
	select {
	case pid = <-pids:
	case <-time.After(10 * time.Second):
		t.Fatal("git did not start")
	}
	time.Sleep(300 * time.Millisecond) // git-remote-http is now waiting for an answer
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch after cancel = %v, want context.Canceled", err)
		}
		t.Logf("Fetch returned %s after cancel", time.Since(start))
	case <-time.After(waitDelay + 5*time.Second):
		t.Fatal("Fetch did not return after cancel")
	}
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d of git is still alive after cancel", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestListBranches(t *testing.T) {
	f := newFixture(t)
	r, err := newClient().ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: f.bare})
	if err != nil {
		t.Fatal(err)
	}
	want := []sdk.Branch{{Name: "feature", Commit: f.c4}, {Name: "main", Commit: f.c3, Default: true}}
	if fmt.Sprint(r.Branches) != fmt.Sprint(want) {
		t.Errorf("ListBranches = %+v, want %+v", r.Branches, want)
	}
	if _, err := newClient().ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: "-x"}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("ListBranches(-x) = %v, want sdk.ErrInvalidArgument", err)
	}
}

func TestParseRemote(t *testing.T) {
	tests := []struct {
		raw       string
		url       string
		transport Transport
		user      string
		password  string
		bad       bool
	}{
		{raw: "/srv/git/app.git", url: "/srv/git/app.git", transport: TransportLocal},
		{raw: "/srv/git/../git/app.git/", url: "/srv/git/app.git", transport: TransportLocal},
		{raw: "file:///srv/git/app.git", url: "/srv/git/app.git", transport: TransportLocal},
		{raw: "https://github.com/o/r.git", url: "https://github.com/o/r.git", transport: TransportHTTP},
		{raw: "https://u:p%40ss@github.com/o/r.git", url: "https://github.com/o/r.git", transport: TransportHTTP, user: "u", password: "p@ss"},
		{raw: "http://127.0.0.1:8080/r", url: "http://127.0.0.1:8080/r", transport: TransportHTTP},
		{raw: "git@github.com:o/r.git", url: "git@github.com:o/r.git", transport: TransportSSH, user: "git"},
		{raw: "ssh://git@host:2222/o/r.git", url: "ssh://git@host:2222/o/r.git", transport: TransportSSH, user: "git"},
		{raw: "ssh://git:pw@host/o/r.git", url: "ssh://git@host/o/r.git", transport: TransportSSH, user: "git"},
		{raw: "git://host/r.git", url: "git://host/r.git", transport: TransportGit},
		{raw: "", bad: true},
		{raw: "-uhttps://x", bad: true},
		{raw: "ext::sh -c id", bad: true},
		{raw: "fd::17", bad: true},
		{raw: "ftp://host/r", bad: true},
		{raw: "https:///nohost", bad: true},
		{raw: "file://otherhost/x", bad: true},
		{raw: "relative/path", bad: true},
		{raw: "-host:path", bad: true},
		{raw: "ssh://-oProxyCommand=x/r", bad: true},
		{raw: "https://h/r\n.git", bad: true},
	}
	for _, tt := range tests {
		r, err := ParseRemote(tt.raw)
		if tt.bad {
			if !errors.Is(err, sdk.ErrInvalidArgument) {
				t.Errorf("ParseRemote(%q) = %+v, %v; want sdk.ErrInvalidArgument", tt.raw, r, err)
			}
			continue
		}
		if err != nil || r.URL != tt.url || r.Transport != tt.transport || r.Username != tt.user || r.Password != tt.password {
			t.Errorf("ParseRemote(%q) = %+v, %v; want url %q transport %s user %q password %q", tt.raw, r, err, tt.url, tt.transport, tt.user, tt.password)
		}
	}
}

func TestScrubber(t *testing.T) {
	s := newScrubber("s3cret-token", "", "dXNlcjpzM2NyZXQ=")
	tests := []struct{ in, want string }{
		{"fatal: token s3cret-token refused", "fatal: token *** refused"},
		{"Authorization: Basic dXNlcjpzM2NyZXQ=", "Authorization: Basic ***"},
		{"unable to access 'https://user:other-pass@host/r.git/'", "unable to access 'https://user:***@host/r.git/'"},
		{"https://user@host/r.git", "https://user@host/r.git"},
		{"nothing secret", "nothing secret"},
	}
	for _, tt := range tests {
		if got := s.apply(tt.in); got != tt.want {
			t.Errorf("apply(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// client is the git client with the generic provider's default options:
// local repositories allowed, submodules checked out.
type client struct{ opts Options }

func newClient() *client { return &client{opts: Options{AllowLocal: true, Submodules: true}} }

func (c *client) Fetch(ctx context.Context, req *sdk.FetchRequest) (*sdk.FetchResponse, error) {
	return Fetch(ctx, c.opts, req)
}

func (c *client) ListBranches(ctx context.Context, req *sdk.ListBranchesRequest) (*sdk.ListBranchesResponse, error) {
	return ListBranches(ctx, c.opts, req)
}
