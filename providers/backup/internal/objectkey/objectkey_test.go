package objectkey

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"a", true},
		{"postgres/app-db/2025-01-02T03-04-05Z.sql.gz", true},
		{"dir with spaces/é.tar", true},
		{"..dots-inside..", true},
		{"", false},
		{"/etc/passwd", false},
		{"a/", false},
		{"../escape", false},
		{"a/../../escape", false},
		{"a/./b", false},
		{".", false},
		{"a//b", false},
		{`a\b`, false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a\x7fb", false},
		{"bad\xffutf8", false},
		{strings.Repeat("k", MaxLen), true},
		{strings.Repeat("k", MaxLen+1), false},
	}
	for _, tt := range tests {
		err := Validate(tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", tt.key, err, tt.ok)
		}
		if err != nil && !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Validate(%q) = %v, does not wrap sdk.ErrInvalidArgument", tt.key, err)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"", true},
		{"db/", true},
		{"db/2025-", true},
		{"/", false},
		{"../", false},
		{"/abs/", false},
		{"a//", false},
	}
	for _, tt := range tests {
		if err := ValidatePrefix(tt.prefix); (err == nil) != tt.ok {
			t.Errorf("ValidatePrefix(%q) = %v, want ok=%v", tt.prefix, err, tt.ok)
		}
	}
}
