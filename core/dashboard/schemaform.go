package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/sdk"
)

// schema is the subset of JSON Schema (draft 2020-12) that plugin settings
// forms are rendered from: an object whose properties are strings, numbers,
// integers, booleans or enums, with titles, descriptions, defaults and
// required names. Other properties are listed as not editable here.
type schema struct {
	Type        json.RawMessage `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Default     json.RawMessage `json:"default"`
	Enum        []any           `json:"enum"`
	Required    []string        `json:"required"`
	Minimum     *float64        `json:"minimum"`
	Maximum     *float64        `json:"maximum"`
	MinLength   *int            `json:"minLength"`
	MaxLength   *int            `json:"maxLength"`
	Pattern     string          `json:"pattern"`
	WriteOnly   bool            `json:"writeOnly"`
	Examples    []any           `json:"examples"`
	Properties  properties      `json:"properties"`
}

// property is one named property, in the order the schema lists them.
type property struct {
	Name   string
	Schema *schema
}

// properties keeps the schema's property order, which a map would lose.
type properties []property

// UnmarshalJSON decodes an object of schemas in document order.
func (p *properties) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("properties: %w", err)
	}
	if tok != json.Delim('{') {
		return errors.New("properties: must be an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("properties: %w", err)
		}
		name, _ := tok.(string)
		var s schema
		if err := dec.Decode(&s); err != nil {
			return fmt.Errorf("property %s: %w", name, err)
		}
		*p = append(*p, property{Name: name, Schema: &s})
	}
	_, err = dec.Token()
	return err
}

// typeName is the schema's type; of a type list such as ["string",
// "null"], the first that is not null.
func (s *schema) typeName() string {
	var one string
	if json.Unmarshal(s.Type, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(s.Type, &many) == nil {
		for _, t := range many {
			if t != "null" {
				return t
			}
		}
	}
	if len(s.Enum) > 0 {
		return "enum"
	}
	return ""
}

// parseSchema decodes a plugin's settings schema; it must describe an object.
func parseSchema(raw json.RawMessage) (*schema, error) {
	var s schema
	if len(bytes.TrimSpace(raw)) == 0 {
		return &s, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("settings schema: %w", err)
	}
	if t := s.typeName(); t != "object" && t != "" {
		return nil, fmt.Errorf("settings schema: type %q is not object", t)
	}
	return &s, nil
}

func (s *schema) required(name string) bool {
	for _, r := range s.Required {
		if r == name {
			return true
		}
	}
	return false
}

// settingsForm is a rendered settings form.
type settingsForm struct {
	Title, Description string
	Fields             []schemaField
	// Unsupported names properties whose type the form cannot edit.
	Unsupported []string
	// Message is a form-level error (e.g. a plugin error naming no field).
	Message string
}

// schemaField is one input of a settings form.
type schemaField struct {
	Name, Input, Label, Description string
	// Control is text, password, number, checkbox or select.
	Control  string
	Required bool
	Value    string
	Checked  bool
	Options  []schemaOption
	Min, Max string
	Step     string
	// MinLength and MaxLength are empty when unset.
	MinLength, MaxLength string
	Placeholder          string
	Error                string
}

type schemaOption struct {
	Value, Label string
	Selected     bool
}

// inputPrefix keeps settings inputs apart from the form's own fields.
const inputPrefix = "s."

// buildForm lays out the form of s with values (the submitted or current
// raw values by property name; nil shows the defaults) and field errors.
func buildForm(s *schema, values map[string]string, errs map[string]string) settingsForm {
	f := settingsForm{Title: s.Title, Description: s.Description}
	for _, p := range s.Properties {
		ps := p.Schema
		field := schemaField{Name: p.Name, Input: inputPrefix + p.Name, Label: ps.Title, Description: ps.Description,
			Required: s.required(p.Name), Error: errs[p.Name]}
		if field.Label == "" {
			field.Label = p.Name
		}
		value, submitted := values[p.Name]
		if !submitted && values == nil {
			value = defaultText(ps.Default)
		}
		if len(ps.Examples) > 0 {
			field.Placeholder = "e.g. " + scalarText(ps.Examples[0])
		}
		switch t := ps.typeName(); {
		case ps.WriteOnly && editable(ps, t):
			// A secret of any type is a password input that is never
			// filled in: its saved value is never sent to the browser.
			field.Control, field.Value = "password", ""
			if ps.MinLength != nil {
				field.MinLength = strconv.Itoa(*ps.MinLength)
			}
			if ps.MaxLength != nil {
				field.MaxLength = strconv.Itoa(*ps.MaxLength)
			}
		case len(ps.Enum) > 0:
			field.Control = "select"
			if !field.Required {
				field.Options = append(field.Options, schemaOption{Value: "", Label: "(not set)", Selected: value == ""})
			}
			for _, e := range ps.Enum {
				v := scalarText(e)
				field.Options = append(field.Options, schemaOption{Value: v, Label: v, Selected: v == value})
			}
		case t == "boolean":
			field.Control = "checkbox"
			field.Checked = value == "true"
		case t == "integer" || t == "number":
			field.Control, field.Value, field.Step = "number", value, "any"
			if t == "integer" {
				field.Step = "1"
			}
			if ps.Minimum != nil {
				field.Min = scalarText(*ps.Minimum)
			}
			if ps.Maximum != nil {
				field.Max = scalarText(*ps.Maximum)
			}
		case t == "string":
			field.Control, field.Value = "text", value
			if ps.MinLength != nil {
				field.MinLength = strconv.Itoa(*ps.MinLength)
			}
			if ps.MaxLength != nil {
				field.MaxLength = strconv.Itoa(*ps.MaxLength)
			}
		default:
			f.Unsupported = append(f.Unsupported, p.Name)
			continue
		}
		f.Fields = append(f.Fields, field)
	}
	for name, msg := range errs {
		if !s.hasProperty(name) {
			f.Message = strings.TrimSpace(f.Message + " " + name + ": " + msg)
		}
	}
	return f
}

// keepSecrets marks the secrets a form's saved settings hold (see
// writeonly.Secrets): left empty, they keep their saved value, so they
// are not required.
func (f *settingsForm) keepSecrets(saved map[string]bool) {
	for i := range f.Fields {
		if saved[f.Fields[i].Name] {
			f.Fields[i].Required = false
			f.Fields[i].Placeholder = "saved; leave empty to keep"
		}
	}
}

func (s *schema) hasProperty(name string) bool {
	for _, p := range s.Properties {
		if p.Name == name {
			return true
		}
	}
	return false
}

// parseSettings converts submitted inputs to a settings document, checking
// required properties, types, enums, bounds, lengths and patterns. It
// returns the document, the raw values (to re-render the form) and field
// errors by property name.
func parseSettings(s *schema, get func(input string) string) (map[string]any, map[string]string, map[string]string) {
	return parseSettingsKeeping(s, get, nil)
}

// parseSettingsKeeping is parseSettings for a form over saved settings:
// a secret named in saved (see writeonly.Secrets) that is left empty is
// left out of the document, not required, so writeonly.Merge keeps the
// saved value.
func parseSettingsKeeping(s *schema, get func(input string) string, saved map[string]bool) (map[string]any, map[string]string, map[string]string) {
	doc := map[string]any{}
	raw := map[string]string{}
	errs := map[string]string{}
	for _, p := range s.Properties {
		ps := p.Schema
		v := strings.TrimSpace(get(inputPrefix + p.Name))
		raw[p.Name] = v
		t := ps.typeName()
		if !editable(ps, t) {
			continue // not on the form: set through the API
		}
		if v == "" && ps.WriteOnly && saved[p.Name] {
			continue // kept
		}
		if t == "boolean" && len(ps.Enum) == 0 && !ps.WriteOnly {
			doc[p.Name] = v == "true"
			continue
		}
		if v == "" {
			if s.required(p.Name) {
				errs[p.Name] = "is required"
			}
			continue
		}
		val, msg := convert(ps, t, v)
		if msg != "" {
			errs[p.Name] = msg
			continue
		}
		doc[p.Name] = val
	}
	return doc, raw, errs
}

// editable reports whether the form has an input for a property.
func editable(ps *schema, t string) bool {
	switch t {
	case "string", "integer", "number", "boolean":
		return true
	}
	return len(ps.Enum) > 0
}

// convert checks one submitted value against its property schema.
func convert(ps *schema, t, v string) (any, string) {
	if len(ps.Enum) > 0 {
		for _, e := range ps.Enum {
			if scalarText(e) == v {
				return e, ""
			}
		}
		return nil, "must be one of the listed values"
	}
	switch t {
	case "integer", "number":
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, "must be a number"
		}
		if t == "integer" && n != math.Trunc(n) {
			return nil, "must be a whole number"
		}
		if ps.Minimum != nil && n < *ps.Minimum {
			return nil, "must be at least " + scalarText(*ps.Minimum)
		}
		if ps.Maximum != nil && n > *ps.Maximum {
			return nil, "must be at most " + scalarText(*ps.Maximum)
		}
		if t == "integer" {
			return int64(n), ""
		}
		return n, ""
	case "string":
		n := len([]rune(v))
		if ps.MinLength != nil && n < *ps.MinLength {
			return nil, fmt.Sprintf("must be at least %d characters", *ps.MinLength)
		}
		if ps.MaxLength != nil && n > *ps.MaxLength {
			return nil, fmt.Sprintf("must be at most %d characters", *ps.MaxLength)
		}
		if ps.Pattern != "" {
			// JSON Schema patterns are ECMA-262; the common subset compiles
			// as RE2. A pattern RE2 cannot read is left to the plugin.
			if re, err := regexp.Compile(ps.Pattern); err == nil && !re.MatchString(v) {
				return nil, "does not have the expected format"
			}
		}
		return v, ""
	}
	return nil, "cannot be set here"
}

// pluginFieldErrors turns a plugin's *sdk.ConfigError into messages by
// field, to show next to the fields; other errors name no field ("").
func pluginFieldErrors(err error) map[string]string {
	if err == nil {
		return nil
	}
	out := map[string]string{}
	var ce *sdk.ConfigError
	if errors.As(err, &ce) {
		for _, f := range ce.Fields {
			if prev, ok := out[f.Field]; ok {
				out[f.Field] = prev + "; " + f.Message
			} else {
				out[f.Field] = f.Message
			}
		}
		return out
	}
	out[""] = err.Error()
	return out
}

// defaultText renders a schema default as an input value.
func defaultText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return scalarText(v)
}

// scalarText renders a JSON scalar as text: numbers without exponent or
// trailing zeros, booleans as true/false.
func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
