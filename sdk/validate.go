package sdk

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// ValidateSettings checks a settings document against a JSON Schema (the
// plugin's settings schema or app schema, draft 2020-12 unless the schema
// names another draft) and returns a *ConfigError naming each failing
// setting, or nil. An empty schema accepts anything; an empty or null
// document is validated as an empty object, so required settings are
// reported.
//
// The messages never repeat the submitted value (a setting may be a
// secret): "must match the pattern ^[a-z]+$", never "'hunter2' does not
// match". The SDK calls it for every plugin before Configure (settings
// schema) and before Build (app schema), so a plugin's Go settings type,
// from which its schema is generated, is the one source of truth and
// plugins need not re-check what the schema says.
func ValidateSettings(schema, settings json.RawMessage) error {
	if len(bytes.TrimSpace(schema)) == 0 {
		return nil
	}
	compiled, err := compileSchema(schema)
	if err != nil {
		return fmt.Errorf("settings schema: %w", err)
	}
	doc := bytes.TrimSpace(settings)
	if len(doc) == 0 || bytes.Equal(doc, []byte("null")) {
		doc = []byte("{}")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return NewConfigError("", "settings are not valid JSON")
	}
	err = compiled.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return NewConfigError("", err.Error())
	}
	ce := &ConfigError{}
	collectFieldErrors(ve, ce)
	if len(ce.Fields) == 0 {
		ce.Add("", "settings do not match the schema")
	}
	sort.SliceStable(ce.Fields, func(i, j int) bool { return ce.Fields[i].Field < ce.Fields[j].Field })
	return ce
}

// compiled caches compiled schemas by the SHA-256 of their text: a plugin
// validates every call against the same few schemas.
var compiled sync.Map // [32]byte -> *jsonschema.Schema

// compileSchema compiles a schema document, once per distinct text.
func compileSchema(schema json.RawMessage) (*jsonschema.Schema, error) {
	key := sha256.Sum256(schema)
	if s, ok := compiled.Load(key); ok {
		return s.(*jsonschema.Schema), nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Schemas are self-contained: a $ref to anything outside the document
	// must not make the validator fetch it.
	c.UseLoader(noLoader{})
	const url = "berth:settings.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, err
	}
	compiled.Store(key, s)
	return s, nil
}

// noLoader refuses every external schema reference.
type noLoader struct{}

// Load implements jsonschema.URLLoader.
func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema references %s, which is not part of the schema", url)
}

// collectFieldErrors adds the leaves of a validation error tree to ce.
func collectFieldErrors(ve *jsonschema.ValidationError, ce *ConfigError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collectFieldErrors(c, ce)
		}
		return
	}
	field := fieldPath(ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, name := range k.Missing {
			ce.Add(joinField(field, name), "is required")
		}
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			ce.Add(joinField(field, name), "is not a known setting")
		}
	default:
		ce.Add(field, kindMessage(ve.ErrorKind))
	}
}

// kindMessage says what a failed keyword requires, without the value.
func kindMessage(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return "must be of type " + strings.Join(k.Want, " or ")
	case *kind.Enum:
		return "must be one of " + joinValues(k.Want)
	case *kind.Const:
		return "must be " + valueText(k.Want)
	case *kind.Pattern:
		return "must match the pattern " + k.Want
	case *kind.Format:
		return "must be a valid " + k.Want
	case *kind.MinLength:
		return fmt.Sprintf("must be at least %d characters", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters", k.Want)
	case *kind.Minimum:
		return "must be at least " + k.Want.String()
	case *kind.Maximum:
		return "must be at most " + k.Want.String()
	case *kind.ExclusiveMinimum:
		return "must be more than " + k.Want.String()
	case *kind.ExclusiveMaximum:
		return "must be less than " + k.Want.String()
	case *kind.MultipleOf:
		return "must be a multiple of " + k.Want.String()
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items", k.Want)
	case *kind.UniqueItems:
		return "must not repeat items"
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %d entries", k.Want)
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %d entries", k.Want)
	case *kind.FalseSchema:
		return "is not allowed"
	}
	kw := k.KeywordPath()
	if len(kw) == 0 {
		return "is not valid"
	}
	return "does not satisfy " + strings.Join(kw, "/")
}

// fieldPath renders an instance location as "a.b[2].c".
func fieldPath(loc []string) string {
	var b strings.Builder
	for _, tok := range loc {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// joinField appends a property name to a field path.
func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// joinValues lists allowed values.
func joinValues(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = valueText(v)
	}
	return strings.Join(parts, ", ")
}

// valueText renders a schema value (from the schema, never from the
// document) as JSON.
func valueText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
