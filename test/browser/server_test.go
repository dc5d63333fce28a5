package browser_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/test/berthtest"
)

// startServer starts a berth server (see package berthtest) whose
// first-run setup the test does through the dashboard.
func startServer(t *testing.T) *berthtest.T {
	t.Helper()
	return berthtest.Run(t, bins, berthtest.Options{Prefix: "ui", NoSetup: true})
}

// gitRepo is a local repository standing in for the remote.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *gitRepo {
	t.Helper()
	r := &gitRepo{t: t, dir: filepath.Join(t.TempDir(), "repo")}
	r.git("init", "-q", "-b", "main", r.dir)
	r.git("-C", r.dir, "config", "user.email", "dev@example.com")
	r.git("-C", r.dir, "config", "user.name", "Dev")
	return r
}

func (r *gitRepo) git(args ...string) {
	r.t.Helper()
	if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// commitApp commits the test backend with a Dockerfile answering
// "<message> <path>"; the build sleeps a few seconds so its log is seen
// streaming.
func (r *gitRepo) commitApp(message string) {
	r.t.Helper()
	bin, err := os.ReadFile(bins.Backend)
	if err != nil {
		r.t.Fatal(err)
	}
	dockerfile := strings.Join([]string{
		"FROM scratch",
		"COPY app /app",
		`RUN ["/app", "sleep", "3s"]`,
		"ENV MESSAGE=" + message,
		`HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ["/app", "healthcheck"]`,
		`ENTRYPOINT ["/app"]`,
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(r.dir, "app"), bin, 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git("-C", r.dir, "add", "-A")
	r.git("-C", r.dir, "commit", "-q", "-m", message)
}
