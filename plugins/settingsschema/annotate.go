package settingsschema

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"
)

// annotate applies the tags of T's fields that the reflector reads for
// some types only: writeOnly and readOnly on a property of any type (it
// reads them on strings only, so a map of secret headers lost its
// writeOnly), and on a map property minProperties and maxProperties, and
// the string keywords of its values (format, pattern, minLength,
// maxLength, enum), which go to additionalProperties as those of a slice
// go to items.
func annotate(s *jsonschema.Schema, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || s.Properties == nil {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		jsonTag := strings.Split(f.Tag.Get("json"), ",")
		if jsonTag[0] == "-" && len(jsonTag) == 1 || f.Tag.Get("jsonschema") == "-" {
			continue
		}
		if f.Anonymous && jsonTag[0] == "" {
			annotate(s, f.Type) // embedded: its fields are inline
			continue
		}
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if jsonTag[0] != "" {
			name = jsonTag[0]
		}
		p, ok := s.Properties.Get(name)
		if !ok {
			continue
		}
		applyTags(p, splitTag(f.Tag.Get("jsonschema")))
	}
}

// applyTags sets on p the keywords of tags the reflector leaves out.
func applyTags(p *jsonschema.Schema, tags []string) {
	var values []string // string keywords for a map's values
	for _, tag := range tags {
		name, val, ok := strings.Cut(tag, "=")
		if !ok {
			continue
		}
		switch name {
		case "writeOnly", "readOnly":
			b, err := strconv.ParseBool(val)
			if err != nil {
				continue
			}
			if name == "writeOnly" {
				p.WriteOnly = b
			} else {
				p.ReadOnly = b
			}
			if p.Type == "array" && p.Items != nil {
				// The property is the secret, not each item.
				p.Items.WriteOnly, p.Items.ReadOnly = false, false
			}
		case "minProperties", "maxProperties":
			if p.Type != "object" {
				continue
			}
			n, err := strconv.ParseUint(val, 10, 64)
			if err != nil {
				continue
			}
			if name == "minProperties" {
				p.MinProperties = &n
			} else {
				p.MaxProperties = &n
			}
		case "format", "pattern", "minLength", "maxLength", "enum":
			values = append(values, tag)
		}
	}
	if p.Type != "object" || p.AdditionalProperties == nil || p.AdditionalProperties.Type != "string" || len(values) == 0 {
		return
	}
	v := p.AdditionalProperties
	for _, tag := range values {
		name, val, _ := strings.Cut(tag, "=")
		switch name {
		case "format":
			v.Format = val
		case "pattern":
			v.Pattern = val
		case "minLength", "maxLength":
			n, err := strconv.ParseUint(val, 10, 64)
			if err != nil {
				continue
			}
			if name == "minLength" {
				v.MinLength = &n
			} else {
				v.MaxLength = &n
			}
		case "enum":
			v.Enum = append(v.Enum, val)
		}
	}
}

// splitTag splits a jsonschema tag on its commas, except those escaped
// as \, (which stand for a comma), as the reflector does.
func splitTag(tag string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(tag); i++ {
		switch {
		case tag[i] == '\\' && i+1 < len(tag) && tag[i+1] == ',':
			cur.WriteByte(',')
			i++
		case tag[i] == ',':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(tag[i])
		}
	}
	return append(out, cur.String())
}
