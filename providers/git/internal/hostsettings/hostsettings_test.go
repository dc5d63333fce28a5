package hostsettings

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
)

var testSpec = Spec{
	Info:              sdk.InfoResponse{ID: "git.test", Version: "1.0.0", Capabilities: []sdk.Capability{sdk.CapWebhooks}},
	Title:             "Test",
	DefaultBaseURL:    "https://git.example.com",
	MaxTimeoutSeconds: 300,
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		settings string
		fields   []string
	}{
		{``, nil},
		{`{"base_url": "https://git.example.com/", "timeout_seconds": 300}`, nil},
		{`{"base_url": "git.example.com"}`, []string{"base_url"}},
		{`{"base_url": "https://user:pw@git.example.com"}`, []string{"base_url"}},
		{`{"timeout_seconds": 301}`, []string{"timeout_seconds"}},
		{`{"base_url": "ftp://x", "timeout_seconds": -1}`, []string{"base_url", "timeout_seconds"}},
		{`{"timeout_seconds": "10"}`, []string{"timeout_seconds"}},
		{`{"token": "x"}`, []string{"token"}},
	}
	for _, tt := range tests {
		p := New(testSpec)
		_, err := p.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var cfgErr *sdk.ConfigError
		if len(tt.fields) == 0 {
			if err != nil {
				t.Errorf("Configure(%s) = %v, want it accepted", tt.settings, err)
			}
			continue
		}
		if !errors.As(err, &cfgErr) || len(cfgErr.Fields) != len(tt.fields) {
			t.Errorf("Configure(%s) = %v, want field errors on %v", tt.settings, err, tt.fields)
			continue
		}
		for i, f := range tt.fields {
			if cfgErr.Fields[i].Field != f {
				t.Errorf("Configure(%s): field %d is %q, want %q", tt.settings, i, cfgErr.Fields[i].Field, f)
			}
		}
		if p.Current() != (Settings{}) {
			t.Errorf("Configure(%s) applied invalid settings: %+v", tt.settings, p.Current())
		}
	}
}

func TestDefaultsAndPrecedence(t *testing.T) {
	p := New(testSpec)
	if got := p.BaseURL(nil); got != "https://git.example.com" {
		t.Errorf("BaseURL(nil) = %q, want the default", got)
	}
	if got := p.Timeout(); got != 30*time.Second {
		t.Errorf("Timeout() = %v, want 30s", got)
	}
	if _, err := p.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(`{"base_url": "https://settings.example.com", "timeout_seconds": 5}`)}); err != nil {
		t.Fatal(err)
	}
	if got := p.BaseURL(&sdk.Credentials{}); got != "https://settings.example.com" {
		t.Errorf("BaseURL without a connection URL = %q, want the settings'", got)
	}
	if got := p.BaseURL(&sdk.Credentials{BaseURL: "https://conn.example.com"}); got != "https://conn.example.com" {
		t.Errorf("BaseURL with a connection URL = %q, want the connection's", got)
	}
	if got := p.Timeout(); got != 5*time.Second {
		t.Errorf("Timeout() = %v, want 5s", got)
	}
}

func TestSchemaAndInfo(t *testing.T) {
	p := New(testSpec)
	res, err := p.ConfigSchema(t.Context(), &sdk.ConfigSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Type       string `json:"type"`
		Properties map[string]struct {
			Type    string `json:"type"`
			Default any    `json:"default"`
			Maximum int    `json:"maximum"`
		} `json:"properties"`
		AdditionalProperties *bool `json:"additionalProperties"`
	}
	if err := json.Unmarshal(res.Settings, &schema); err != nil {
		t.Fatalf("schema is not JSON: %v\n%s", err, res.Settings)
	}
	if schema.Type != "object" || schema.AdditionalProperties == nil || *schema.AdditionalProperties ||
		schema.Properties["base_url"].Default != "https://git.example.com" || schema.Properties["timeout_seconds"].Maximum != 300 ||
		schema.Properties["timeout_seconds"].Default != 30.0 {
		t.Errorf("schema = %s", res.Settings)
	}
	info, err := p.Info(t.Context(), &sdk.InfoRequest{})
	if err != nil || info.ID != "git.test" || len(info.Capabilities) != 1 {
		t.Errorf("Info = %+v, %v", info, err)
	}
}
