package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/sdk"
)

// BuilderSchemas tells the service the per-application settings schema of
// an installed builder plugin (sdk.ConfigSchemaResponse.App, as recorded in
// the plugin index, so no plugin process starts). installed is false for a
// builder that is not installed.
type BuilderSchemas interface {
	BuilderAppSchema(ctx context.Context, builderID string) (schema json.RawMessage, installed bool, err error)
}

// checkBuildSettings validates an application's build settings against its
// builder's app schema with sdk.ValidateSettings, the same check the
// builder's SDK runs before a build, so a mistake is a 422 naming the
// setting when it is saved rather than a failed deployment later. Settings
// are checked when they or the build type change; a builder that is not
// installed (or a build type that names none, like auto) is not checked
// here: the deployment says what is missing.
func (as *Applications) checkBuildSettings(ctx context.Context, was *ApplicationSettings, in ApplicationSettings) error {
	schemas := as.s.deps.Builders
	if schemas == nil || in.SourceType != "git" {
		return nil
	}
	if was != nil && was.BuildType == in.BuildType && bytes.Equal(was.BuildSettings, in.BuildSettings) {
		return nil
	}
	schema, installed, err := schemas.BuilderAppSchema(ctx, "builder."+in.BuildType)
	if err != nil {
		return fmt.Errorf("builder schema: %w", err)
	}
	if !installed {
		return nil
	}
	err = sdk.ValidateSettings(schema, in.BuildSettings)
	var ce *sdk.ConfigError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce) && len(ce.Fields) > 0:
		f := ce.Fields[0]
		field := "build_settings"
		if f.Field != "" {
			field += "." + f.Field
		}
		return problem.InvalidField(field, "%s", f.Message)
	default:
		// The builder's own schema does not compile: the builder's fault.
		return fmt.Errorf("builder.%s: %w", in.BuildType, err)
	}
}
