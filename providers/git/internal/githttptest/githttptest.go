// Package githttptest serves local bare repositories over git's smart HTTP
// protocol (the system git http-backend behind net/http/cgi) for the tests
// of berth's hosted git providers, and builds such repositories.
package githttptest

import (
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Repository creates root/owner/name.git, a bare repository whose main
// branch has two commits and whose branch "feature" has one more, and
// returns the head commits of main and feature.
func Repository(t testing.TB, root, owner, name string) (mainHead, featureHead string) {
	t.Helper()
	home := t.TempDir()
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+home)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	bare := filepath.Join(root, owner, name+".git")
	work := filepath.Join(t.TempDir(), "work")
	if err := os.MkdirAll(filepath.Dir(bare), 0o755); err != nil {
		t.Fatal(err)
	}
	git(root, "init", "-q", "--bare", bare)
	git(root, "init", "-q", work)
	commit := func(content string) {
		if err := os.WriteFile(filepath.Join(work, "README"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		git(work, "add", "README")
		git(work, "commit", "-q", "-m", "commit "+content)
	}
	commit("one")
	commit("two")
	mainHead = git(work, "rev-parse", "HEAD")
	git(work, "checkout", "-q", "-b", "feature")
	commit("three")
	featureHead = git(work, "rev-parse", "HEAD")
	git(work, "push", "-q", bare, "main", "feature")
	return mainHead, featureHead
}

// Handler serves the bare repositories under root (GIT_PROJECT_ROOT) with
// git http-backend to clients whose basic credentials pass authorized;
// others get 401 with a Basic challenge. It fails the test when git's exec
// path cannot be found.
func Handler(t testing.TB, root string, authorized func(user, password string) bool) http.Handler {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("githttptest: git --exec-path: %v (is git installed? run `make test`)", err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		if !ok || !authorized(user, password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	})
}
