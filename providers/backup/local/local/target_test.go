package local

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/providers/backup/internal/targettest"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// configured returns a Target configured on a new directory, and the
// directory.
func configured(t *testing.T) (*Target, string) {
	t.Helper()
	dir := t.TempDir()
	target := New()
	settings, _ := json.Marshal(Settings{Directory: dir})
	if _, err := target.Configure(t.Context(), &sdk.ConfigureRequest{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	return target, dir
}

// files lists every file and folder under dir, relative and slash-separated.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// expectNoTempFiles waits for the plugin to finish cleaning up (over gRPC
// the client returns before the plugin's Put does) and fails if temporary
// files stay behind.
func expectNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		left = left[:0]
		for _, f := range files(t, dir) {
			if strings.Contains(f, tmpPrefix) {
				left = append(left, f)
			}
		}
		if len(left) == 0 {
			return
		}
	}
	t.Errorf("temporary files left behind: %v", left)
}

// clients returns the target called directly and through the gRPC
// adapters, with its directory.
func clients(t *testing.T) map[string]func(t *testing.T) (sdk.BackupTarget, string) {
	return map[string]func(t *testing.T) (sdk.BackupTarget, string){
		"direct": func(t *testing.T) (sdk.BackupTarget, string) { return configured(t) },
		"grpc": func(t *testing.T) (sdk.BackupTarget, string) {
			target, dir := configured(t)
			return plugintest.BackupTarget(t, target), dir
		},
	}
}

func TestStreaming(t *testing.T) {
	for name, client := range clients(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("unknown_size_20MiB", func(t *testing.T) {
				b, _ := client(t)
				targettest.RoundTripUnknownSize(t, b, "big/dump.sql.gz", 20<<20)
			})
			t.Run("failing_body", func(t *testing.T) {
				b, dir := client(t)
				targettest.FailingBody(t, b, "p/", 4<<20)
				expectNoTempFiles(t, dir)
			})
			t.Run("cancelled", func(t *testing.T) {
				b, dir := client(t)
				targettest.CancelledMidPut(t, b, "p/", 4<<20)
				expectNoTempFiles(t, dir)
			})
			t.Run("wrong_size", func(t *testing.T) {
				b, dir := client(t)
				targettest.WrongSize(t, b, "p/")
				expectNoTempFiles(t, dir)
			})
			t.Run("bad_keys", func(t *testing.T) {
				b, dir := client(t)
				targettest.BadKeysRefused(t, b)
				if left := files(t, dir); len(left) > 0 {
					t.Errorf("bad keys left files: %v", left)
				}
			})
		})
	}
}

func TestReservedNames(t *testing.T) {
	target, _ := configured(t)
	for _, key := range []string{"a.meta.json", "x/.berth-tmp-1", ".berth-probe-2", ".berth-tmp-dir/a"} {
		_, err := target.Put(t.Context(), &sdk.PutRequest{Key: key, Body: strings.NewReader("x"), Size: 1})
		if !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Put(%q) = %v, want sdk.ErrInvalidArgument", key, err)
		}
	}
}

func TestLayoutAndMetadata(t *testing.T) {
	target, dir := configured(t)
	ctx := t.Context()
	put := func(key, body string, meta map[string]string) {
		t.Helper()
		if _, err := target.Put(ctx, &sdk.PutRequest{Key: key, Body: strings.NewReader(body), Size: int64(len(body)), Metadata: meta}); err != nil {
			t.Fatalf("Put(%s): %v", key, err)
		}
	}
	put("db/a.sql", "one", map[string]string{"Database": "shop"})
	put("db-b", "two", nil)
	put("db/sub/c", "three", nil)

	want := []string{"db", "db/a.sql", "db/a.sql.meta.json", "db/sub", "db/sub/c", "db-b"}
	if got := files(t, dir); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("files = %v, want %v", got, want)
	}
	st, err := os.Stat(filepath.Join(dir, "db", "a.sql"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("object file mode = %v (%v), want 0600", st.Mode(), err)
	}
	if st, err := os.Stat(filepath.Join(dir, "db")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("folder mode = %v (%v), want 0700", st.Mode(), err)
	}

	l, err := target.List(ctx, &sdk.ListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range l.Objects {
		keys = append(keys, o.Key)
		if o.Modified.IsZero() || o.Size == 0 {
			t.Errorf("List: %s has size %d, modified %v", o.Key, o.Size, o.Modified)
		}
	}
	// Sorted by key ("db-b" < "db/..." although the folder db is walked first),
	// metadata sidecars hidden.
	if got := strings.Join(keys, ","); got != "db-b,db/a.sql,db/sub/c" {
		t.Errorf("List = %s", got)
	}
	for prefix, want := range map[string]string{"db/": "db/a.sql,db/sub/c", "db/s": "db/sub/c", "db": "db-b,db/a.sql,db/sub/c", "nothing/": ""} {
		l, err := target.List(ctx, &sdk.ListRequest{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		keys = keys[:0]
		for _, o := range l.Objects {
			keys = append(keys, o.Key)
		}
		if got := strings.Join(keys, ","); got != want {
			t.Errorf("List(%q) = %s, want %s", prefix, got, want)
		}
	}

	g, err := target.Get(ctx, &sdk.GetRequest{Key: "db/a.sql"})
	if err != nil {
		t.Fatal(err)
	}
	g.Body.Close()
	if g.Object.Metadata["Database"] != "shop" {
		t.Errorf("metadata = %v", g.Object.Metadata)
	}
	put("db/a.sql", "replaced without metadata", nil)
	if _, err := os.Stat(filepath.Join(dir, "db", "a.sql.meta.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("replacing without metadata kept the old metadata (%v)", err)
	}

	// A key that is a folder of other objects is neither an object nor
	// replaceable.
	if _, err := target.Get(ctx, &sdk.GetRequest{Key: "db/sub"}); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Get(folder) = %v, want sdk.ErrNotFound", err)
	}
	if _, err := target.Put(ctx, &sdk.PutRequest{Key: "db/sub", Body: strings.NewReader("x"), Size: 1}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("Put(folder) = %v, want sdk.ErrInvalidArgument", err)
	}

	// Deleting the last object of a folder removes the folders it empties.
	for _, key := range []string{"db/sub/c", "db/a.sql"} {
		if _, err := target.Delete(ctx, &sdk.DeleteRequest{Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	if got := files(t, dir); strings.Join(got, ",") != "db-b" {
		t.Errorf("files after deleting = %v, want [db-b]", got)
	}
}

func TestSymlinksCannotEscape(t *testing.T) {
	target, dir := configured(t)
	ctx := t.Context()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("top secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A link to a file outside and a link to a folder outside, planted in
	// the backup directory.
	if err := os.Symlink(secret, filepath.Join(dir, "file-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "dir-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../"+filepath.Base(outside)+"/secret", filepath.Join(dir, "relative-link")); err != nil {
		t.Fatal(err)
	}

	for _, key := range []string{"file-link", "dir-link/secret", "relative-link"} {
		if g, err := target.Get(ctx, &sdk.GetRequest{Key: key}); err == nil {
			data, _ := io.ReadAll(g.Body)
			g.Body.Close()
			t.Errorf("Get(%s) followed the link and read %q", key, data)
		}
		if _, err := target.Delete(ctx, &sdk.DeleteRequest{Key: key}); err == nil && key == "dir-link/secret" {
			t.Errorf("Delete(%s) succeeded through a link", key)
		}
	}
	if _, err := target.Put(ctx, &sdk.PutRequest{Key: "dir-link/planted", Body: strings.NewReader("x"), Size: 1}); err == nil {
		t.Errorf("Put(dir-link/planted) wrote through a link to a folder outside")
	}
	// Replacing a link replaces the link, never the file it points to.
	if _, err := target.Put(ctx, &sdk.PutRequest{Key: "file-link", Body: strings.NewReader("new"), Size: 3}); err != nil {
		t.Errorf("Put(file-link): %v", err)
	}
	if data, err := os.ReadFile(secret); err != nil || string(data) != "top secret" {
		t.Errorf("the file outside changed: %q (%v)", data, err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("files appeared outside the directory: %v", entries)
	}
	l, err := target.List(ctx, &sdk.ListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range l.Objects {
		if o.Key != "file-link" { // now a regular file
			t.Errorf("List shows %s, a link", o.Key)
		}
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		settings string
		field    string
	}{
		{`{}`, "directory"},
		{`{"directory": ""}`, "directory"},
		{`{"directory": "relative"}`, "directory"},
		{`{"directory": "/"}`, "directory"},
		{`{"directory": 3}`, "directory"},
		{`{"directory": "/x", "bucket": "b"}`, "bucket"},
	}
	for _, tt := range tests {
		_, err := New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var cfg *sdk.ConfigError
		if !errors.As(err, &cfg) || cfg.Fields[0].Field != tt.field {
			t.Errorf("Configure(%s) = %v, want a field error on %q", tt.settings, err, tt.field)
		}
	}
	if _, err := New().List(t.Context(), &sdk.ListRequest{}); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Errorf("List before Configure = %v, want sdk.ErrNotConfigured", err)
	}
}

func TestTestConnection(t *testing.T) {
	target, dir := configured(t)
	r, err := target.TestConnection(t.Context(), &sdk.TestConnectionRequest{})
	if err != nil || r.Message != "directory "+dir+" is writable" {
		t.Errorf("TestConnection = %+v, %v", r, err)
	}
	if left := files(t, dir); len(left) > 0 {
		t.Errorf("TestConnection left %v", left)
	}

	missing := filepath.Join(dir, "not", "there")
	settings, _ := json.Marshal(Settings{Directory: missing})
	if _, err := target.Configure(t.Context(), &sdk.ConfigureRequest{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	_, err = target.TestConnection(t.Context(), &sdk.TestConnectionRequest{})
	if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), missing+" does not exist") {
		t.Errorf("TestConnection(missing directory) = %v, want sdk.ErrUnavailable naming it", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the missing directory was created")
	}
	if _, err := target.Put(t.Context(), &sdk.PutRequest{Key: "a", Body: bytes.NewReader(nil), Size: 0}); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Put(missing directory) = %v, want sdk.ErrUnavailable", err)
	}
}
