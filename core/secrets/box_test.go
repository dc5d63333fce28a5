package secrets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
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
	k1, err := LoadOrCreateKey(path)
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
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Fatal("key changed between loads")
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("want error for a corrupt key file")
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
