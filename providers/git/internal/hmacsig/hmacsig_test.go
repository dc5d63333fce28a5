package hmacsig

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	// The example from GitHub's "Validating webhook deliveries" guide.
	const secret, body = "It's a Secret to Everybody", "Hello, World!"
	const want = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := Hex(secret, []byte(body)); got != want {
		t.Fatalf("Hex = %s, want %s", got, want)
	}
	tests := []struct {
		name, secret, body, sig string
		prefixed, ok            bool
	}{
		{"hex", secret, body, want, false, true},
		{"upper-case hex", secret, body, strings.ToUpper(want), false, true},
		{"prefixed", secret, body, "sha256=" + want, true, true},
		{"prefix in capitals", secret, body, "SHA256=" + want, true, true},
		{"prefixed but not expected", secret, body, "sha256=" + want, false, false},
		{"missing prefix", secret, body, want, true, false},
		{"wrong secret", "another", body, want, false, false},
		{"tampered body", secret, body + " ", want, false, false},
		{"empty secret", "", body, Hex("", []byte(body)), false, false},
		{"empty signature", secret, body, "", false, false},
		{"short signature", secret, body, want[:32], false, false},
		{"not hex", secret, body, strings.Repeat("z", 64), false, false},
		{"sha1 prefix", secret, body, "sha1=" + want, true, false},
	}
	for _, tt := range tests {
		valid := ValidHex
		if tt.prefixed {
			valid = ValidPrefixed
		}
		if got := valid(tt.secret, []byte(tt.body), tt.sig); got != tt.ok {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func TestEqualSecrets(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"s3cret", "s3cret", true},
		{"s3cret", "s3cre", false},
		{"s3cret", "S3cret", false},
		{"", "", true},
		{"", "x", false},
	} {
		if got := EqualSecrets(tt.a, tt.b); got != tt.want {
			t.Errorf("EqualSecrets(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
