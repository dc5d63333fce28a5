package plugintest

import (
	"encoding/json"
	"reflect"
	"testing"
)

type engineSettings struct {
	Memory string `json:"memory,omitempty"`
}

type sampleSettings struct {
	engineSettings
	URL     string            `json:"url"`
	Port    int               `json:"port,omitempty"`
	Ratio   float64           `json:"ratio,omitempty"`
	On      *bool             `json:"on,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Repos   []string          `json:"repos,omitempty"`
	Skipped string            `json:"-"`
	hidden  string
}

func TestSettingsSchemaProblems(t *testing.T) {
	const props = `"memory": {"type": "string"}, "port": {"type": "integer"}, "ratio": {"type": "number"},
		"on": {"type": "boolean"}, "headers": {"type": "object"}, "repos": {"type": "array", "items": {"type": "string"}}`
	tests := []struct {
		name   string
		schema string
		want   []string
	}{
		{"matches", `{"properties": {"url": {"type": ["string", "null"]}, ` + props + `}, "required": ["url"]}`, nil},
		{"untyped property", `{"properties": {"url": {"enum": ["a"]}, ` + props + `}}`, nil},
		{"integer as number", `{"properties": {"url": {"type": "string"}, "memory": {"type": "string"}, "port": {"type": "number"}, "ratio": {"type": "number"}, "on": {"type": "boolean"}, "headers": {"type": "object"}, "repos": {"type": "array"}}}`, nil},
		{"missing property", `{"properties": {` + props + `}}`, []string{"field plugintest.sampleSettings.URL (JSON url): no schema property"}},
		{"extra property", `{"properties": {"url": {"type": "string"}, "uri": {"type": "string"}, ` + props + `}}`, []string{"schema property uri: no field of plugintest.sampleSettings has this JSON name"}},
		{"wrong type", `{"properties": {"url": {"type": "integer"}, ` + props + `}}`, []string{`schema property url: type "integer", but field plugintest.sampleSettings.URL is a JSON string`}},
		{"required unknown", `{"properties": {"url": {"type": "string"}, ` + props + `}, "required": ["token"]}`, []string{"schema requires token, which is not a property"}},
		{"not JSON", `{`, []string{"settings schema: unexpected end of JSON input"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := settingsSchemaProblems(json.RawMessage(tt.schema), reflect.TypeOf(&sampleSettings{}))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems = %q, want %q", got, tt.want)
			}
		})
	}
	if got := settingsSchemaProblems(json.RawMessage(`{}`), reflect.TypeOf("")); len(got) != 1 {
		t.Errorf("problems of a string type = %q, want one", got)
	}
}
