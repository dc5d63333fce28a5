package railpack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

func TestExtractMise(t *testing.T) {
	tarball := func(name string) []byte {
		var b bytes.Buffer
		gz := gzip.NewWriter(&b)
		tw := tar.NewWriter(gz)
		for _, n := range []string{"package/README.md", name} {
			_ = tw.WriteHeader(&tar.Header{Name: n, Mode: 0o755, Size: 4, Typeflag: tar.TypeReg})
			_, _ = tw.Write([]byte("MISE"))
		}
		tw.Close()
		gz.Close()
		return b.Bytes()
	}
	cases := []struct {
		name    string
		in      []byte
		wantErr bool
	}{
		{"npm tarball", tarball("package/bin/mise"), false},
		{"the binary itself", []byte("MISE"), false},
		{"a tarball without mise", tarball("package/bin/other"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := extractMise(bytes.NewReader(c.in), &out)
			if (err != nil) != c.wantErr {
				t.Fatalf("extractMise = %v, want error %v", err, c.wantErr)
			}
			if !c.wantErr && out.String() != "MISE" {
				t.Errorf("extracted %q", out.String())
			}
		})
	}
}

func TestOwnedOnly(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(shared, 0o777)
	link := filepath.Join(dir, "link")
	os.Symlink(dir, link)
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o755)
	cases := []struct {
		path string
		dir  bool
		ok   bool
	}{
		{dir, true, true},
		{file, false, true},
		{shared, true, false},
		{link, true, false},
		{file, true, false},
	}
	for _, c := range cases {
		if err := ownedOnly(c.path, c.dir); (err == nil) != c.ok {
			t.Errorf("ownedOnly(%s, %v) = %v, want ok %v", c.path, c.dir, err, c.ok)
		}
	}
}
