package service_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/berth-dev/berth/core/service"
)

// fakeSchemas is an installed builder.dockerfile with a small app schema.
type fakeSchemas struct{}

func (fakeSchemas) BuilderAppSchema(_ context.Context, id string) (json.RawMessage, bool, error) {
	if id != "builder.dockerfile" {
		return nil, false, nil
	}
	return json.RawMessage(`{"type":"object","additionalProperties":false,"properties":{
		"dockerfile":{"type":"string"},
		"build_args":{"type":"object","additionalProperties":{"type":"string"}},
		"no_cache":{"type":"boolean"}}}`), true, nil
}

// TestBuildSettingsAreCheckedAgainstTheBuilderSchema: build settings are
// validated with the builder's own schema when saved, naming the setting.
func TestBuildSettingsAreCheckedAgainstTheBuilderSchema(t *testing.T) {
	ctx := context.Background()
	w := newAppWorld(t)
	svc := service.New(service.Deps{Store: w.st, Builders: fakeSchemas{}})
	tests := []struct {
		name      string
		buildType string
		settings  string
		status    int
		field     string
	}{
		{"valid", "dockerfile", `{"dockerfile":"web.Dockerfile","no_cache":true}`, 0, ""},
		{"wrong type", "dockerfile", `{"no_cache":"yes"}`, 422, "build_settings.no_cache"},
		{"unknown setting", "dockerfile", `{"dockerfil":"x"}`, 422, "build_settings.dockerfil"},
		{"nested", "dockerfile", `{"build_args":{"A":1}}`, 422, "build_settings.build_args.A"},
		{"builder not installed: checked at deploy", "railpack", `{"anything":1}`, 0, ""},
		{"auto names no builder", "auto", `{}`, 0, ""},
	}
	for _, tt := range tests {
		in := service.NewApplicationSettings()
		in.Name, in.GitRepository, in.Port = "b-"+tt.buildType, "https://example.com/b.git", 8080
		in.BuildType, in.BuildSettings = tt.buildType, json.RawMessage(tt.settings)
		a, err := svc.Applications.Create(ctx, w.member, w.env, in)
		want(t, "create: "+tt.name, err, tt.status, tt.field)
		if err == nil {
			if err := svc.Applications.Delete(ctx, w.admin, a); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Saved settings that a newer builder refuses do not block other
	// changes; changing them is checked.
	in := service.ApplicationSettings{ApplicationSpec: w.app.Spec()}
	in.BuildType = "dockerfile" // new applications default to auto, which has no schema
	in.BuildSettings = json.RawMessage(`{"legacy":true}`)
	a, err := service.New(service.Deps{Store: w.st}).Applications.Update(ctx, w.member, w.app, in)
	want(t, "saved before the check existed", err, 0, "")
	in = service.ApplicationSettings{ApplicationSpec: a.Spec()}
	in.Replicas = 2
	a, err = svc.Applications.Update(ctx, w.member, a, in)
	want(t, "other change", err, 0, "")
	_, err = svc.Applications.SetBuildSettings(ctx, w.member, a, json.RawMessage(`{"legacy":false}`))
	want(t, "changed settings", err, 422, "build_settings.legacy")
	_, err = svc.Applications.SetBuildSettings(ctx, w.member, a, json.RawMessage(`{"no_cache":true}`))
	want(t, "fixed settings", err, 0, "")
}
