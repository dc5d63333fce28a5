package plugintest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

// BackupTargetSuite configures TestBackupTarget.
type BackupTargetSuite struct {
	BaseSuite
	// Prefix is prepended to every key the suite writes; default
	// "plugintest/". The suite deletes its objects when it ends.
	Prefix string
}

// TestBackupTarget runs the conformance suite for backup targets against b:
// the base checks, TestConnection, streamed round trips of a multi-chunk and
// an empty object with metadata, replacement, List, Delete, ErrNotFound for
// missing keys, no partial object after a failed Put, and cancellation.
func TestBackupTarget(t *testing.T, b sdk.BackupTarget, s BackupTargetSuite) {
	t.Helper()
	if s.Prefix == "" {
		s.Prefix = "plugintest/"
	}
	testBase(t, b, sdk.KindBackup, s.BaseSuite)
	key := func(name string) string { return s.Prefix + name }
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		if list, err := b.List(ctx, &sdk.ListRequest{Prefix: s.Prefix}); err == nil {
			for _, o := range list.Objects {
				_, _ = b.Delete(ctx, &sdk.DeleteRequest{Key: o.Key})
			}
		}
	})

	t.Run("test_connection", func(t *testing.T) {
		if _, err := b.TestConnection(testContext(t), &sdk.TestConnectionRequest{}); err != nil {
			t.Fatalf("TestConnection: %v", err)
		}
	})

	big := make([]byte, 3<<20+12345) // several gRPC chunks, not a multiple of any
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		key  string
		data []byte
		meta map[string]string
	}{
		{"large", key("db/2025-01-02.sql.gz"), big, map[string]string{"content-type": "application/gzip"}},
		{"empty", key("db/empty"), nil, nil},
		{"small", key("other/small.txt"), []byte("hello backup\n"), map[string]string{"database": "shop"}},
	}
	for _, c := range cases {
		t.Run("put_get/"+c.name, func(t *testing.T) {
			ctx := testContext(t)
			r, err := b.Put(ctx, &sdk.PutRequest{Key: c.key, Body: bytes.NewReader(c.data), Size: int64(len(c.data)), Metadata: c.meta})
			if err != nil {
				t.Fatalf("Put(%s): %v", c.key, err)
			}
			if r.Size != int64(len(c.data)) {
				t.Errorf("Put(%s) reported size %d, want %d", c.key, r.Size, len(c.data))
			}
			got := get(t, b, c.key)
			if !bytes.Equal(got.data, c.data) {
				t.Errorf("Get(%s) returned %d bytes that differ from the %d put", c.key, len(got.data), len(c.data))
			}
			if got.info.Size != int64(len(c.data)) {
				t.Errorf("Get(%s) Object.Size = %d, want %d", c.key, got.info.Size, len(c.data))
			}
			for k, v := range c.meta {
				if got.info.Metadata[k] != v {
					t.Errorf("Get(%s) metadata %q = %q, want %q", c.key, k, got.info.Metadata[k], v)
				}
			}
		})
	}
	t.Run("put/replaces", func(t *testing.T) {
		ctx := testContext(t)
		k := key("other/replaced")
		for _, body := range []string{"first version, longer", "second"} {
			if _, err := b.Put(ctx, &sdk.PutRequest{Key: k, Body: bytes.NewReader([]byte(body)), Size: int64(len(body))}); err != nil {
				t.Fatalf("Put(%s): %v", k, err)
			}
		}
		if got := get(t, b, k); string(got.data) != "second" {
			t.Errorf("Get after replacing = %q, want %q", got.data, "second")
		}
	})
	t.Run("put/failed_body_leaves_nothing", func(t *testing.T) {
		ctx := testContext(t)
		k := key("partial/broken")
		body := io.MultiReader(bytes.NewReader(big[:1<<20]), errReader{errors.New("disk on fire")})
		if _, err := b.Put(ctx, &sdk.PutRequest{Key: k, Body: body, Size: int64(len(big))}); err == nil {
			t.Fatalf("Put with a failing body succeeded")
		}
		if _, err := b.Get(ctx, &sdk.GetRequest{Key: k}); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Get after a failed Put = %v, want sdk.ErrNotFound (no partial object)", err)
		}
	})
	t.Run("put/cancelled", func(t *testing.T) {
		_, err := b.Put(cancelledContext(), &sdk.PutRequest{Key: key("cancelled"), Body: bytes.NewReader([]byte("x")), Size: 1})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put(cancelled ctx) = %v, want context.Canceled", err)
		}
	})
	t.Run("list", func(t *testing.T) {
		r, err := b.List(testContext(t), &sdk.ListRequest{Prefix: key("db/")})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		var keys []string
		for _, o := range r.Objects {
			keys = append(keys, o.Key)
		}
		want := []string{key("db/2025-01-02.sql.gz"), key("db/empty")}
		if fmt.Sprint(keys) != fmt.Sprint(want) {
			t.Errorf("List(%q) = %v, want %v (sorted, prefix only)", key("db/"), keys, want)
		}
		for _, o := range r.Objects {
			if o.Key == want[0] && o.Size != int64(len(big)) {
				t.Errorf("List: %s has size %d, want %d", o.Key, o.Size, len(big))
			}
		}
	})
	t.Run("get/missing", func(t *testing.T) {
		if _, err := b.Get(testContext(t), &sdk.GetRequest{Key: key("does/not/exist")}); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Get(missing) = %v, want sdk.ErrNotFound", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		ctx := testContext(t)
		k := key("other/small.txt")
		if _, err := b.Delete(ctx, &sdk.DeleteRequest{Key: k}); err != nil {
			t.Fatalf("Delete(%s): %v", k, err)
		}
		if _, err := b.Get(ctx, &sdk.GetRequest{Key: k}); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Get after Delete = %v, want sdk.ErrNotFound", err)
		}
		if _, err := b.Delete(ctx, &sdk.DeleteRequest{Key: k}); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Delete(missing) = %v, want sdk.ErrNotFound", err)
		}
	})
}

type object struct {
	info sdk.ObjectInfo
	data []byte
}

func get(t *testing.T, b sdk.BackupTarget, key string) object {
	t.Helper()
	r, err := b.Get(testContext(t), &sdk.GetRequest{Key: key})
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("Get(%s): reading: %v", key, err)
	}
	return object{info: r.Object, data: data}
}

// errReader fails every read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
