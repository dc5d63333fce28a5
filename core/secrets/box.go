// Package secrets encrypts values at rest with AES-256-GCM.
//
// The key never lives in the database: it comes from BERTH_SECRET_KEY or a
// 0600 file in berth's data directory. Each ciphertext is bound to a context
// string (additional authenticated data) naming what it protects, so a value
// copied into another column fails to decrypt.
package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/core/atomicfile"
)

// KeySize is the length of a berth secret key in bytes.
const KeySize = 32

// version tags the ciphertext format so keys or algorithms can rotate later.
const version byte = 1

// ErrDecrypt is returned when a ciphertext was tampered with, belongs to
// another context, or was made with another key.
var ErrDecrypt = errors.New("secrets: cannot decrypt value (wrong key, context or corrupted data)")

// Box seals and opens values with one key.
type Box struct {
	aead cipher.AEAD
	key  []byte
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Box{aead: aead, key: append([]byte(nil), key...)}, nil
}

// Seal encrypts plaintext for the given context (e.g. "variable:value").
func (b *Box) Seal(context string, plaintext []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("secrets: system randomness failed: %v", err))
	}
	out := make([]byte, 0, 1+len(nonce)+len(plaintext)+b.aead.Overhead())
	out = append(out, version)
	out = append(out, nonce...)
	return b.aead.Seal(out, nonce, plaintext, []byte(context))
}

// Open decrypts a value sealed for the same context.
func (b *Box) Open(context string, ciphertext []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(ciphertext) < 1+ns+b.aead.Overhead() || ciphertext[0] != version {
		return nil, ErrDecrypt
	}
	pt, err := b.aead.Open(nil, ciphertext[1:1+ns], ciphertext[1+ns:], []byte(context))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// SealString is Seal for strings.
func (b *Box) SealString(context, plaintext string) []byte {
	return b.Seal(context, []byte(plaintext))
}

// OpenString is Open for strings.
func (b *Box) OpenString(context string, ciphertext []byte) (string, error) {
	pt, err := b.Open(context, ciphertext)
	return string(pt), err
}

// Derive returns a purpose-specific 32-byte key derived from the master key
// (HMAC-SHA256), e.g. for signing CSRF tokens, so the master key is used for
// one thing only.
func (b *Box) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte("berth-derive:" + purpose))
	return m.Sum(nil)
}

// LoadOrCreateKey reads the base64 key in path, creating it with 0600
// permissions from fresh randomness when it does not exist. The file is
// created whole or not at all (core/atomicfile.Create): a crash while
// creating it never leaves an empty or partial key, and of two servers
// starting at once exactly one creates it and the other reads it. An
// existing file that does not hold a complete key is refused with
// ErrBadKeyFile, never replaced: values sealed with the lost key could not
// be opened again.
func LoadOrCreateKey(ctx context.Context, path string) ([]byte, error) {
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secrets: generate key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secrets: create key dir: %w", err)
	}
	err = atomicfile.Create(ctx, path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it first: use its key.
		return readKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: create key file: %w", err)
	}
	return key, nil
}

// ErrBadKeyFile is returned by LoadOrCreateKey for a key file that exists
// but does not hold a base64-encoded key of KeySize bytes.
var ErrBadKeyFile = errors.New("secret key file is damaged")

// readKey reads and checks the key file; a missing file is an error
// wrapping fs.ErrNotExist.
func readKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: read key: %w", err)
	}
	text := strings.TrimSpace(string(data))
	if text == "" {
		return nil, fmt.Errorf("secrets: %w: %s is empty; berth will not replace it, because values sealed with the "+
			"old key could not be opened again: restore the file from a backup (or set BERTH_SECRET_KEY), or remove it "+
			"only if this server holds no secrets yet", ErrBadKeyFile, path)
	}
	key, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("secrets: %w: %s does not hold a base64 %d-byte key (%d bytes in the file); restore it "+
			"from a backup (or set BERTH_SECRET_KEY)", ErrBadKeyFile, path, KeySize, len(data))
	}
	return key, nil
}
