package dashboard

import (
	"github.com/berth-dev/berth/core/validate"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/core/store"
)

// The field rules are core/validate's, shared with the API and the service
// layer; uniqueness is left to the store, whose *store.ConflictError names
// the field.
func validateText(field, v string, min, max int) error { return validate.Text(field, v, min, max) }

func validateSlug(field, v string, max int) error { return validate.Slug(field, v, max) }

func validateGitURL(u string) error { return validate.GitURL("git_repository", u) }

func validateGitRef(field, ref string) error { return validate.GitRef(field, ref) }

func validateImage(image string) error { return validate.Image("image", image) }

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
