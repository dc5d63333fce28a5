package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
)

// callTimeout bounds every call the suites make.
const callTimeout = 30 * time.Second

// BaseSuite configures the checks every kind shares.
type BaseSuite struct {
	// Settings are valid settings; the suite configures the plugin with
	// them before the kind's checks. Nil for plugins without settings.
	Settings json.RawMessage
	// InvalidSettings, when set, must be refused with a *sdk.ConfigError
	// naming at least one field.
	InvalidSettings json.RawMessage
}

// testBase checks Info, ConfigSchema and Configure, and leaves p configured
// with s.Settings.
func testBase(t *testing.T, p sdk.Plugin, kind sdk.Kind, s BaseSuite) *sdk.InfoResponse {
	t.Helper()
	var info *sdk.InfoResponse
	t.Run("base/info", func(t *testing.T) {
		ctx := testContext(t)
		r, err := p.Info(ctx, &sdk.InfoRequest{})
		if err != nil {
			t.Fatalf("Info: %v", err)
		}
		info = r
		k, _, err := sdk.ParseID(r.ID)
		if err != nil {
			t.Fatalf("Info: %v", err)
		}
		if k != kind {
			t.Errorf("Info: id %q is of kind %s, want %s", r.ID, k, kind)
		}
		if r.Version == "" {
			t.Errorf("Info: empty Version")
		}
		if !contains(r.ProtocolVersions, sdk.ProtocolVersion) {
			t.Errorf("Info: ProtocolVersions %v lack version %d", r.ProtocolVersions, sdk.ProtocolVersion)
		}
		again, err := p.Info(ctx, &sdk.InfoRequest{})
		if err != nil || again.ID != r.ID || again.Version != r.Version {
			t.Errorf("Info is not stable: %+v then %+v (%v)", r, again, err)
		}
	})
	if info == nil {
		t.FailNow()
	}
	t.Run("base/config_schema", func(t *testing.T) {
		r, err := p.ConfigSchema(testContext(t), &sdk.ConfigSchemaRequest{})
		if err != nil {
			t.Fatalf("ConfigSchema: %v", err)
		}
		var schema map[string]any
		if err := json.Unmarshal(r.Settings, &schema); err != nil {
			t.Fatalf("ConfigSchema: settings schema is not a JSON object: %v", err)
		}
		if schema["type"] != "object" {
			t.Errorf(`ConfigSchema: settings schema has type %v, want "object"`, schema["type"])
		}
		if len(r.App) > 0 {
			var app map[string]any
			if err := json.Unmarshal(r.App, &app); err != nil {
				t.Errorf("ConfigSchema: app schema is not a JSON object: %v", err)
			}
		}
	})
	t.Run("base/configure_rejects_non_object", func(t *testing.T) {
		_, err := p.Configure(testContext(t), &sdk.ConfigureRequest{Settings: json.RawMessage(`["not", "an", "object"]`)})
		if !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Configure([...]) = %v, want an error matching sdk.ErrInvalidArgument", err)
		}
	})
	if s.InvalidSettings != nil {
		t.Run("base/configure_invalid", func(t *testing.T) {
			_, err := p.Configure(testContext(t), &sdk.ConfigureRequest{Settings: s.InvalidSettings})
			var cfg *sdk.ConfigError
			if !errors.As(err, &cfg) || len(cfg.Fields) == 0 {
				t.Fatalf("Configure(invalid) = %v, want a *sdk.ConfigError with field errors", err)
			}
			if !errors.Is(err, sdk.ErrInvalidArgument) {
				t.Errorf("Configure(invalid): error does not match sdk.ErrInvalidArgument")
			}
		})
	}
	t.Run("base/configure", func(t *testing.T) {
		if _, err := p.Configure(testContext(t), &sdk.ConfigureRequest{Settings: s.Settings}); err != nil {
			t.Fatalf("Configure(valid settings): %v", err)
		}
	})
	return info
}

// testContext returns a context bounded by callTimeout.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// cancelledContext returns a context that is already cancelled.
func cancelledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
