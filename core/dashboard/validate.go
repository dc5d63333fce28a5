package dashboard

import (
	"github.com/berth-dev/berth/core/validate"
	"strconv"
	"strings"
)

// The field rules are core/validate's, shared with the API and the service
// layer; uniqueness is left to the store, whose *store.ConflictError names
// the field.
func validateText(field, v string, min, max int) error { return validate.Text(field, v, min, max) }

func validateSlug(field, v string, max int) error { return validate.Slug(field, v, max) }

func validateGitRef(field, ref string) error { return validate.GitRef(field, ref) }

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
