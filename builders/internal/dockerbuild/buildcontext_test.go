package dockerbuild

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// writeTree writes files (name -> content) under dir. A content starting
// with "->" makes a symbolic link to the rest.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestContextWriterExcludes(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{
		"a.txt": "a", "b.log": "b", "node_modules/x/y.js": "y", "docs/keep.md": "k", "docs/drop.md": "d",
		"deep/er/file.log": "f", "link": "->/etc",
	})
	tests := []struct {
		name    string
		exclude []string
		want    []string
	}{
		{"nothing excluded", nil, []string{"a.txt", "b.log", "deep/", "deep/er/", "deep/er/file.log", "docs/", "docs/drop.md", "docs/keep.md", "link", "node_modules/", "node_modules/x/", "node_modules/x/y.js"}},
		{"patterns", []string{"*.log", "node_modules"}, []string{"a.txt", "deep/", "deep/er/", "deep/er/file.log", "docs/", "docs/drop.md", "docs/keep.md", "link"}},
		{"any depth", []string{"**/*.log", "node_modules", "link"}, []string{"a.txt", "deep/", "deep/er/", "docs/", "docs/drop.md", "docs/keep.md"}},
		{"exception inside an excluded directory", []string{"docs", "!docs/keep.md", "deep", "node_modules", "link"}, []string{"a.txt", "b.log", "docs/keep.md"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			cw := NewContextWriter(&buf)
			if err := cw.AddDir(t.Context(), src, DirOptions{Exclude: tt.exclude}); err != nil {
				t.Fatal(err)
			}
			if err := cw.Close(); err != nil {
				t.Fatal(err)
			}
			var names []string
			tr := tar.NewReader(&buf)
			for {
				h, err := tr.Next()
				if errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				names = append(names, h.Name)
				if h.Name == "link" && (h.Typeflag != tar.TypeSymlink || h.Linkname != "/etc") {
					t.Errorf("link stored as %c -> %q, want a symbolic link to /etc", h.Typeflag, h.Linkname)
				}
			}
			sort.Strings(names)
			if strings.Join(names, " ") != strings.Join(tt.want, " ") {
				t.Errorf("context = %v, want %v", names, tt.want)
			}
		})
	}
}

func TestResolveInside(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	writeTree(t, root, map[string]string{"a/b.txt": "b", "in": "->a", "out": "->" + outside, "rel-out": "->../"})
	tests := []struct {
		rel  string
		want error
	}{
		{".", nil}, {"", nil}, {"a/b.txt", nil}, {"in/b.txt", nil}, {"a/../a", nil},
		{"..", ErrEscapes}, {"a/../../x", ErrEscapes}, {"/etc", ErrEscapes}, {"out", ErrEscapes}, {"rel-out", ErrEscapes},
		{"missing", fs.ErrNotExist},
	}
	for _, tt := range tests {
		_, err := ResolveInside(root, tt.rel)
		if (tt.want == nil && err != nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("ResolveInside(%q) = %v, want %v", tt.rel, err, tt.want)
		}
	}
}
