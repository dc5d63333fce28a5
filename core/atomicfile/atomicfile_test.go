package atomicfile_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/core/atomicfile"
)

// failingReader yields some bytes, then fails.
type failingReader struct{ sent bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "partial"), nil
	}
	return 0, errors.New("disk on fire")
}

func TestWrite(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		previous string // "" means no file before
		write    func(ctx context.Context, path string) error
		ctx      context.Context
		want     string // content afterwards
		wantPerm fs.FileMode
		wantErr  string
	}{
		{name: "creates", write: func(ctx context.Context, p string) error {
			return atomicfile.WriteFile(ctx, p, []byte("new"), 0o600)
		}, want: "new", wantPerm: 0o600},
		{name: "replaces", previous: "old", write: func(ctx context.Context, p string) error {
			return atomicfile.WriteFile(ctx, p, []byte("new"), 0o644)
		}, want: "new", wantPerm: 0o644},
		{name: "streams a reader", previous: "old", write: func(ctx context.Context, p string) error {
			return atomicfile.Write(ctx, p, strings.NewReader("streamed"), 0o755)
		}, want: "streamed", wantPerm: 0o755},
		{name: "failed read keeps the previous file", previous: "old", write: func(ctx context.Context, p string) error {
			return atomicfile.Write(ctx, p, &failingReader{}, 0o644)
		}, want: "old", wantPerm: 0o644, wantErr: "disk on fire"},
		{name: "cancelled context writes nothing", previous: "old", ctx: cancelled, write: func(ctx context.Context, p string) error {
			return atomicfile.WriteFile(ctx, p, []byte("new"), 0o644)
		}, want: "old", wantPerm: 0o644, wantErr: "context canceled"},
		{name: "missing directory", write: func(ctx context.Context, p string) error {
			return atomicfile.WriteFile(ctx, filepath.Join(filepath.Dir(p), "sub", "file"), []byte("new"), 0o644)
		}, wantErr: "no such file or directory"},
		{name: "staged elsewhere", previous: "old", write: func(ctx context.Context, p string) error {
			return atomicfile.WriteFile(ctx, p, []byte("new"), 0o644, atomicfile.StageIn(filepath.Dir(filepath.Dir(p))))
		}, want: "new", wantPerm: 0o644},
		{name: "unusable staging directory falls back", previous: "old", write: func(ctx context.Context, p string) error {
			return atomicfile.WriteFile(ctx, p, []byte("new"), 0o644, atomicfile.StageIn("/nonexistent/stage"))
		}, want: "new", wantPerm: 0o644},
		{name: "create makes a new file", write: func(ctx context.Context, p string) error {
			return atomicfile.Create(ctx, p, []byte("new"), 0o600)
		}, want: "new", wantPerm: 0o600},
		{name: "create keeps an existing file", previous: "old", write: func(ctx context.Context, p string) error {
			err := atomicfile.Create(ctx, p, []byte("new"), 0o600)
			if !errors.Is(err, fs.ErrExist) {
				return errors.New("want fs.ErrExist, got " + errString(err))
			}
			return err
		}, want: "old", wantPerm: 0o644, wantErr: "file exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "dir")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "file.yaml")
			if tt.previous != "" {
				if err := os.WriteFile(path, []byte(tt.previous), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			err := tt.write(ctx, path)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.want != "" {
				got, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tt.want {
					t.Errorf("content = %q, want %q", got, tt.want)
				}
				st, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != tt.wantPerm {
					t.Errorf("perm = %v, want %v", st.Mode().Perm(), tt.wantPerm)
				}
			}
			assertNoTemp(t, root)
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// assertNoTemp fails when a temporary file is left anywhere under root.
func assertNoTemp(t *testing.T, root string) {
	t.Helper()
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(d.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

// TestWriteIntoReadOnlyDirectory checks a failure to stage leaves nothing.
func TestWriteIntoReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores directory permissions; a file standing in for the
		// directory fails the same way for everyone.
		dir := t.TempDir()
		notDir := filepath.Join(dir, "plain")
		if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := atomicfile.WriteFile(context.Background(), filepath.Join(notDir, "f"), []byte("new"), 0o644)
		if err == nil {
			t.Fatal("write under a regular file succeeded")
		}
		assertNoTemp(t, dir)
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	if err := atomicfile.WriteFile(context.Background(), path, []byte("new"), 0o644); err == nil {
		t.Fatal("write into a read-only directory succeeded")
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("content = %q, want the previous one", got)
	}
	assertNoTemp(t, dir)
}

// TestRenameOverDirectoryFails checks a failed rename removes the temp file.
func TestRenameOverDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	if err := os.MkdirAll(filepath.Join(path, "child"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(context.Background(), path, []byte("new"), 0o644); err == nil {
		t.Fatal("renaming over a non-empty directory succeeded")
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		t.Errorf("the directory was replaced: %v", err)
	}
	assertNoTemp(t, dir)
}

// TestCreateRace checks that of concurrent Creates exactly one wins and
// every reader sees the winner's complete content.
func TestCreateRace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.key")
	const n = 16
	var wg sync.WaitGroup
	wins := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			content := strings.Repeat(string(rune('a'+i)), 4096)
			err := atomicfile.Create(context.Background(), path, []byte(content), 0o600)
			switch {
			case err == nil:
				wins <- content
			case errors.Is(err, fs.ErrExist):
				got, rerr := os.ReadFile(path)
				if rerr != nil || len(got) != 4096 {
					t.Errorf("a loser read %d bytes (%v), want the complete file", len(got), rerr)
				}
			default:
				t.Errorf("create: %v", err)
			}
		}()
	}
	wg.Wait()
	close(wins)
	var won []string
	for w := range wins {
		won = append(won, w)
	}
	if len(won) != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", len(won))
	}
	if got, _ := os.ReadFile(path); string(got) != won[0] {
		t.Error("the file does not hold the winner's content")
	}
	assertNoTemp(t, dir)
}
