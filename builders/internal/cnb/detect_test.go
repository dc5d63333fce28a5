package cnb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "package.json"), []byte("{}"), 0o644)
	tests := []struct {
		name   string
		files  map[string]string
		want   bool
		reason string
	}{
		{"node", map[string]string{"package.json": "{}"}, true, "package.json found (Node.js)"},
		{"python", map[string]string{"requirements.txt": "flask"}, true, "requirements.txt found (Python)"},
		{"go", map[string]string{"go.mod": "module x"}, true, "go.mod found (Go)"},
		{"procfile only", map[string]string{"Procfile": "web: ./x"}, true, "Procfile found"},
		{"first marker wins", map[string]string{"Procfile": "web: x", "Gemfile": "x"}, true, "Gemfile found (Ruby)"},
		{"nothing", map[string]string{"index.html": "x"}, false, "no file a buildpack recognises"},
		{"in a subdirectory only", map[string]string{"app/package.json": "{}"}, false, ""},
		{"a directory", map[string]string{"go.mod/x": "x"}, false, ""},
		{"link out of the repository", map[string]string{"package.json": "->" + filepath.Join(outside, "package.json")}, false, ""},
		{"link inside", map[string]string{"package.json": "->web/package.json", "web/package.json": "{}"}, true, "package.json found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if target, ok := strings.CutPrefix(content, "->"); ok {
					os.Symlink(target, p)
					continue
				}
				os.WriteFile(p, []byte(content), 0o644)
			}
			r, err := Detect(dir, CommonMarkers)
			if err != nil {
				t.Fatal(err)
			}
			if r.Detected != tt.want || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("Detect = %v %q, want %v %q", r.Detected, r.Reason, tt.want, tt.reason)
			}
		})
	}
}
