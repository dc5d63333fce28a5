// Package gitfixture helps the tests of berth's hosted git provider
// plugins: it makes real bare git repositories with the system git, serves
// them over git's smart HTTP protocol (git http-backend) behind basic
// authentication, the way a hosted git service does, and collects the log
// of a fetch.
package gitfixture

import (
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

// Repository is a bare repository made by New.
type Repository struct {
	// Path is the bare repository's directory.
	Path string
	// Main and Feature are the head commits of the branches "main" and
	// "feature" (Feature is one commit ahead of Main).
	Main, Feature string
}

// New creates a bare repository at root/name (for example
// root/"group/app.git") with two commits on "main" and a branch "feature"
// one commit further. It fails the test when git is missing.
func New(t testing.TB, root, name string) *Repository {
	t.Helper()
	r := &Repository{Path: filepath.Join(root, filepath.FromSlash(name))}
	if err := os.MkdirAll(filepath.Dir(r.Path), 0o755); err != nil {
		t.Fatal(err)
	}
	Git(t, root, "init", "-q", "--bare", r.Path)
	work := t.TempDir()
	Git(t, work, "init", "-q", ".")
	commit := func(file, content, message string) string {
		if err := os.WriteFile(filepath.Join(work, file), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		Git(t, work, "add", file)
		Git(t, work, "commit", "-q", "-m", message)
		return Git(t, work, "rev-parse", "HEAD")
	}
	commit("README", "one\n", "first commit")
	r.Main = commit("README", "two\n", "second commit")
	Git(t, work, "checkout", "-q", "-b", "feature")
	r.Feature = commit("feature.txt", "feature\n", "feature work")
	Git(t, work, "push", "-q", r.Path, "main", "feature")
	return r
}

// Git runs the system git in dir with a fixed identity and a private HOME,
// and returns its trimmed output. It fails the test on error (run `make
// test-deps` to install git).
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	base := []string{"-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "init.defaultBranch=main"}
	cmd := exec.Command("git", append(base, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s\n(git is required: run `make test` to install it)", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// SmartHTTP returns a handler serving the repositories under root with git
// http-backend. authorized decides, from the request's basic credentials,
// whether it may proceed; otherwise it is answered 401 with a Basic
// challenge, as hosted git services do.
func SmartHTTP(t testing.TB, root string, authorized func(user, password string, ok bool) bool) http.Handler {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v (git is required: run `make test` to install it)", err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !authorized(r.BasicAuth()) {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "HTTP Basic: Access denied", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	})
}

// IsGitRequest reports whether a request is for git's smart HTTP protocol
// (info/refs, git-upload-pack or git-receive-pack under a .git path).
func IsGitRequest(r *http.Request) bool {
	p := r.URL.Path
	return strings.Contains(p, ".git/") &&
		(strings.HasSuffix(p, "/info/refs") || strings.HasSuffix(p, "/git-upload-pack") || strings.HasSuffix(p, "/git-receive-pack"))
}

// Log collects the log lines of a fetch; it is safe for concurrent use.
type Log struct {
	mu    sync.Mutex
	lines []string
}

// Line records a line; pass it as sdk.FetchRequest.Log.
func (l *Log) Line(line sdk.LogLine) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line.Text)
}

// String returns the lines recorded, one a line.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
