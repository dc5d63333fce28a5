package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Errors a plugin returns (wrapped with %w) to tell berth what went wrong.
// They survive the trip over the wire: on the host side errors.Is matches
// the same values. Any other error reaches berth with its message intact.
var (
	// ErrUnimplemented: the plugin does not support this method.
	ErrUnimplemented = errors.New("not implemented by this plugin")
	// ErrNotFound: the object, repository, ref or branch does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated: credentials were refused, or a webhook's
	// signature did not verify.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrInvalidArgument: the request is malformed. *ConfigError matches it.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotConfigured: the method needs settings and Configure has not
	// been called successfully.
	ErrNotConfigured = errors.New("plugin is not configured")
	// ErrUnavailable: a service the plugin depends on cannot be reached;
	// trying again later may succeed.
	ErrUnavailable = errors.New("unavailable")
	// ErrConnection is returned by host-side clients when the call did not
	// get an answer from the plugin (the process died, the connection
	// broke). It never comes from a plugin's own code.
	ErrConnection = errors.New("no answer from the plugin process")
)

// FieldError is one invalid setting.
type FieldError struct {
	// Field is the setting's path, with dots between nested names and
	// [i] for array elements, for example "smtp.port" or "headers[2]".
	// Empty for a problem with the settings document as a whole.
	Field string `json:"field"`
	// Message says what is wrong, for a person: "must be a URL".
	Message string `json:"message"`
}

// ConfigError reports invalid settings field by field. Return it from
// Configure (or any method that validates input); berth shows each message
// next to its field in the settings form.
type ConfigError struct {
	Fields []FieldError
}

// NewConfigError returns a ConfigError with one field error.
func NewConfigError(field, message string) *ConfigError {
	return &ConfigError{Fields: []FieldError{{Field: field, Message: message}}}
}

// Add appends a field error and returns e, so that errors can be collected:
//
//	var errs sdk.ConfigError
//	if s.URL == "" { errs.Add("url", "is required") }
//	return errs.Err()
func (e *ConfigError) Add(field, message string) *ConfigError {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: message})
	return e
}

// Err returns e when it holds at least one field error, else nil.
func (e *ConfigError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Error lists every field error on one line.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("invalid settings: ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		if f.Field != "" {
			b.WriteString(f.Field)
			b.WriteString(": ")
		}
		b.WriteString(f.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidArgument) true for a ConfigError.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidArgument }

// DecodeSettings decodes a JSON settings document into v, refusing unknown
// fields and values of the wrong type, and reporting them as a *ConfigError.
// An empty or null document leaves v unchanged.
func DecodeSettings(settings json.RawMessage, v any) error {
	trimmed := bytes.TrimSpace(settings)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return NewConfigError("", "settings must be a single JSON object")
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return NewConfigError(typeErr.Field, fmt.Sprintf("must be of type %s, not %s", jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value))
	case errors.As(err, &typeErr):
		return NewConfigError("", fmt.Sprintf("settings must be a JSON object, not %s", typeErr.Value))
	case errors.As(err, &syntaxErr):
		return NewConfigError("", fmt.Sprintf("settings are not valid JSON (at byte %d): %v", syntaxErr.Offset, err))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return NewConfigError(name, "is not a known setting")
	default:
		return NewConfigError("", err.Error())
	}
}

// jsonTypeName names a Go kind the way a JSON Schema would.
func jsonTypeName(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"):
		return "integer"
	case strings.HasPrefix(goKind, "float"):
		return "number"
	case goKind == "bool":
		return "boolean"
	case goKind == "slice", goKind == "array":
		return "array"
	case goKind == "map", goKind == "struct":
		return "object"
	default:
		return goKind
	}
}
