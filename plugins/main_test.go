package plugins_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/plugins/index"
)

// binDir holds the plugin binaries built once for all tests.
var binDir string

// packages are the plugin binaries the tests use, by file name.
var packages = []string{
	"github.com/berth-dev/berth/sdk/examples/backup",
	"github.com/berth-dev/berth/sdk/examples/builder",
	"github.com/berth-dev/berth/sdk/examples/gitprovider",
	"github.com/berth-dev/berth/sdk/examples/notifier",
	"github.com/berth-dev/berth/plugins/internal/fixtures/probe",
	"github.com/berth-dev/berth/plugins/internal/fixtures/future",
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-plugins-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	cmd := exec.Command("go", append([]string{"build", "-o", dir + string(os.PathSeparator)}, packages...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building test plugins: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bin returns the path of a built test binary.
func bin(name string) string { return filepath.Join(binDir, name) }

// pluginDir registers the named binaries into a fresh plugin directory.
func pluginDir(t testing.TB, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if _, err := index.Register(context.Background(), dir, bin(n)); err != nil {
			t.Fatalf("registering %s: %v", n, err)
		}
	}
	return dir
}

// newHost returns a Host over a plugin directory with the named binaries,
// closed when the test ends.
func newHost(t testing.TB, opts plugins.Options, names ...string) *plugins.Host {
	t.Helper()
	if opts.Dirs == nil {
		opts.Dirs = []string{pluginDir(t, names...)}
	}
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Info, Output: logs})
	}
	h, err := plugins.New(opts)
	if err != nil {
		t.Fatalf("plugins.New: %v", err)
	}
	t.Cleanup(func() {
		_ = h.Close()
		if t.Failed() {
			t.Logf("host log:\n%s", logs.String())
		}
	})
	return h
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// status returns the listed status of plugin id.
func status(t testing.TB, h *plugins.Host, id string) plugins.Info {
	t.Helper()
	list, err := h.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("List has no %s", id)
	return plugins.Info{}
}

// waitFor polls cond until it holds or the time runs out.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}
