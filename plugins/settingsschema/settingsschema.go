// Package settingsschema derives the JSON Schema (draft 2020-12) of a
// plugin's settings from the Go type its Configure decodes them into, so
// the schema berth's plugins declare and the settings they read cannot
// disagree: one source of truth.
//
// Schemas come from github.com/invopop/jsonschema with berth's conventions
// for settings schemas: every property is inline at the top level (no
// $ref), in the order of the struct's fields (the order settings forms show
// them), and additional properties are refused. Struct tags say the rest:
//
//   - json: the property's name; embedded structs add their fields.
//   - jsonschema: title, format, pattern, minimum/maximum,
//     minLength/maxLength, default, enum (repeated), example (repeated),
//     writeOnly=true (secrets, see core/writeonly) and readOnly on a
//     property of any type (a map of secret headers included), and
//     required (a property is required only when tagged so). On a slice,
//     the string keywords (format, pattern, minLength, maxLength, enum)
//     apply to its items; on a map (an object) to its values, and
//     minProperties/maxProperties to the map.
//   - jsonschema_description: the description, which may hold commas.
//   - jsonschema_extras: berth's own keywords, such as
//     x-berth-host-path=true (a directory of the host, see core/hostaccess),
//     x-berth-outbound-url=true (a URL requests are sent to, see
//     core/netguard) and x-berth-outbound-host=<port property> (the host
//     of a server the plugin connects to without a URL, its port in the
//     named sibling property).
//
// Commas inside a jsonschema tag value are written \, (in a struct tag
// literal, \\,).
package settingsschema

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"
)

// For returns the schema of the settings type T, an object with title and
// description. Edit the result for what depends on run-time values, then
// Encode it.
func For[T any](title, description string) *jsonschema.Schema {
	r := jsonschema.Reflector{
		Anonymous:                  true,
		DoNotReference:             true,
		ExpandedStruct:             true,
		RequiredFromJSONSchemaTags: true,
	}
	var zero T
	s := r.Reflect(&zero)
	annotate(s, reflect.TypeOf(zero))
	s.Title, s.Description = title, description
	return s
}

// Property returns the schema of s's property name; it panics when there
// is none, a programming error that every plugin's tests catch.
func Property(s *jsonschema.Schema, name string) *jsonschema.Schema {
	p, ok := s.Properties.Get(name)
	if !ok {
		panic(fmt.Sprintf("settingsschema: no property %q", name))
	}
	return p
}

// Encode renders s as JSON. A schema reflected from a Go type always
// renders; a failure is a programming error and panics.
func Encode(s *jsonschema.Schema) json.RawMessage {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("settingsschema: rendering %q: %v", s.Title, err))
	}
	return b
}
