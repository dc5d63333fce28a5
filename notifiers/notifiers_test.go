// Package notifiers_test checks what ships with the notifier plugins under
// notifiers/: each folder has its documentation page, linked from the
// index, and its entry in plugin-index.json.
package notifiers_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plugins lists the notifier folders (notifiers/<name> with a main.go).
func plugins(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(e.Name(), "main.go")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	if len(names) < 12 {
		t.Fatalf("found %d notifier folders (%v), want at least the 12 shipped", len(names), names)
	}
	return names
}

func TestEveryNotifierIsDocumented(t *testing.T) {
	index, err := os.ReadFile(filepath.Join("..", "docs", "notifiers", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "(docs/notifiers/README.md)") {
		t.Error("README.md does not link docs/notifiers/README.md")
	}
	for _, name := range plugins(t) {
		page := filepath.Join("..", "docs", "notifiers", name+".md")
		b, err := os.ReadFile(page)
		if err != nil {
			t.Errorf("notifier.%s has no page: %v", name, err)
			continue
		}
		if title, _, _ := strings.Cut(string(b), "\n"); !strings.HasPrefix(title, "# ") || !strings.Contains(title, "notifier."+name) {
			t.Errorf("%s: title %q does not name notifier.%s", page, title, name)
		}
		if !strings.Contains(string(index), "]("+name+".md)") {
			t.Errorf("docs/notifiers/README.md does not link %s.md", name)
		}
	}
}

func TestEveryNotifierIsIndexed(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "plugin-index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Plugins []struct {
			ID     string `json:"id"`
			Binary string `json:"binary"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, p := range index.Plugins {
		ids[p.ID] = true
	}
	for _, name := range plugins(t) {
		if !ids["notifier."+name] {
			t.Errorf("plugin-index.json does not list notifier.%s: run `make build` and commit plugin-index.json", name)
		}
	}
}
