// Package writeonly keeps secret plugin settings from ever being sent back.
// A plugin's settings schema (JSON Schema) marks its secrets — passwords,
// tokens, secret keys — with "writeOnly": true. Redact replaces their
// values with Marker before settings leave berth (API answers, dashboard
// forms); Merge puts the saved values back when a client returns a
// document holding Marker, or leaving a secret out, so changing a bucket
// name does not require the secret key again.
//
// The schema is walked through "properties", nested objects included; a
// secret inside an array item or behind $ref, allOf and the like is not
// seen, so plugins should declare their secrets as plain properties.
package writeonly

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Marker stands in for a saved secret in answers. Sent back in its place,
// it keeps the saved value.
const Marker = "********"

var markerJSON = json.RawMessage(`"` + Marker + `"`)

// node is the part of a JSON Schema this package reads.
type node struct {
	WriteOnly  bool             `json:"writeOnly"`
	Properties map[string]*node `json:"properties"`
}

// parse reads a schema; nil when it is empty or unreadable, which callers
// treat as "every property may be secret".
func parse(schema json.RawMessage) *node {
	if len(bytes.TrimSpace(schema)) == 0 {
		return nil
	}
	var n node
	if json.Unmarshal(schema, &n) != nil {
		return nil
	}
	return &n
}

// object decodes a settings document; empty input is an empty object.
func object(doc json.RawMessage) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(doc)) == 0 || isNull(doc) {
		return out, nil
	}
	if err := json.Unmarshal(doc, &out); err != nil {
		return nil, fmt.Errorf("settings: not a JSON object: %w", err)
	}
	if out == nil { // "null" decodes to a nil map
		out = map[string]json.RawMessage{}
	}
	return out, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func isMarker(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), markerJSON) }

// Redact returns settings with the value of every property the schema
// marks writeOnly replaced by Marker (an unset or null secret stays as
// it is). With an empty or unreadable schema nothing is known to be safe,
// so every value is replaced.
func Redact(schema, settings json.RawMessage) (json.RawMessage, error) {
	doc, err := object(settings)
	if err != nil {
		return nil, err
	}
	redact(parse(schema), doc)
	return json.Marshal(doc)
}

// redact replaces secrets in doc in place; n == nil redacts every value.
func redact(n *node, doc map[string]json.RawMessage) {
	for k, v := range doc {
		if isNull(v) {
			continue
		}
		var p *node
		if n != nil {
			if p = n.Properties[k]; p == nil {
				continue // not in the schema: the plugin does not read it as a secret
			}
		}
		if p == nil || p.WriteOnly {
			doc[k] = markerJSON
			continue
		}
		if len(p.Properties) > 0 {
			if sub, err := object(v); err == nil {
				redact(p, sub)
				doc[k], _ = json.Marshal(sub)
			}
		}
	}
}

// Merge returns the document to save when next is submitted over saved:
// a writeOnly property that next leaves out keeps its saved value, as does
// any property next sends as Marker; a writeOnly property sent as null is
// removed. Everything else is next's.
func Merge(schema, saved, next json.RawMessage) (json.RawMessage, error) {
	old, err := object(saved)
	if err != nil {
		return nil, fmt.Errorf("saved %w", err)
	}
	doc, err := object(next)
	if err != nil {
		return nil, err
	}
	merge(parse(schema), old, doc)
	return json.Marshal(doc)
}

// merge fills doc from old in place.
func merge(n *node, old, doc map[string]json.RawMessage) {
	cleared := map[string]bool{}
	for k, v := range doc {
		var p *node
		if n != nil {
			p = n.Properties[k]
		}
		switch {
		case isMarker(v):
			if prev, ok := old[k]; ok {
				doc[k] = prev
			} else {
				delete(doc, k) // nothing saved to keep
			}
		case p != nil && p.WriteOnly && isNull(v):
			delete(doc, k)
			cleared[k] = true
		case p != nil && len(p.Properties) > 0:
			sub, err1 := object(v)
			prev, err2 := object(old[k])
			if err1 == nil && err2 == nil {
				merge(p, prev, sub)
				doc[k], _ = json.Marshal(sub)
			}
		}
	}
	if n == nil {
		return
	}
	for k, p := range n.Properties {
		if _, sent := doc[k]; !sent && !cleared[k] && p.WriteOnly {
			if prev, ok := old[k]; ok && !isNull(prev) {
				doc[k] = prev
			}
		}
	}
}

// Secrets lists the top-level properties the schema marks writeOnly that
// settings holds a value for (so a form can say a secret is saved without
// showing it).
func Secrets(schema, settings json.RawMessage) map[string]bool {
	out := map[string]bool{}
	n := parse(schema)
	doc, err := object(settings)
	if n == nil || err != nil {
		return out
	}
	for k, p := range n.Properties {
		if v, ok := doc[k]; ok && p.WriteOnly && !isNull(v) {
			out[k] = true
		}
	}
	return out
}

// Properties returns, sorted, the top-level properties schema marks
// writeOnly (secrets).
func Properties(schema json.RawMessage) []string {
	var sc struct {
		Properties map[string]struct {
			WriteOnly bool `json:"writeOnly"`
		} `json:"properties"`
	}
	if json.Unmarshal(schema, &sc) != nil {
		return nil
	}
	out := make([]string, 0, len(sc.Properties))
	for name, p := range sc.Properties {
		if p.WriteOnly {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// StringProperties returns the string-valued top-level properties of a
// settings document.
func StringProperties(settings json.RawMessage) map[string]string {
	var raw map[string]json.RawMessage
	out := map[string]string{}
	if json.Unmarshal(settings, &raw) != nil {
		return out
	}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		}
	}
	return out
}
