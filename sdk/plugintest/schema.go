package plugintest

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// CheckSettingsSchema fails t unless schema, a hand-written settings
// schema, describes the Go type settings are decoded into (a struct value
// or pointer): every property names a field with the same JSON name and a
// JSON type the field decodes, every field has a property, and every
// required name is a property. It keeps a hand-written schema and its type
// one source of truth; a schema generated from the type (as berth's own
// plugins do) needs no such test.
func CheckSettingsSchema(t testing.TB, schema json.RawMessage, settings any) {
	t.Helper()
	for _, problem := range settingsSchemaProblems(schema, reflect.TypeOf(settings)) {
		t.Error(problem)
	}
}

// settingsSchemaProblems lists how schema and the struct type typ differ.
func settingsSchemaProblems(schema json.RawMessage, typ reflect.Type) []string {
	var s struct {
		Properties map[string]struct {
			Type json.RawMessage `json:"type"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		return []string{"settings schema: " + err.Error()}
	}
	for typ != nil && typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ == nil || typ.Kind() != reflect.Struct {
		return []string{"settings type: want a struct, got " + typeName(typ)}
	}
	fields := jsonFields(typ)
	var problems []string
	for name, prop := range s.Properties {
		f, ok := fields[name]
		if !ok {
			problems = append(problems, "schema property "+name+": no field of "+typ.String()+" has this JSON name")
			continue
		}
		if want := jsonType(f); len(prop.Type) > 0 && want != "" && !slices.Contains(schemaTypes(prop.Type), want) {
			problems = append(problems, "schema property "+name+": type "+string(prop.Type)+", but field "+typ.String()+"."+f.Name+" is a JSON "+want)
		}
	}
	for name, f := range fields {
		if _, ok := s.Properties[name]; !ok {
			problems = append(problems, "field "+typ.String()+"."+f.Name+" (JSON "+name+"): no schema property")
		}
	}
	for _, name := range s.Required {
		if _, ok := s.Properties[name]; !ok {
			problems = append(problems, "schema requires "+name+", which is not a property")
		}
	}
	slices.Sort(problems)
	return problems
}

// jsonFields maps the JSON names of typ's fields, as encoding/json names
// them (embedded structs without a name add their fields), to the fields.
func jsonFields(typ reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for f := range typ.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case tag == "-":
			continue
		case f.Anonymous && tag == "":
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for name, inner := range jsonFields(ft) {
					fields[name] = inner
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		fields[tag] = f
	}
	return fields
}

// jsonType is the JSON Schema type of a field's values, "" when any.
func jsonType(f reflect.StructField) string {
	t := f.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if strings.Contains(f.Tag.Get("json"), ",string") {
		return "string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string" // []byte is base64
		}
		return "array"
	case reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return ""
}

// schemaTypes reads a schema's type: one name or a list. An integer is
// also a number.
func schemaTypes(raw json.RawMessage) []string {
	var types []string
	var one string
	if json.Unmarshal(raw, &one) == nil {
		types = []string{one}
	} else {
		_ = json.Unmarshal(raw, &types)
	}
	if slices.Contains(types, "number") {
		types = append(types, "integer")
	}
	return types
}

func typeName(t reflect.Type) string {
	if t == nil {
		return "nil"
	}
	return t.String()
}
