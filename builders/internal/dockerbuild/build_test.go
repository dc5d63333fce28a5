package dockerbuild

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

func TestEngineSettingsValidate(t *testing.T) {
	tests := []struct {
		name   string
		s      EngineSettings
		fields string
	}{
		{"empty", EngineSettings{}, ""},
		{"limits", EngineSettings{MemoryLimit: "2g", NetworkMode: "none"}, ""},
		{"not a size", EngineSettings{MemoryLimit: "lots"}, "memory_limit"},
		{"too small", EngineSettings{MemoryLimit: "1k"}, "memory_limit"},
		{"unknown network", EngineSettings{NetworkMode: "bridge2"}, "network_mode"},
		{"both bad", EngineSettings{MemoryLimit: "x", NetworkMode: "y"}, "memory_limit network_mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs sdk.ConfigError
			tt.s.Validate(&errs)
			if got := fieldNames(&errs); got != tt.fields {
				t.Errorf("Validate fields = %q, want %q", got, tt.fields)
			}
		})
	}
}

func TestCheckBuildArgs(t *testing.T) {
	var errs sdk.ConfigError
	CheckBuildArgs(&errs, "build_args", map[string]string{"OK_1": "", "_x": "", "1BAD": "", "has-dash": ""})
	if got, want := fieldNames(&errs), "build_args.1BAD build_args.has-dash"; got != want {
		t.Errorf("CheckBuildArgs fields = %q, want %q", got, want)
	}
}

func TestCheckImageName(t *testing.T) {
	for _, name := range []string{"app", "registry.local:5000/team/app:v1"} {
		if err := CheckImageName(name); err != nil {
			t.Errorf("CheckImageName(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"", "app:tag with space", "app@sha256:abc"} {
		if err := CheckImageName(name); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("CheckImageName(%q) = %v, want ErrInvalidArgument", name, err)
		}
	}
}

// fieldNames lists the fields of errs, space-separated, in order.
func fieldNames(errs *sdk.ConfigError) string {
	names := make([]string, 0, len(errs.Fields))
	for _, f := range errs.Fields {
		names = append(names, f.Field)
	}
	return strings.Join(names, " ")
}
