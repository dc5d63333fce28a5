package berthtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Repo is a local git repository standing in for a remote one.
type Repo struct {
	// Dir is the repository's work tree.
	Dir     string
	t       testing.TB
	backend string
}

// NewRepo creates an empty repository on branch main with a committer set;
// Commit copies bins.Backend where asked.
func NewRepo(t testing.TB, bins *Binaries) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: filepath.Join(t.TempDir(), "repo"), backend: bins.Backend}
	r.Git("init", "-q", "-b", "main", r.Dir)
	r.Git("-C", r.Dir, "config", "user.email", "dev@example.com")
	r.Git("-C", r.Dir, "config", "user.name", "Dev")
	return r
}

// Git runs git with args (pass "-C", r.Dir to run it in the repository)
// and returns its trimmed output, failing the test on an error.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	out, err := exec.Command("git", args...).CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit writes files (name -> content; content "@backend" copies the test
// backend binary, executable) and commits everything with message msg.
func (r *Repo) Commit(msg string, files map[string]string) {
	r.t.Helper()
	for name, content := range files {
		path := filepath.Join(r.Dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			r.t.Fatal(err)
		}
		data, mode := []byte(content), os.FileMode(0o644)
		if content == "@backend" {
			var err error
			if data, err = os.ReadFile(r.backend); err != nil {
				r.t.Fatal(err)
			}
			mode = 0o755
		}
		if err := os.WriteFile(path, data, mode); err != nil {
			r.t.Fatal(err)
		}
	}
	r.Git("-C", r.Dir, "add", "-A")
	r.Git("-C", r.Dir, "commit", "-q", "-m", msg)
}
