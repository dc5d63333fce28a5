// Package objectkey validates the keys of backup objects, shared by the
// backup targets shipped with berth so that every target accepts the same
// keys: relative, slash-separated paths such as
// "postgres/app-db/2025-01-02T03-04-05Z.sql.gz".
package objectkey

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/berth-dev/berth/sdk"
)

// MaxLen is the longest key accepted, in bytes: S3's limit.
const MaxLen = 1024

// Validate returns an error wrapping sdk.ErrInvalidArgument unless key is a
// valid object key: non-empty valid UTF-8 of at most MaxLen bytes, without
// control characters or backslashes, made of slash-separated segments none
// of which is empty, "." or "..". So it has no leading or trailing slash
// and cannot climb out of the place objects are stored in.
func Validate(key string) error {
	if err := check(key); err != nil {
		return fmt.Errorf("key %q %s: %w", key, err, sdk.ErrInvalidArgument)
	}
	return nil
}

// ValidatePrefix is Validate for a List prefix: the empty prefix (every
// object) and a trailing slash are allowed, and the last segment may be
// partial ("db/2025-").
func ValidatePrefix(prefix string) error {
	trimmed := strings.TrimSuffix(prefix, "/")
	if trimmed == "" && prefix == "" {
		return nil
	}
	if err := check(trimmed); err != nil {
		return fmt.Errorf("prefix %q %s: %w", prefix, err, sdk.ErrInvalidArgument)
	}
	return nil
}

// check says what is wrong with key, or returns nil.
func check(key string) error {
	switch {
	case key == "":
		return errorString("is empty")
	case len(key) > MaxLen:
		return errorString(fmt.Sprintf("is longer than %d bytes", MaxLen))
	case !utf8.ValidString(key):
		return errorString("is not valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return errorString("must be relative (no leading slash)")
	case strings.HasSuffix(key, "/"):
		return errorString("must not end with a slash")
	case strings.ContainsRune(key, '\\'):
		return errorString("must use forward slashes only")
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return errorString("must not contain control characters")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return errorString("must not contain empty segments (//)")
		case ".", "..":
			return errorString(`must not contain "." or ".." segments`)
		}
	}
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }
