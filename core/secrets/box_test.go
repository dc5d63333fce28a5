package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	box, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	sealed := box.SealString("variable:value", "hunter2")

	tests := []struct {
		name    string
		box     *Box
		context string
		data    []byte
		want    string
		wantErr bool
	}{
		{"round trip", box, "variable:value", sealed, "hunter2", false},
		{"wrong context", box, "domain:key", sealed, "", true},
		{"wrong key", other, "variable:value", sealed, "", true},
		{"truncated", box, "variable:value", sealed[:10], "", true},
		{"tampered", box, "variable:value", flip(sealed), "", true},
		{"empty", box, "variable:value", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.OpenString(tt.context, tt.data)
			if tt.wantErr {
				if !errors.Is(err, ErrDecrypt) {
					t.Fatalf("err = %v, want ErrDecrypt", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	if bytes.Equal(sealed, box.SealString("variable:value", "hunter2")) {
		t.Fatal("two seals of the same value are identical (nonce reuse)")
	}
}

func flip(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[len(c)-1] ^= 1
	return c
}

func TestNewRejectsShortKey(t *testing.T) {
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("want error for short key")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, err := LoadOrCreateKey(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Fatal("key changed between loads")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("key directory holds %d entries, want only the key (no temp file)", len(entries))
	}
}

// TestLoadOrCreateKeyRefusesDamagedFiles checks that an existing key file
// that does not hold a whole key is refused with a clear error and kept.
func TestLoadOrCreateKeyRefusesDamagedFiles(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "is empty"},
		{"only a newline", "\n", "is empty"},
		{"short", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, KeySize/2)) + "\n", "does not hold a base64 32-byte key"},
		{"truncated base64", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, KeySize))[:20], "does not hold"},
		{"garbage", "garbage", "does not hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret.key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreateKey(context.Background(), path)
			if !errors.Is(err, ErrBadKeyFile) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrBadKeyFile saying %q", err, tt.want)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Errorf("the damaged file was changed to %q", got)
			}
		})
	}
}

// TestLoadOrCreateKeyConcurrentStarts checks that servers starting at once
// all end up with the same key.
func TestLoadOrCreateKeyConcurrentStarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], errs[i] = LoadOrCreateKey(context.Background(), path)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("start %d got another key", i)
		}
	}
}

func TestDeriveIsPurposeSpecific(t *testing.T) {
	box, _ := New(bytes.Repeat([]byte{1}, KeySize))
	if bytes.Equal(box.Derive("csrf"), box.Derive("other")) {
		t.Fatal("derived keys for different purposes are equal")
	}
	if !bytes.Equal(box.Derive("csrf"), box.Derive("csrf")) {
		t.Fatal("derivation is not deterministic")
	}
}
