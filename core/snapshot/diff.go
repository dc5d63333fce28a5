package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Masked stands in for a secret value in a Change.
const Masked = "********"

// Change is one field that differs between two releases.
type Change struct {
	// Field names what changed: "image", "replicas", "env.FOO",
	// "resources.memory_limit_mb", "files./etc/app.ini",
	// "mounts[/data]", ...
	Field string `json:"field"`
	// From and To are the values in the two releases (null: absent
	// there); a secret value is Masked.
	From *string `json:"from"`
	To   *string `json:"to"`
	// Secret says the values are secret and masked; a changed secret is
	// still listed.
	Secret bool `json:"secret"`
}

// value is one field of a snapshot as Diff compares it.
type value struct {
	text   string
	secret bool
}

// Diff lists what differs from one release to the other, sorted by field.
// Secret values (variables, file contents) are compared but never shown.
func Diff(from, to Snapshot) ([]Change, error) {
	a, err := from.fields()
	if err != nil {
		return nil, err
	}
	b, err := to.fields()
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for k := range a {
		names[k] = true
	}
	for k := range b {
		names[k] = true
	}
	changes := []Change{}
	for field := range names {
		va, inA := a[field]
		vb, inB := b[field]
		if inA == inB && va.text == vb.text {
			continue
		}
		c := Change{Field: field, Secret: va.secret || vb.secret}
		if inA {
			c.From = shown(va.text, c.Secret)
		}
		if inB {
			c.To = shown(vb.text, c.Secret)
		}
		changes = append(changes, c)
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Field < changes[j].Field })
	return changes, nil
}

func shown(v string, secret bool) *string {
	if secret {
		v = Masked
	}
	return &v
}

// fields flattens the snapshot into named values: image, env.KEY,
// files.TARGET (content, secret) and files.TARGET.mode, mounts[TARGET],
// and its settings by their JSON names.
func (s Snapshot) fields() (map[string]value, error) {
	out := map[string]value{"image": {text: s.Image}}
	for k, v := range s.Env {
		out["env."+k] = value{text: v, secret: s.secret(k)}
	}
	for _, f := range s.Files {
		// File contents are write-only in the API: always secret.
		out["files."+f.Target] = value{text: f.Content, secret: true}
		out["files."+f.Target+".mode"] = value{text: fmt.Sprintf("%#o", f.Mode)}
	}
	for _, m := range s.Mounts {
		text := m.Type + " " + m.Source
		if m.ReadOnly {
			text += " (read-only)"
		}
		out["mounts["+m.Target+"]"] = value{text: strings.TrimSpace(text)}
	}
	data, err := json.Marshal(s.Settings)
	if err != nil {
		return nil, fmt.Errorf("release: diff: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var settings map[string]any
	if err := dec.Decode(&settings); err != nil {
		return nil, fmt.Errorf("release: diff: %w", err)
	}
	flatten("", settings, out)
	return out, nil
}

// flatten names each scalar of v by its path ("resources.cpu_limit",
// "labels.team"); a list is one value (its JSON), null is absent.
func flatten(prefix string, v any, out map[string]value) {
	switch v := v.(type) {
	case nil:
	case map[string]any:
		for k, e := range v {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			flatten(name, e, out)
		}
	case string:
		out[prefix] = value{text: v}
	case json.Number:
		out[prefix] = value{text: v.String()}
	case bool:
		out[prefix] = value{text: fmt.Sprint(v)}
	default:
		data, _ := json.Marshal(v) // a list decoded from JSON encodes again
		out[prefix] = value{text: string(data)}
	}
}
