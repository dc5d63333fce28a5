package dashboard

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/store"
)

// The git and image checks below reuse the API's; these are the other checks the
// dashboard's forms need, with the same rules. Uniqueness is left to the
// store, whose *store.ConflictError names the field.

// validateText checks a human-readable name: trimmed length within bounds
// and no control characters.
func validateText(field, v string, min, max int) error {
	n := utf8.RuneCountInString(strings.TrimSpace(v))
	switch {
	case n < min && min == 1:
		return invalid(field, "is required")
	case n < min:
		return invalid(field, "must be at least %d characters", min)
	case n > max:
		return invalid(field, "must be at most %d characters", max)
	case !utf8.ValidString(v):
		return invalid(field, "must be valid UTF-8")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// slugPattern is a lowercase DNS label: it becomes part of Docker object names.
var slugPattern = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)

func validateSlug(field, v string, max int) error {
	switch {
	case v == "":
		return invalid(field, "is required")
	case len(v) > max:
		return invalid(field, "must be at most %d characters", max)
	case !slugPattern.MatchString(v):
		return invalid(field, "use lowercase letters, digits and '-', starting with a letter and not ending with '-'")
	}
	return nil
}

// validateGitURL, validateGitRef and validateImage apply the API's own
// rules, reporting them as form field errors.
func validateGitURL(u string) error { return fromAPI(api.ValidateGitURL(u)) }

func validateGitRef(field, ref string) error {
	err := fromAPI(api.ValidateGitRef(ref))
	if fe, ok := err.(*fieldError); ok {
		fe.Field = field
	}
	return err
}

func validateImage(image string) error { return fromAPI(api.ValidateImage(image)) }

// fromAPI turns an API validation error into a form field error.
func fromAPI(err error) error {
	var e *api.Error
	if !errors.As(err, &e) {
		return err
	}
	return invalid(e.Field, "%s", strings.TrimPrefix(e.Message, e.Field+": "))
}

// validateSpec checks the fields of an application the dashboard edits.
func validateSpec(a store.ApplicationSpec) error {
	if err := validateSlug("name", a.Name, 40); err != nil {
		return err
	}
	switch a.SourceType {
	case "git":
		if err := firstError(validateGitURL(a.GitRepository), validateGitRef("git_ref", a.GitRef),
			validateSlug("build_type", a.BuildType, 40)); err != nil {
			return err
		}
	case "image":
		if err := validateImage(a.Image); err != nil {
			return err
		}
	default:
		return invalid("source_type", "choose git or image")
	}
	if a.GitProvider != "" {
		if err := validateSlug("git_provider", a.GitProvider, 40); err != nil {
			return err
		}
	}
	switch {
	case a.Port < 0 || a.Port > 65535:
		return invalid("port", "must be from 0 to 65535 (0: no HTTP port)")
	case a.Replicas < 0 || a.Replicas > 100:
		return invalid("replicas", "must be from 0 to 100")
	case a.CPULimit < 0 || a.CPULimit > 256:
		return invalid("cpu_limit", "must be from 0 to 256 CPUs (0: no limit)")
	case a.MemoryLimitMB != 0 && (a.MemoryLimitMB < 6 || a.MemoryLimitMB > 1<<20):
		return invalid("memory_limit_mb", "must be 0 (no limit) or from 6 to 1048576 MiB")
	}
	return nil
}

// formInt parses an optional integer field; empty is def.
func formInt(field, v string, def int) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, invalid(field, "must be a whole number")
	}
	return n, nil
}

// formFloat parses an optional decimal field; empty is def.
func formFloat(field, v string, def float64) (float64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, invalid(field, "must be a number")
	}
	return f, nil
}
