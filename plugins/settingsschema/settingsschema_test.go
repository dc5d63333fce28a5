package settingsschema

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// engine is embedded by sample: its properties come first, inline.
type engine struct {
	Memory string `json:"memory,omitempty" jsonschema:"title=Memory,pattern=^[0-9]+(\\.[0-9]+)?$,enum=1,enum=2,default=1" jsonschema_description:"Memory, per step (say 2)."`
}

type sample struct {
	engine
	Dir     string            `json:"dir" jsonschema:"required,title=Directory,example=/a\\,b" jsonschema_extras:"x-berth-host-path=true"`
	URL     string            `json:"url,omitempty" jsonschema:"format=uri" jsonschema_extras:"x-berth-outbound-url=true"`
	Secret  string            `json:"secret,omitempty" jsonschema:"format=password,writeOnly=true"`
	On      *bool             `json:"on,omitempty" jsonschema:"default=true"`
	Port    int               `json:"port,omitempty" jsonschema:"minimum=1,maximum=65535,default=8080"`
	Args    map[string]string `json:"args,omitempty"`
	Repos   []string          `json:"repos,omitempty"`
	Ignored string            `json:"-"`
}

func TestFor(t *testing.T) {
	got := Encode(For[sample]("Sample", "A sample, with commas."))
	want := `{
	  "$schema": "https://json-schema.org/draft/2020-12/schema",
	  "type": "object", "title": "Sample", "description": "A sample, with commas.",
	  "properties": {
	    "memory": {"type": "string", "title": "Memory", "description": "Memory, per step (say 2).", "pattern": "^[0-9]+(\\.[0-9]+)?$", "enum": ["1", "2"], "default": "1"},
	    "dir": {"type": "string", "title": "Directory", "examples": ["/a,b"], "x-berth-host-path": true},
	    "url": {"type": "string", "format": "uri", "x-berth-outbound-url": true},
	    "secret": {"type": "string", "format": "password", "writeOnly": true},
	    "on": {"type": "boolean", "default": true},
	    "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 8080},
	    "args": {"type": "object", "additionalProperties": {"type": "string"}},
	    "repos": {"type": "array", "items": {"type": "string"}}
	  },
	  "required": ["dir"],
	  "additionalProperties": false
	}`
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("For[sample] =\n%s\nwant\n%s", got, want)
	}
	// Settings forms list the properties in the struct's order.
	var order struct {
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(got, &order); err != nil {
		t.Fatal(err)
	}
	if names := propertyNames(t, order.Properties); !reflect.DeepEqual(names, []string{"memory", "dir", "url", "secret", "on", "port", "args", "repos"}) {
		t.Errorf("property order = %v", names)
	}
}

func TestProperty(t *testing.T) {
	s := For[sample]("Sample", "")
	if p := Property(s, "port"); p.Type != "integer" {
		t.Errorf("Property(port).Type = %q", p.Type)
	}
	defer func() {
		if recover() == nil {
			t.Error("Property(missing) did not panic")
		}
	}()
	Property(s, "missing")
}

// propertyNames lists the members of a JSON object in document order.
func propertyNames(t *testing.T, obj json.RawMessage) []string {
	t.Helper()
	var names []string
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// secretish has tags on properties that are not strings.
type secretish struct {
	Headers map[string]string `json:"headers,omitempty" jsonschema:"title=Secret headers,writeOnly=true,maxProperties=20,minProperties=1,maxLength=100,pattern=^[^\\r\\n]*$" jsonschema_description:"Headers, secret."`
	Labels  map[string]string `json:"labels,omitempty" jsonschema:"title=Labels,readOnly=true,enum=a,enum=b"`
	Plain   map[string]string `json:"plain,omitempty" jsonschema:"title=Plain"`
	Numbers map[string]int    `json:"numbers,omitempty" jsonschema:"writeOnly=true,maxLength=3"`
	Keys    []string          `json:"keys,omitempty" jsonschema:"writeOnly=true,maxItems=3,minLength=1"`
	PIN     int               `json:"pin,omitempty" jsonschema:"writeOnly=true,minimum=0"`
	Off     map[string]string `json:"off,omitempty" jsonschema:"writeOnly=false"`
}

// TestTagsOnEveryType checks writeOnly, readOnly and the object and value
// keywords apply to maps (and writeOnly to numbers and slices), which the
// reflector alone drops.
func TestTagsOnEveryType(t *testing.T) {
	got := Encode(For[secretish]("S", ""))
	want := `{
	  "$schema": "https://json-schema.org/draft/2020-12/schema",
	  "type": "object", "title": "S",
	  "properties": {
	    "headers": {"type": "object", "title": "Secret headers", "description": "Headers, secret.", "writeOnly": true,
	      "minProperties": 1, "maxProperties": 20,
	      "additionalProperties": {"type": "string", "maxLength": 100, "pattern": "^[^\\r\\n]*$"}},
	    "labels": {"type": "object", "title": "Labels", "readOnly": true, "additionalProperties": {"type": "string", "enum": ["a", "b"]}},
	    "plain": {"type": "object", "title": "Plain", "additionalProperties": {"type": "string"}},
	    "numbers": {"type": "object", "writeOnly": true, "additionalProperties": {"type": "integer"}},
	    "keys": {"type": "array", "writeOnly": true, "maxItems": 3, "items": {"type": "string", "minLength": 1}},
	    "pin": {"type": "integer", "writeOnly": true, "minimum": 0},
	    "off": {"type": "object", "additionalProperties": {"type": "string"}}
	  },
	  "additionalProperties": false
	}`
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("For[secretish] =\n%s\nwant\n%s", got, want)
	}
}

func TestSplitTag(t *testing.T) {
	for tag, want := range map[string][]string{
		"":                    {""},
		"a=1,b=2":             {"a=1", "b=2"},
		`example=/a\,b,c=d`:   {"example=/a,b", "c=d"},
		`pattern=^x\\y$,e=\,`: {`pattern=^x\\y$`, "e=,"},
	} {
		if got := splitTag(tag); !reflect.DeepEqual(got, want) {
			t.Errorf("splitTag(%q) = %q, want %q", tag, got, want)
		}
	}
}
