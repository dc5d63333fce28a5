// Package auth holds berth's credential primitives: password hashing, the
// one-time setup token, API key and session tokens, and CSRF tokens.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Token prefixes make leaked credentials easy to recognise and scan for.
const (
	APIKeyPrefix  = "berth_"
	SessionPrefix = "bs_"
)

// bcryptCost balances login latency against brute force; bcrypt (not
// argon2) keeps a login from allocating tens of MiB on a small server.
const bcryptCost = 11

// MinPasswordLength is the shortest accepted password.
const MinPasswordLength = 10

// HashPassword returns a bcrypt hash of password.
func HashPassword(password string) (string, error) {
	if err := ValidatePassword(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return string(h), nil
}

// ValidatePassword checks password length rules (bcrypt reads at most 72 bytes).
func ValidatePassword(password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return fmt.Errorf("must be at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return errors.New("must be at most 72 bytes")
	}
	return nil
}

// dummyHash is compared against when a user does not exist, so a login's
// timing does not reveal which emails are registered. It is made on first
// use: computing it costs about 100 ms that neither start-up nor a CLI
// command should pay.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("berth-timing-equaliser"), bcryptCost)
	return h
})

// Warm computes the hash unknown users are checked against; a server calls
// it in the background after start-up so even the first sign-in of an
// unknown email takes as long as any other.
func Warm() { dummyHash() }

// CheckPassword reports whether password matches hash. Pass an empty hash
// for an unknown user: the call still takes as long as a real check.
func CheckPassword(hash, password string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// NewToken returns prefix followed by 32 random bytes in base64url.
func NewToken(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: system randomness failed: %v", err))
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// CSRF derives and checks CSRF tokens bound to a session token, so no CSRF
// state is stored: token = HMAC(key, session token).
type CSRF struct{ key []byte }

// NewCSRF returns a CSRF signer with a key dedicated to that purpose.
func NewCSRF(key []byte) *CSRF { return &CSRF{key: key} }

// Token returns the CSRF token for a session token.
func (c *CSRF) Token(session string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Valid reports whether token is the CSRF token of session.
func (c *CSRF) Valid(session, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(c.Token(session)), []byte(token)) == 1
}

// SetupToken is the one-time token that authorises creating the first
// administrator, so a fresh instance cannot be claimed by whoever reaches its
// port first. Only its hash is kept in memory.
type SetupToken struct {
	mu   sync.Mutex
	hash []byte
}

// NewSetupToken generates a token and returns it with its holder.
func NewSetupToken() (string, *SetupToken) {
	tok := NewToken("setup_")
	sum := sha256.Sum256([]byte(tok))
	return tok, &SetupToken{hash: sum[:]}
}

// Check reports whether token matches and has not been consumed.
func (s *SetupToken) Check(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hash == nil {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(sum[:], s.hash) == 1
}

// Consume invalidates the token after a successful setup.
func (s *SetupToken) Consume() {
	s.mu.Lock()
	s.hash = nil
	s.mu.Unlock()
}
