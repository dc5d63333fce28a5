// Package hmacsig checks what authenticates git hosts' webhook deliveries,
// in constant time: hex HMAC-SHA256 signatures (GitHub, Gitea, Bitbucket)
// and shared secret tokens (GitLab).
package hmacsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// ValidHex reports whether signature is the hex-encoded HMAC-SHA256 of body
// keyed with secret (either letter case). An empty secret or signature
// never validates. The comparison does not leak, through its timing, how
// much of the signature matched.
func ValidHex(secret string, body []byte, signature string) bool {
	if secret == "" {
		return false
	}
	got, err := hex.DecodeString(strings.TrimSpace(signature))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, Sum(secret, body))
}

// ValidPrefixed is ValidHex for the "sha256=<hex>" form of GitHub's
// X-Hub-Signature-256 header (the prefix is matched case-insensitively).
func ValidPrefixed(secret string, body []byte, header string) bool {
	header = strings.TrimSpace(header)
	const prefix = "sha256="
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return false
	}
	return ValidHex(secret, body, header[len(prefix):])
}

// Sum returns the HMAC-SHA256 of body keyed with secret.
func Sum(secret string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return mac.Sum(nil)
}

// Hex returns the hex HMAC-SHA256 of body keyed with secret, as git hosts
// send it (tests use it to sign deliveries).
func Hex(secret string, body []byte) string { return hex.EncodeToString(Sum(secret, body)) }

// EqualSecrets compares two secrets (a shared webhook token) in constant
// time, whatever their lengths.
func EqualSecrets(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return hmac.Equal(ha[:], hb[:])
}
