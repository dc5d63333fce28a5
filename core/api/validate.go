package api

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// validateText checks a human-readable name: trimmed length within bounds and
// no control characters.
func validateText(field, v string, min, max int) error {
	n := utf8.RuneCountInString(strings.TrimSpace(v))
	if n < min {
		if min == 1 {
			return invalid(field, "is required")
		}
		return invalid(field, "must be at least %d characters", min)
	}
	if n > max {
		return invalid(field, "must be at most %d characters", max)
	}
	if !utf8.ValidString(v) {
		return invalid(field, "must be valid UTF-8")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

func validateEmail(v string) error {
	if v == "" {
		return invalid("email", "is required")
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 {
		return invalid("email", "%q is not a valid email address", v)
	}
	return nil
}

// slugPattern is a lowercase DNS label: it becomes part of Docker object names.
var slugPattern = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)

func validateSlug(field, v string, max int) error {
	if v == "" {
		return invalid(field, "is required")
	}
	if len(v) > max {
		return invalid(field, "must be at most %d characters", max)
	}
	if !slugPattern.MatchString(v) {
		return invalid(field, "%q must be lowercase letters, digits and '-', starting with a letter and not ending with '-'", v)
	}
	return nil
}

// ValidateGitURL checks a repository address the way the API does (for the
// dashboard's forms); the error is an *Error naming git_repository.
func ValidateGitURL(u string) error { return validateGitURL(u) }

// ValidateGitRef checks a branch, tag or commit; the error names git_ref.
func ValidateGitRef(ref string) error { return validateGitRef(ref) }

// ValidateImage checks an image reference; the error names image.
func ValidateImage(image string) error { return validateImage(image) }
