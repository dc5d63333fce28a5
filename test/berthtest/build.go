// Package berthtest runs real berth servers for berth's end-to-end tests,
// browser tests and benchmark: the `berth server` binary with its own name,
// data directory, embedded PostgreSQL, Traefik container and ports, started,
// killed (as in a crash), restarted, set up with an administrator and an API
// key, and removed with its Docker objects at the end.
//
// Build compiles the binaries once per test binary (Main does it in
// TestMain); New and Server's methods return errors (the benchmark uses them
// outside tests); Run wraps them for a test, which fails on any error and
// gets the server's log when it fails.
package berthtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Binaries are the programs Build compiled, in their own directory.
type Binaries struct {
	// Dir holds the binaries; other OS users (the embedded PostgreSQL's)
	// can traverse it.
	Dir string
	// Berth is the berth binary.
	Berth string
	// Backend is the test backend (test/backend), static, for images.
	Backend string
	// PluginIndex is the plugin index of the plugins built into Dir/plugins,
	// or "" without BuildOptions.Plugins.
	PluginIndex string
	// Root is the repository root.
	Root string
}

// BuildOptions says what Build compiles besides berth and the test backend.
type BuildOptions struct {
	// Plugins builds every plugin shipped with berth (builders, notifiers,
	// providers) and indexes them.
	Plugins bool
	// Examples also builds the SDK's example plugins (sdk/examples/<kind>
	// as berth-example-<kind>); it implies Plugins.
	Examples bool
}

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Build compiles berth, the test backend and (as o asks) the plugins into a
// new temporary directory, which Remove deletes. Plugins go to their own
// directory, not bin/plugins, which other test packages rebuild meanwhile;
// their names are those of scripts/plugins.sh.
func Build(ctx context.Context, o BuildOptions) (*Binaries, error) {
	dir, err := os.MkdirTemp("", "berth-bin-")
	if err != nil {
		return nil, fmt.Errorf("binaries directory: %w", err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("binaries directory: %w", err)
	}
	b := &Binaries{Dir: dir, Berth: filepath.Join(dir, "berth"), Backend: filepath.Join(dir, "backend"), Root: RepoRoot()}
	if err := b.build(ctx, o); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return b, nil
}

// Remove deletes the binaries.
func (b *Binaries) Remove() error { return os.RemoveAll(b.Dir) }

func (b *Binaries) build(ctx context.Context, o BuildOptions) error {
	// Static (CGO_ENABLED=0): berth packages its own binary into the
	// maintenance pages image (core/pagesvc), which is FROM scratch.
	if err := b.goCmd(ctx, []string{"CGO_ENABLED=0"}, "build", "-o", b.Berth, "./cmd/berth"); err != nil {
		return err
	}
	if err := b.goCmd(ctx, []string{"CGO_ENABLED=0"}, "build", "-o", b.Backend, "./test/backend"); err != nil {
		return err
	}
	if !o.Plugins && !o.Examples {
		return nil
	}
	var patterns []string
	for _, d := range []string{"builders", "notifiers", "providers"} {
		if _, err := os.Stat(filepath.Join(b.Root, d)); err == nil {
			patterns = append(patterns, "./"+d+"/...")
		}
	}
	if o.Examples {
		patterns = append(patterns, "github.com/berth-dev/berth/sdk/examples/...")
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`}, patterns...)...)
	cmd.Dir = b.Root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("list plugins: %w", err)
	}
	pluginDir := filepath.Join(b.Dir, "plugins")
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		return fmt.Errorf("plugins directory: %w", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		name, ok := pluginName(pkg)
		if !ok {
			continue
		}
		if err := b.goCmd(ctx, []string{"CGO_ENABLED=0"}, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", filepath.Join(pluginDir, name), pkg); err != nil {
			return err
		}
	}
	b.PluginIndex = filepath.Join(b.Dir, "plugin-index.json")
	return b.goCmd(ctx, nil, "run", "./tools/plugindex", "-o", b.PluginIndex, pluginDir)
}

// pluginName names the binary of plugin package pkg as scripts/plugins.sh
// does: builders/dockerfile -> berth-builder-dockerfile,
// providers/git/generic -> berth-git-generic, sdk/examples/notifier ->
// berth-example-notifier.
func pluginName(pkg string) (string, bool) {
	rel := strings.TrimPrefix(pkg, "github.com/berth-dev/berth/")
	for _, m := range []struct{ dir, prefix string }{
		{"builders/", "builder-"}, {"notifiers/", "notifier-"}, {"providers/git/", "git-"},
		{"providers/backup/", "backup-"}, {"sdk/examples/", "example-"},
	} {
		if rest, ok := strings.CutPrefix(rel, m.dir); ok {
			return "berth-" + m.prefix + strings.ReplaceAll(rest, "/", "-"), true
		}
	}
	return "", false
}

func (b *Binaries) goCmd(ctx context.Context, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = b.Root
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Main builds the binaries o asks for into *bins, runs the tests and
// removes the binaries; TestMain calls os.Exit(berthtest.Main(m, o, &bins)).
func Main(m *testing.M, o BuildOptions, bins **Binaries) int {
	b, err := Build(context.Background(), o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "berthtest: %v\n", err)
		return 1
	}
	defer b.Remove()
	*bins = b
	return m.Run()
}
