package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

const testSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["host"],
  "properties": {
    "host": {"type": "string", "minLength": 1},
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "token": {"type": "string", "writeOnly": true, "pattern": "^tok_[a-z]+$"},
    "mode": {"enum": ["fast", "safe"]},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}},
    "env": {"type": "object", "propertyNames": {"pattern": "^[A-Z_]+$"}, "additionalProperties": {"type": "string"}}
  }
}`

func TestValidateSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings string
		want     map[string]string // field -> message substring
	}{
		{"valid", `{"host":"a","port":80,"mode":"fast","tags":["x"],"env":{"A_B":"1"}}`, nil},
		{"empty document reports required", ``, map[string]string{"host": "is required"}},
		{"null document", `null`, map[string]string{"host": "is required"}},
		{"wrong type", `{"host":"a","port":"80"}`, map[string]string{"port": "must be of type integer"}},
		{"out of range", `{"host":"a","port":70000}`, map[string]string{"port": "must be at most 65535"}},
		{"unknown setting", `{"host":"a","colour":"red"}`, map[string]string{"colour": "is not a known setting"}},
		{"enum", `{"host":"a","mode":"slow"}`, map[string]string{"mode": `must be one of "fast", "safe"`}},
		{"array item", `{"host":"a","tags":["ok","long"]}`, map[string]string{"tags[1]": "at most 3 characters"}},
		{"several at once", `{"port":0,"mode":1}`, map[string]string{"host": "is required", "port": "at least 1", "mode": "must be one of"}},
		{"not JSON", `{`, map[string]string{"": "not valid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sdk.ValidateSettings(json.RawMessage(testSchema), json.RawMessage(tt.settings))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ValidateSettings = %v, want nil", err)
				}
				return
			}
			var ce *sdk.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, sdk.ErrInvalidArgument) {
				t.Fatalf("ValidateSettings = %v, want a *ConfigError", err)
			}
			got := map[string]string{}
			for _, f := range ce.Fields {
				got[f.Field] += f.Message + ";"
			}
			for field, msg := range tt.want {
				if !strings.Contains(got[field], msg) {
					t.Errorf("field %q: got %q, want it to contain %q (all: %v)", field, got[field], msg, got)
				}
			}
		})
	}
}

// TestValidateSettingsNeverEchoesValues: a setting may be a secret, so no
// message repeats what was submitted.
func TestValidateSettingsNeverEchoesValues(t *testing.T) {
	const secret = "hunter2-SECRET"
	for _, doc := range []string{
		`{"host":"a","token":"` + secret + `"}`,
		`{"host":"a","mode":"` + secret + `"}`,
		`{"host":"a","port":"` + secret + `"}`,
		`{"host":"a","env":{"` + secret + `":"x"}}`,
	} {
		err := sdk.ValidateSettings(json.RawMessage(testSchema), json.RawMessage(doc))
		if err == nil {
			t.Fatalf("%s: want an error", doc)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error repeats the value: %v", err)
		}
	}
}

func TestValidateSettingsSchemaProblems(t *testing.T) {
	if err := sdk.ValidateSettings(nil, json.RawMessage(`{"anything":1}`)); err != nil {
		t.Errorf("an empty schema accepts anything, got %v", err)
	}
	err := sdk.ValidateSettings(json.RawMessage(`{"$ref":"https://example.com/s.json"}`), json.RawMessage(`{}`))
	if err == nil || errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("a schema referring outside itself is the plugin's fault, not the settings': %v", err)
	}
}

// schemaBuilder is a builder whose app schema requires a numeric "level";
// it records whether Build ran.
type schemaBuilder struct {
	sdk.UnimplementedBuilder
	built *bool
}

func (schemaBuilder) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "builder.schema", Version: "0.0.1"}, nil
}

func (schemaBuilder) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{
		Settings: json.RawMessage(`{"type":"object","properties":{"workers":{"type":"integer","minimum":1}},"additionalProperties":false}`),
		App:      json.RawMessage(`{"type":"object","properties":{"level":{"type":"integer"}},"additionalProperties":false}`),
	}, nil
}

func (b schemaBuilder) Configure(context.Context, *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return &sdk.ConfigureResponse{}, nil
}

func (b schemaBuilder) Build(_ context.Context, req *sdk.BuildRequest) (*sdk.BuildResponse, error) {
	*b.built = true
	return &sdk.BuildResponse{Image: req.Image}, nil
}

// TestSettingsAreValidatedBeforeThePluginSeesThem: the SDK checks Build's
// app settings and Configure's settings against the plugin's own schemas.
func TestSettingsAreValidatedBeforeThePluginSeesThem(t *testing.T) {
	var built bool
	b := plugintest.Builder(t, schemaBuilder{built: &built})
	ctx := context.Background()
	var ce *sdk.ConfigError
	_, err := b.Build(ctx, &sdk.BuildRequest{Image: "x:1", Settings: json.RawMessage(`{"level":"high"}`), Log: func(sdk.LogLine) {}})
	if !errors.As(err, &ce) || ce.Fields[0].Field != "level" || built {
		t.Fatalf("Build with bad settings = %v (built %v), want a ConfigError on level before the build", err, built)
	}
	if _, err := b.Build(ctx, &sdk.BuildRequest{Image: "x:1", Settings: json.RawMessage(`{"level":3}`), Log: func(sdk.LogLine) {}}); err != nil || !built {
		t.Fatalf("Build with good settings = %v (built %v)", err, built)
	}
	if _, err := b.Configure(ctx, &sdk.ConfigureRequest{Settings: json.RawMessage(`{"workers":0}`)}); !errors.As(err, &ce) || ce.Fields[0].Field != "workers" {
		t.Fatalf("Configure with bad settings = %v, want a ConfigError on workers", err)
	}
}
