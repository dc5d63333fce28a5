// Package validate holds berth's field rules, each written once: every
// operation of the service layer checks its input with them, so the API,
// the dashboard, the webhooks and the scheduler refuse the same values with
// the same message. Failures are *problem.Error values naming the field.
package validate

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/berth-dev/berth/core/problem"
	"github.com/distribution/reference"
)

// Text checks a human-readable name or description: trimmed length from
// min to max runes, valid UTF-8, no control characters.
func Text(field, v string, min, max int) error {
	n := utf8.RuneCountInString(strings.TrimSpace(v))
	switch {
	case n < min && min == 1:
		return problem.InvalidField(field, "is required")
	case n < min:
		return problem.InvalidField(field, "must be at least %d characters", min)
	case n > max:
		return problem.InvalidField(field, "must be at most %d characters", max)
	case !utf8.ValidString(v):
		return problem.InvalidField(field, "must be valid UTF-8")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return problem.InvalidField(field, "must not contain control characters")
		}
	}
	return nil
}

// MaxLen checks that an optional free text is at most max characters.
func MaxLen(field, v string, max int) error {
	if utf8.RuneCountInString(v) > max {
		return problem.InvalidField(field, "must be at most %d characters", max)
	}
	return nil
}

// Email checks an email address (required).
func Email(field, v string) error {
	if v == "" {
		return problem.InvalidField(field, "is required")
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 {
		return problem.InvalidField(field, "%q is not a valid email address", v)
	}
	return nil
}

// slugPattern is a lowercase DNS label: slugs become parts of Docker object
// and host names.
var slugPattern = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)

// Slug checks a lowercase DNS label of at most max characters (required).
func Slug(field, v string, max int) error {
	switch {
	case v == "":
		return problem.InvalidField(field, "is required")
	case len(v) > max:
		return problem.InvalidField(field, "must be at most %d characters", max)
	case !slugPattern.MatchString(v):
		return problem.InvalidField(field, "%q must be lowercase letters, digits and '-', starting with a letter and not ending with '-'", v)
	}
	return nil
}

// GitURL accepts https, http, ssh, git and file URLs, scp-like
// user@host:path addresses and absolute paths (whether a tenant may use a
// local path is the host-access guard's decision). Values starting with '-'
// are refused so they can never be read as a git option.
func GitURL(field, u string) error {
	switch {
	case u == "":
		return problem.InvalidField(field, "is required for source_type git")
	case len(u) > 2048:
		return problem.InvalidField(field, "must be at most 2048 characters")
	case strings.HasPrefix(u, "-"):
		return problem.InvalidField(field, "must not start with '-'")
	case strings.ContainsAny(u, " \t\r\n\x00"):
		return problem.InvalidField(field, "must not contain whitespace")
	}
	for _, scheme := range []string{"https://", "http://", "ssh://", "git://", "file://"} {
		if strings.HasPrefix(u, scheme) && len(u) > len(scheme) {
			return nil
		}
	}
	if strings.HasPrefix(u, "/") {
		return nil
	}
	if at := strings.Index(u, "@"); at > 0 {
		if colon := strings.Index(u[at:], ":"); colon > 1 && !strings.Contains(u[:at], "/") {
			return nil
		}
	}
	return problem.InvalidField(field, "%q is not an https, ssh, git or file URL, a user@host:path address or an absolute path", u)
}

// GitRef accepts what `git check-ref-format` would, plus commit ids; empty
// means the default branch.
func GitRef(field, ref string) error {
	if ref == "" {
		return nil
	}
	if len(ref) > 255 || strings.HasPrefix(ref, "-") || strings.HasPrefix(ref, "/") || strings.HasSuffix(ref, "/") ||
		strings.HasSuffix(ref, ".lock") || strings.Contains(ref, "..") || strings.Contains(ref, "@{") ||
		strings.ContainsAny(ref, " ~^:?*[\\\t\r\n\x00\x7f") {
		return problem.InvalidField(field, "%q is not a valid branch, tag or commit", ref)
	}
	return nil
}

// Image checks a Docker image reference (required).
func Image(field, image string) error {
	if image == "" {
		return problem.InvalidField(field, "is required for source_type image")
	}
	if _, err := reference.ParseNormalizedNamed(image); err != nil {
		return problem.InvalidField(field, "%q is not a valid image reference: %v", image, err)
	}
	return nil
}

// First returns the first non-nil error.
func First(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
