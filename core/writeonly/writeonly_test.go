package writeonly

import (
	"encoding/json"
	"reflect"
	"testing"
)

const schema = `{
  "type": "object",
  "properties": {
    "bucket": {"type": "string"},
    "secret_access_key": {"type": "string", "writeOnly": true},
    "port": {"type": "integer", "writeOnly": true},
    "smtp": {"type": "object", "properties": {
      "host": {"type": "string"},
      "password": {"type": "string", "writeOnly": true}
    }}
  }
}`

// same reports whether two JSON documents are equal as values.
func same(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		name, schema, settings, want string
	}{
		{"secrets replaced", schema,
			`{"bucket": "b", "secret_access_key": "SK", "port": 25, "smtp": {"host": "h", "password": "PW"}}`,
			`{"bucket": "b", "secret_access_key": "********", "port": "********", "smtp": {"host": "h", "password": "********"}}`},
		{"unset and null secrets stay", schema, `{"bucket": "b", "secret_access_key": null}`, `{"bucket": "b", "secret_access_key": null}`},
		{"keys outside the schema stay", schema, `{"other": "x"}`, `{"other": "x"}`},
		{"no schema: everything", ``, `{"bucket": "b", "n": 1}`, `{"bucket": "********", "n": "********"}`},
		{"unreadable schema: everything", `{"properties": 3}`, `{"bucket": "b"}`, `{"bucket": "********"}`},
		{"empty settings", schema, ``, `{}`},
		{"null settings", schema, `null`, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Redact(json.RawMessage(tc.schema), json.RawMessage(tc.settings))
			if err != nil {
				t.Fatal(err)
			}
			same(t, got, tc.want)
		})
	}
	if _, err := Redact(json.RawMessage(schema), json.RawMessage(`[1]`)); err == nil {
		t.Fatal("Redact accepted an array")
	}
}

func TestMerge(t *testing.T) {
	saved := `{"bucket": "old", "secret_access_key": "SK", "port": 25, "smtp": {"host": "h", "password": "PW"}}`
	for _, tc := range []struct {
		name, schema, saved, next, want string
	}{
		{"left out keeps the secret", schema, saved, `{"bucket": "new"}`,
			`{"bucket": "new", "secret_access_key": "SK", "port": 25}`},
		{"marker keeps the secret", schema, saved,
			`{"bucket": "new", "secret_access_key": "********", "smtp": {"host": "h2", "password": "********"}}`,
			`{"bucket": "new", "secret_access_key": "SK", "port": 25, "smtp": {"host": "h2", "password": "PW"}}`},
		{"nested secret left out is kept", schema, saved, `{"smtp": {"host": "h2"}}`,
			`{"secret_access_key": "SK", "port": 25, "smtp": {"host": "h2", "password": "PW"}}`},
		{"new value replaces", schema, saved, `{"secret_access_key": "SK2", "port": 587}`,
			`{"secret_access_key": "SK2", "port": 587}`},
		{"null clears a secret", schema, saved, `{"secret_access_key": null}`, `{"port": 25}`},
		{"marker with nothing saved is dropped", schema, `{}`, `{"secret_access_key": "********"}`, `{}`},
		{"no schema: marker round-trips", ``, `{"a": "x", "b": "y"}`, `{"a": "********", "b": "z"}`, `{"a": "x", "b": "z"}`},
		{"non-secret left out is dropped", schema, saved, `{}`, `{"secret_access_key": "SK", "port": 25}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Merge(json.RawMessage(tc.schema), json.RawMessage(tc.saved), json.RawMessage(tc.next))
			if err != nil {
				t.Fatal(err)
			}
			same(t, got, tc.want)
		})
	}
}

func TestRedactThenMergeRoundTrips(t *testing.T) {
	saved := json.RawMessage(`{"bucket": "b", "secret_access_key": "SK", "smtp": {"host": "h", "password": "PW"}}`)
	shown, err := Redact(json.RawMessage(schema), saved)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Merge(json.RawMessage(schema), saved, shown)
	if err != nil {
		t.Fatal(err)
	}
	same(t, back, string(saved))
}

func TestSecrets(t *testing.T) {
	got := Secrets(json.RawMessage(schema), json.RawMessage(`{"bucket": "b", "secret_access_key": "SK", "port": null}`))
	if !reflect.DeepEqual(got, map[string]bool{"secret_access_key": true}) {
		t.Fatalf("Secrets = %v", got)
	}
}

// mapSchema is notifier.webhook's: secret_headers is a writeOnly object
// with free keys (a Go map), headers a visible one.
const mapSchema = `{
  "type": "object",
  "properties": {
    "url": {"type": "string"},
    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    "secret_headers": {"type": "object", "writeOnly": true, "additionalProperties": {"type": "string"}}
  }
}`

// TestWriteOnlyObject: a writeOnly object is one secret: never returned
// (not even its keys), kept whole when left out or sent as the marker,
// replaced whole when sent, removed when sent as null.
func TestWriteOnlyObject(t *testing.T) {
	saved := `{"url":"https://h.example.com","headers":{"X-A":"1"},"secret_headers":{"Authorization":"Bearer s3cret"}}`
	red, err := Redact(json.RawMessage(mapSchema), json.RawMessage(saved))
	if err != nil {
		t.Fatal(err)
	}
	same(t, red, `{"url":"https://h.example.com","headers":{"X-A":"1"},"secret_headers":"********"}`)
	if s := Secrets(json.RawMessage(mapSchema), json.RawMessage(saved)); !reflect.DeepEqual(s, map[string]bool{"secret_headers": true}) {
		t.Errorf("Secrets = %v", s)
	}
	for _, tc := range []struct{ name, next, want string }{
		{"left out: kept", `{"url":"https://h.example.com/2","headers":{}}`,
			`{"url":"https://h.example.com/2","headers":{},"secret_headers":{"Authorization":"Bearer s3cret"}}`},
		{"marker: kept", `{"url":"https://h.example.com","secret_headers":"********"}`,
			`{"url":"https://h.example.com","secret_headers":{"Authorization":"Bearer s3cret"}}`},
		{"redacted answer sent back: unchanged", string(red), saved},
		{"sent: replaced whole", `{"url":"https://h.example.com","secret_headers":{"X-Token":"t"}}`,
			`{"url":"https://h.example.com","secret_headers":{"X-Token":"t"}}`},
		{"null: removed", `{"url":"https://h.example.com","secret_headers":null}`, `{"url":"https://h.example.com"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Merge(json.RawMessage(mapSchema), json.RawMessage(saved), json.RawMessage(tc.next))
			if err != nil {
				t.Fatal(err)
			}
			same(t, got, tc.want)
		})
	}
}
