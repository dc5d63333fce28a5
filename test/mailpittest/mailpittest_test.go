package mailpittest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// TestScriptPinsVersion checks the fixture script builds the version the
// tests look for, where they look for it.
func TestScriptPinsVersion(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, Script))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^mailpit_version=(\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s does not set mailpit_version=", Script)
	}
	if string(m[1]) != Version {
		t.Errorf("%s builds mailpit %s, the tests run %s", Script, m[1], Version)
	}
	if !regexp.MustCompile(`dir="\$PWD/\.cache/mailpit/\$mailpit_version"`).Match(b) {
		t.Errorf("%s does not build into .cache/mailpit/<version>/ (Path)", Script)
	}
	if got, want := Path(root), filepath.Join(root, ".cache", "mailpit", Version, "mailpit"); got != want {
		t.Errorf("Path = %s, want %s", got, want)
	}
}

// TestBinaryFailsWhenMissing checks a missing binary fails the test with
// the command that builds it, rather than building it or skipping.
func TestBinaryFailsWhenMissing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module github.com/berth-dev/berth\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Binary(rec)
	}()
	<-done
	if !rec.failed || !regexp.MustCompile("make test-deps").MatchString(rec.msg) {
		t.Errorf("Binary with no mailpit: failed=%v message %q, want a failure naming `make test-deps`", rec.failed, rec.msg)
	}
	if _, err := os.Stat(filepath.Join(dir, ".cache")); !os.IsNotExist(err) {
		t.Errorf("Binary created %s/.cache (err %v): it must not build", dir, err)
	}
}

// TestBinaryPresent checks the binary `make test-deps` built is there.
func TestBinaryPresent(t *testing.T) {
	if bin := Binary(t); filepath.Base(bin) != "mailpit" {
		t.Errorf("Binary = %s", bin)
	}
}

// recorder is a testing.TB whose Fatalf records the failure and ends the
// goroutine, so a test can check another fails.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed = true
	r.msg = fmt.Sprint(args...)
	runtime.Goexit()
}
