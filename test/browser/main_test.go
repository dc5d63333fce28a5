// Package browser_test drives berth's web dashboard in headless Chromium
// (Debian's chromium package) with chromedp, against a whole `berth server`
// with Docker Swarm, Traefik and the plugins, and saves screenshots of the
// main pages under test-artifacts/screenshots/.
package browser_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Built once by TestMain.
var (
	repoRoot    string
	berthBin    string
	pluginIndex string
	backendBin  string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "berth-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o711)
	wd, _ := os.Getwd()
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	berthBin = filepath.Join(dir, "berth")
	backendBin = filepath.Join(dir, "backend")
	pluginDir := filepath.Join(dir, "plugins")
	pluginIndex = filepath.Join(dir, "plugin-index.json")
	if err := build(pluginDir); err != nil {
		fmt.Fprintf(os.Stderr, "browser tests: %v\n", err)
		return 1
	}
	return m.Run()
}

// build compiles berth, the test backend and the plugins into their own
// directory (not bin/plugins, which other test packages rebuild meanwhile),
// then indexes the plugins.
func build(pluginDir string) error {
	if err := goCmd(nil, "build", "-o", berthBin, "./cmd/berth"); err != nil {
		return err
	}
	if err := goCmd([]string{"CGO_ENABLED=0"}, "build", "-o", backendBin, "./test/backend"); err != nil {
		return err
	}
	var patterns []string
	for _, d := range []string{"builders", "providers", "notifiers"} {
		if _, err := os.Stat(filepath.Join(repoRoot, d)); err == nil {
			patterns = append(patterns, "./"+d+"/...")
		}
	}
	cmd := exec.Command("go", append([]string{"list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`}, patterns...)...)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("list plugins: %w", err)
	}
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		return err
	}
	const module = "github.com/berth-dev/berth/"
	for _, pkg := range strings.Fields(string(out)) {
		// builders/dockerfile -> berth-builder-dockerfile, providers/git/generic -> berth-git-generic
		rel := strings.TrimPrefix(pkg, module)
		rel = strings.NewReplacer("builders/", "builder/", "notifiers/", "notifier/", "providers/", "").Replace(rel)
		name := "berth-" + strings.ReplaceAll(rel, "/", "-")
		if err := goCmd([]string{"CGO_ENABLED=0"}, "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(pluginDir, name), pkg); err != nil {
			return err
		}
	}
	return goCmd(nil, "run", "./tools/plugindex", "-o", pluginIndex, pluginDir)
}

func goCmd(env []string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
