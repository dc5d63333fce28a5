package index_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/plugins/index"
)

// buildProbe builds the probe test plugin into dir.
func buildProbe(t *testing.T, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, "github.com/berth-dev/berth/plugins/internal/fixtures/probe")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func TestGenerateLoadRoundTrip(t *testing.T) {
	root := t.TempDir()
	bins := filepath.Join(root, "bin", "plugins")
	if err := os.MkdirAll(bins, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := buildProbe(t, bins, "berth-notifier-probe")
	if err := os.WriteFile(filepath.Join(bins, "README"), []byte("not a plugin"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, index.FileName)
	if _, err := index.Generate(context.Background(), file, []string{bins}); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := ix.Lookup("notifier.probe")
	if !ok || len(ix.Plugins) != 1 {
		t.Fatalf("index = %+v", ix.Plugins)
	}
	if e.Path != "bin/plugins/berth-notifier-probe" {
		t.Errorf("Path = %q, want it relative to the index", e.Path)
	}
	if ix.BinaryPath(e) != bin {
		t.Errorf("BinaryPath = %q, want %q", ix.BinaryPath(e), bin)
	}
	sum, err := index.Checksum(bin)
	if err != nil || sum != e.SHA256 {
		t.Errorf("SHA256 = %s, want %s (%v)", e.SHA256, sum, err)
	}
	if e.Kind != "notifier" || e.Name != "probe" || len(e.ConfigSchema) == 0 || len(e.ProtocolVersions) == 0 {
		t.Errorf("entry = %+v", e)
	}

	// Deterministic: generating again gives the same bytes.
	before, _ := os.ReadFile(file)
	if _, err := index.Generate(context.Background(), file, []string{bins}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(file)
	if string(before) != string(after) {
		t.Errorf("the index changed between two generations:\n%s\n%s", before, after)
	}
}

func TestGenerateRefusesDuplicatesAndNonPlugins(t *testing.T) {
	dir := t.TempDir()
	a := buildProbe(t, dir, "a")
	b := filepath.Join(dir, "b")
	data, _ := os.ReadFile(a)
	if err := os.WriteFile(b, data, 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "not-a-plugin")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"duplicate id", []string{a, b}, "notifier.probe is both"},
		{"not a plugin", []string{script}, "not a plugin description"},
		{"missing", []string{filepath.Join(dir, "nope")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := index.Generate(context.Background(), filepath.Join(t.TempDir(), index.FileName), tt.paths)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Generate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadValidates(t *testing.T) {
	const sum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	entry := func(id, sha string) string {
		return `{"id":"` + id + `","kind":"notifier","name":"` + strings.TrimPrefix(id, "notifier.") + `","version":"1","protocol_versions":[1],"capabilities":[],"config_schema":{"type":"object"},"path":"x","sha256":"` + sha + `"}`
	}
	tests := []struct {
		name, body, want string
	}{
		{"valid", `{"version":1,"plugins":[` + entry("notifier.a", sum) + `]}`, ""},
		{"empty", `{"version":1,"plugins":[]}`, ""},
		{"wrong format", `{"version":2,"plugins":[]}`, "format version 2"},
		{"not json", `{`, "unexpected end"},
		{"duplicate", `{"version":1,"plugins":[` + entry("notifier.a", sum) + `,` + entry("notifier.a", sum) + `]}`, "listed twice"},
		{"bad sha", `{"version":1,"plugins":[` + entry("notifier.a", "abc") + `]}`, "not a hex sha256"},
		{"bad id", `{"version":1,"plugins":[` + entry("notifier.A", sum) + `]}`, "must match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), index.FileName)
			if err := os.WriteFile(file, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := index.Load(file)
			if tt.want == "" {
				if err != nil {
					t.Errorf("Load = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := index.Load(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestRegister(t *testing.T) {
	build := t.TempDir()
	bin := buildProbe(t, build, "probe")
	dir := filepath.Join(t.TempDir(), "plugins")
	e, err := index.Register(context.Background(), dir, bin)
	if err != nil {
		t.Fatal(err)
	}
	if e.Path != "probe" {
		t.Errorf("Path = %q, want the copy inside the directory", e.Path)
	}
	ix, err := index.Load(filepath.Join(dir, index.FileName))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := ix.Lookup("notifier.probe")
	if !ok || ix.BinaryPath(got) != filepath.Join(dir, "probe") {
		t.Fatalf("index = %+v", ix.Plugins)
	}
	// Registering again (an upgrade) replaces the entry.
	if _, err := index.Register(context.Background(), dir, bin); err != nil {
		t.Fatal(err)
	}
	if ix, _ := index.Load(filepath.Join(dir, index.FileName)); len(ix.Plugins) != 1 {
		t.Errorf("re-registering duplicated the entry: %+v", ix.Plugins)
	}
	// A file that is no plugin is refused and not copied.
	script := filepath.Join(build, "tool")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := index.Register(context.Background(), dir, script); err == nil {
		t.Errorf("Register accepted a non-plugin")
	}
	if _, err := os.Stat(filepath.Join(dir, "tool")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused binary was copied into the plugin directory")
	}
}
