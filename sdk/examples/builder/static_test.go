package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func site(t testing.TB, dir string) {
	t.Helper()
	files := map[string]string{
		"index.html":      "<h1>hello</h1>",
		"about.html":      "<p>about</p>",
		"assets/site.css": "body{}",
		".git/HEAD":       "ref: refs/heads/main",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var suite = plugintest.BuilderSuite{
	Source:      site,
	AppSettings: json.RawMessage(`{"root": "."}`),
	Image:       "example/site:1",
	CheckImage: func(t testing.TB, r *sdk.BuildResponse) {
		if !strings.HasPrefix(r.Digest, "sha256:") {
			t.Errorf("Digest = %q, want sha256:...", r.Digest)
		}
	},
}

func TestConformanceInProcess(t *testing.T) {
	plugintest.TestBuilder(t, plugintest.Builder(t, &Static{}), suite)
}

func TestConformanceSubprocess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := plugintest.BuildPlugin(t, ".")
	plugintest.TestBuilder(t, plugintest.Launch(t, bin).(sdk.Builder), suite)
}

func TestBuildLogsEachFileAndSkipsDotDirs(t *testing.T) {
	dir := t.TempDir()
	site(t, dir)
	var lines []string
	r, err := (&Static{}).Build(t.Context(), &sdk.BuildRequest{
		SourceDir: dir, Image: "x:1",
		Log: func(l sdk.LogLine) { lines = append(lines, l.Text) },
	})
	if err != nil {
		t.Fatal(err)
	}
	log := strings.Join(lines, "\n")
	for _, want := range []string{"adding about.html", "adding assets/site.css", "adding index.html"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, ".git") {
		t.Errorf("log mentions .git:\n%s", log)
	}
	if r.Image != "x:1" {
		t.Errorf("Image = %q", r.Image)
	}
}

// TestSettingsSchema checks the hand-written schema describes the settings
// type Configure decodes: one source of truth.
func TestSettingsSchema(t *testing.T) {
	plugintest.CheckSettingsSchema(t, json.RawMessage(appSchema), appSettings{})
}
