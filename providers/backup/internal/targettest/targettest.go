// Package targettest holds the checks that the tests of every backup target
// shipped with berth run, beyond the sdk/plugintest conformance suite:
// streaming a large body of unknown size, bodies that fail or are cancelled
// halfway, bodies of the wrong size, and keys that try to escape.
package targettest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

// RoundTripUnknownSize puts size bytes of pseudo-random data under key with
// Size -1, streamed, reads the object back and checks that both sides hash
// to the same sha256. Neither side holds the whole object in memory.
func RoundTripUnknownSize(t *testing.T, b sdk.BackupTarget, key string, size int64) {
	t.Helper()
	ctx := t.Context()
	sent := sha256.New()
	body := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{1, 2, 3}), size), sent)
	r, err := b.Put(ctx, &sdk.PutRequest{Key: key, Body: onlyReader{body}, Size: -1, Metadata: map[string]string{"sha": "yes"}})
	if err != nil {
		t.Fatalf("Put(%s, %d bytes, Size -1): %v", key, size, err)
	}
	if r.Size != size {
		t.Errorf("Put reported %d bytes, want %d", r.Size, size)
	}
	g, err := b.Get(ctx, &sdk.GetRequest{Key: key})
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	defer g.Body.Close()
	got := sha256.New()
	n, err := io.Copy(got, g.Body)
	if err != nil {
		t.Fatalf("Get(%s): reading: %v", key, err)
	}
	if n != size || g.Object.Size != size {
		t.Errorf("Get(%s) returned %d bytes, Object.Size %d, want %d", key, n, g.Object.Size, size)
	}
	if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Errorf("Get(%s): sha256 %x differs from the sha256 %x put", key, got.Sum(nil), sent.Sum(nil))
	}
	if g.Object.Metadata["sha"] != "yes" {
		t.Errorf("Get(%s) metadata = %v, want sha=yes", key, g.Object.Metadata)
	}
}

// FailingBody puts a body that fails after half of its bytes (with Size
// known, and with Size -1) under prefix, and checks that the Put fails and
// leaves nothing: List(prefix) is empty and Get is sdk.ErrNotFound.
func FailingBody(t *testing.T, b sdk.BackupTarget, prefix string, size int64) {
	t.Helper()
	for _, declared := range []int64{size, -1} {
		key := prefix + "failing"
		body := io.MultiReader(io.LimitReader(rand.NewChaCha8([32]byte{4}), size/2), errReader{errors.New("disk on fire")})
		if _, err := b.Put(t.Context(), &sdk.PutRequest{Key: key, Body: body, Size: declared}); err == nil {
			t.Fatalf("Put with a body failing halfway (Size %d) succeeded", declared)
		}
		ExpectNothing(t, b, prefix)
	}
}

// CancelledMidPut cancels the context of a Put after half of its body was
// read, and checks that the Put fails with context.Canceled and leaves
// nothing under prefix.
func CancelledMidPut(t *testing.T, b sdk.BackupTarget, prefix string, size int64) {
	t.Helper()
	for _, declared := range []int64{size, -1} {
		ctx, cancel := context.WithCancel(t.Context())
		body := &cancellingReader{r: io.LimitReader(rand.NewChaCha8([32]byte{5}), size), after: size / 2, cancel: cancel}
		_, err := b.Put(ctx, &sdk.PutRequest{Key: prefix + "cancelled", Body: body, Size: declared})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put cancelled halfway (Size %d) = %v, want context.Canceled", declared, err)
		}
		ExpectNothing(t, b, prefix)
	}
}

// WrongSize puts bodies shorter and longer than their declared Size and
// checks that each Put fails and leaves nothing under prefix.
func WrongSize(t *testing.T, b sdk.BackupTarget, prefix string) {
	t.Helper()
	for _, c := range []struct {
		body     string
		declared int64
	}{{"short", 10}, {"longer than said", 3}} {
		_, err := b.Put(t.Context(), &sdk.PutRequest{Key: prefix + "sized", Body: bytes.NewReader([]byte(c.body)), Size: c.declared})
		if err == nil {
			t.Errorf("Put of %d bytes with Size %d succeeded", len(c.body), c.declared)
		}
		ExpectNothing(t, b, prefix)
	}
}

// BadKeys are keys every target refuses.
var BadKeys = []string{"", "/etc/passwd", "../escape", "a/../../escape", "a//b", "a/./b", "trailing/", `back\slash`, "nul\x00byte", "line\nbreak"}

// BadKeysRefused checks that Put, Get and Delete refuse every one of
// BadKeys with sdk.ErrInvalidArgument.
func BadKeysRefused(t *testing.T, b sdk.BackupTarget) {
	t.Helper()
	ctx := t.Context()
	for _, key := range BadKeys {
		if _, err := b.Put(ctx, &sdk.PutRequest{Key: key, Body: bytes.NewReader([]byte("x")), Size: 1}); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Put(%q) = %v, want sdk.ErrInvalidArgument", key, err)
		}
		if _, err := b.Get(ctx, &sdk.GetRequest{Key: key}); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Get(%q) = %v, want sdk.ErrInvalidArgument", key, err)
		}
		if _, err := b.Delete(ctx, &sdk.DeleteRequest{Key: key}); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Delete(%q) = %v, want sdk.ErrInvalidArgument", key, err)
		}
	}
	for _, prefix := range []string{"/", "../", "/etc/"} {
		if _, err := b.List(ctx, &sdk.ListRequest{Prefix: prefix}); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("List(%q) = %v, want sdk.ErrInvalidArgument", prefix, err)
		}
	}
}

// ExpectNothing checks that no object is listed under prefix and that the
// keys the checks of this package write are not found.
func ExpectNothing(t *testing.T, b sdk.BackupTarget, prefix string) {
	t.Helper()
	ctx := t.Context()
	l, err := b.List(ctx, &sdk.ListRequest{Prefix: prefix})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	if len(l.Objects) > 0 {
		t.Errorf("List(%q) = %v, want nothing", prefix, l.Objects)
	}
	for _, name := range []string{"failing", "cancelled", "sized"} {
		if _, err := b.Get(ctx, &sdk.GetRequest{Key: prefix + name}); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Get(%s) = %v, want sdk.ErrNotFound", prefix+name, err)
		}
	}
}

// onlyReader hides every method but Read (io.WriterTo and the like), as
// a network stream would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// errReader fails every read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// cancellingReader calls cancel once after bytes were read, then keeps
// delivering data, as a producer unaware of the cancellation would.
type cancellingReader struct {
	r      io.Reader
	after  int64
	read   int64
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.read >= c.after {
		c.cancel()
	}
	return n, err
}
