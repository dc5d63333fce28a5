// Package vars resolves an application's environment variables.
//
// Variables live at three levels: project, environment and application. The
// application's own variables become its containers' environment; project and
// environment variables are shared values that an application (or another
// shared value) pulls in by reference, as in Railway, Dokploy and Coolify:
//
//	DATABASE_URL=postgres://app:${{project.DB_PASSWORD}}@db:5432/app
//	API_URL=https://${{environment.DOMAIN}}/api
//	GREETING=hello ${{NAME}}          (another variable of the same level)
//
// `$${{` writes a literal `${{`. References are resolved at deploy time; a
// missing or circular reference is an error that names the variable and the
// reference, never a silently empty value.
package vars

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Level names where a variable is defined.
type Level string

// The three variable levels.
const (
	Project     Level = "project"
	Environment Level = "environment"
	Application Level = "application"
)

// Layers holds the variables of each level for one application.
type Layers struct {
	Project     map[string]string
	Environment map[string]string
	Application map[string]string
}

// ErrReference is wrapped by every resolution error.
var ErrReference = errors.New("variable reference error")

// ReferenceError explains why a variable could not be resolved.
type ReferenceError struct {
	// Variable is the variable whose value holds the bad reference, e.g. "application.API_URL".
	Variable string
	// Reference is the reference as written, e.g. "${{project.MISSING}}".
	Reference string
	// Reason says what is wrong.
	Reason string
}

// Error says which variable holds which bad reference, and why.
func (e *ReferenceError) Error() string {
	return fmt.Sprintf("%s: %s %s", e.Variable, e.Reference, e.Reason)
}

// Unwrap makes errors.Is(err, ErrReference) true.
func (e *ReferenceError) Unwrap() error { return ErrReference }

type node struct {
	level Level
	key   string
}

func (n node) String() string { return string(n.level) + "." + n.key }

type resolver struct {
	layers   map[Level]map[string]string
	done     map[node]string
	visiting map[node]bool
	stack    []node
}

// Resolve returns the application's environment with every reference
// replaced by its value.
func Resolve(l Layers) (map[string]string, error) {
	r := &resolver{
		layers: map[Level]map[string]string{
			Project: l.Project, Environment: l.Environment, Application: l.Application,
		},
		done:     map[node]string{},
		visiting: map[node]bool{},
	}
	keys := make([]string, 0, len(l.Application))
	for k := range l.Application {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic first error
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		v, err := r.value(node{Application, k})
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// Validate checks that every reference in value is well formed (not that it
// resolves), so an API can reject `${{project.}}` when a value is saved.
func Validate(value string) error {
	_, err := parse(value)
	return err
}

func (r *resolver) value(n node) (string, error) {
	if v, ok := r.done[n]; ok {
		return v, nil
	}
	raw := r.layers[n.level][n.key]
	if r.visiting[n] {
		return "", nil // reported by the caller, which knows the reference text
	}
	r.visiting[n] = true
	r.stack = append(r.stack, n)
	defer func() {
		delete(r.visiting, n)
		r.stack = r.stack[:len(r.stack)-1]
	}()

	parts, err := parse(raw)
	if err != nil {
		return "", &ReferenceError{Variable: n.String(), Reference: err.(*syntaxError).ref, Reason: err.(*syntaxError).reason}
	}
	var b strings.Builder
	for _, p := range parts {
		if p.ref == nil {
			b.WriteString(p.text)
			continue
		}
		target := node{level: p.ref.level, key: p.ref.key}
		if target.level == "" {
			target.level = n.level
		}
		if _, ok := r.layers[target.level][target.key]; !ok {
			return "", &ReferenceError{Variable: n.String(), Reference: p.text,
				Reason: fmt.Sprintf("refers to %s, which is not defined", target)}
		}
		if r.visiting[target] {
			return "", &ReferenceError{Variable: n.String(), Reference: p.text,
				Reason: "is circular: " + r.cycle(target)}
		}
		v, err := r.value(target)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	r.done[n] = b.String()
	return r.done[n], nil
}

func (r *resolver) cycle(to node) string {
	var names []string
	start := 0
	for i, n := range r.stack {
		if n == to {
			start = i
		}
	}
	for _, n := range r.stack[start:] {
		names = append(names, n.String())
	}
	names = append(names, to.String())
	return strings.Join(names, " -> ")
}

type reference struct {
	level Level
	key   string
}

type part struct {
	text string     // literal text, or the reference as written
	ref  *reference // nil for literal text
}

type syntaxError struct{ ref, reason string }

func (e *syntaxError) Error() string { return e.ref + " " + e.reason }

func parse(s string) ([]part, error) {
	var parts []part
	var lit strings.Builder
	for {
		i := strings.Index(s, "${{")
		if i < 0 {
			lit.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' { // $${{ escapes a literal ${{
			lit.WriteString(s[:i-1])
			lit.WriteString("${{")
			s = s[i+3:]
			continue
		}
		lit.WriteString(s[:i])
		end := strings.Index(s[i:], "}}")
		if end < 0 {
			return nil, &syntaxError{ref: s[i:], reason: "is not closed with }}"}
		}
		text := s[i : i+end+2]
		ref, err := parseRef(strings.TrimSpace(s[i+3 : i+end]))
		if err != nil {
			return nil, &syntaxError{ref: text, reason: err.Error()}
		}
		if lit.Len() > 0 {
			parts = append(parts, part{text: lit.String()})
			lit.Reset()
		}
		parts = append(parts, part{text: text, ref: ref})
		s = s[i+end+2:]
	}
	if lit.Len() > 0 {
		parts = append(parts, part{text: lit.String()})
	}
	return parts, nil
}

func parseRef(s string) (*reference, error) {
	level, key, found := strings.Cut(s, ".")
	if !found {
		key, level = s, ""
	}
	switch Level(level) {
	case "", Project, Environment:
	case Application, "app":
		level = ""
	default:
		return nil, fmt.Errorf("names unknown level %q (use project, environment or none)", level)
	}
	if err := ValidateName(key); err != nil {
		return nil, fmt.Errorf("has an invalid name: %w", err)
	}
	return &reference{level: Level(level), key: key}, nil
}

// ValidateName checks a variable name: a letter or underscore, then letters,
// digits or underscores, at most 255 characters (POSIX shell rules, which
// every container runtime accepts).
func ValidateName(name string) error {
	if name == "" {
		return errors.New("must not be empty")
	}
	if len(name) > 255 {
		return errors.New("must be at most 255 characters")
	}
	for i, c := range name {
		letter := c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return fmt.Errorf("%q must start with a letter or _ and hold only letters, digits and _", name)
		}
	}
	return nil
}
