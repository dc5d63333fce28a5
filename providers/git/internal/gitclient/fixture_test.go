package gitclient

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// git runs the system git in dir with a fixed identity and fails the test
// on error.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	base := []string{
		"-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "init.defaultBranch=main",
		"-c", "protocol.file.allow=always", "-c", "advice.detachedHead=false",
	}
	cmd := exec.Command("git", append(base, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFile(t testing.TB, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixture is a bare repository with history, made with the system git:
//
//	main:    c1 (tag v0.1, lightweight) - c2 (tag v1, annotated) - c3 (adds submodule "sub")
//	feature: c3 - c4
//
// The submodule is another bare repository next to it, referenced with the
// relative URL ../sub.git.
type fixture struct {
	root           string // directory holding app.git and sub.git
	bare           string // the repository: root/app.git
	c1, c2, c3, c4 string
	subCommit      string
}

var subjects = map[int]string{1: "first commit", 2: "second commit", 3: "add submodule", 4: "feature work"}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{root: t.TempDir()}
	f.bare = filepath.Join(f.root, "app.git")
	subBare := filepath.Join(f.root, "sub.git")
	git(t, f.root, "init", "-q", "--bare", f.bare)
	git(t, f.root, "init", "-q", "--bare", subBare)

	sub := filepath.Join(f.root, "sub-work")
	git(t, f.root, "init", "-q", sub)
	writeFile(t, filepath.Join(sub, "lib.txt"), "library\n")
	git(t, sub, "add", ".")
	git(t, sub, "commit", "-q", "-m", "library")
	git(t, sub, "push", "-q", subBare, "main")
	f.subCommit = git(t, sub, "rev-parse", "HEAD")

	work := filepath.Join(f.root, "work")
	git(t, f.root, "init", "-q", work)
	git(t, work, "remote", "add", "origin", f.bare)
	commit := func(n int, file, content string) string {
		writeFile(t, filepath.Join(work, file), content)
		git(t, work, "add", ".")
		git(t, work, "commit", "-q", "-m", subjects[n]+"\n\nbody of the message")
		return git(t, work, "rev-parse", "HEAD")
	}
	f.c1 = commit(1, "README", "one\n")
	git(t, work, "tag", "v0.1")
	f.c2 = commit(2, "README", "two\n")
	git(t, work, "tag", "-a", "-m", "release 1", "v1")
	git(t, work, "submodule", "add", "-q", "../sub.git", "sub")
	f.c3 = commit(3, "app.txt", "app\n")
	git(t, work, "checkout", "-q", "-b", "feature")
	f.c4 = commit(4, "feature.txt", "feature\n")
	git(t, work, "push", "-q", "origin", "main", "feature", "--tags")
	return f
}
