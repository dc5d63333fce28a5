package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/writeonly"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
)

// Plugins saves the settings of instance-wide plugins: instance
// administrators only, since a plugin serves every tenant.
type Plugins struct{ s *Services }

// PluginConfigurer checks and applies settings to a running plugin; an
// invalid setting comes back as a *sdk.ConfigError, an unknown plugin as
// an error wrapping ErrUnknownPlugin.
type PluginConfigurer interface {
	ConfigurePlugin(ctx context.Context, id string, settings json.RawMessage) error
}

// ErrUnknownPlugin is returned by a PluginConfigurer (and a git provider
// lookup) for an id no installed plugin has.
var ErrUnknownPlugin = errors.New("no such plugin")

// MaxPluginSettings bounds a plugin's settings document.
const MaxPluginSettings = 256 << 10

// PluginSettingsChange is the input of Plugins.Configure.
type PluginSettingsChange struct {
	// ID is the plugin's id; Schema its settings schema, whose writeOnly
	// properties (secrets) keep their saved values when left out or sent
	// as writeonly's marker.
	ID     string
	Schema json.RawMessage
	// Settings is a JSON object.
	Settings json.RawMessage
}

// Validate checks the settings are a JSON object of bounded size.
func (in PluginSettingsChange) Validate() error {
	if !bytes.HasPrefix(bytes.TrimSpace(in.Settings), []byte("{")) {
		return problem.InvalidField("settings", "must be a JSON object")
	}
	if len(in.Settings) > MaxPluginSettings {
		return problem.InvalidField("settings", "must be at most 256 KiB")
	}
	return nil
}

// Configure merges the settings over the saved ones, has the plugin check
// and apply them (through plugins, nil: unavailable), and saves them when
// it accepts them (instance administrators). It returns the settings saved,
// secrets included: callers redact them before showing them. A plugin's
// refusal is invalid input naming its first field, wrapping the
// *sdk.ConfigError.
func (ps *Plugins) Configure(ctx context.Context, p *store.Principal, plugins PluginConfigurer, in PluginSettingsChange) (json.RawMessage, error) {
	use := []hostaccess.Use{{Field: "settings", Power: hostaccess.PluginSettings}}
	if p != System {
		if err := ps.s.deps.HostAccess.CheckChange(ctx, p, uuid.Nil, nil, use); err != nil {
			return nil, err
		}
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if plugins == nil {
		return nil, problem.Down("plugins are not available on this server", nil)
	}
	st := ps.s.deps.Store
	saved, err := st.PluginSettings(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	settings, err := writeonly.Merge(in.Schema, saved, in.Settings)
	if err != nil {
		return nil, problem.InvalidField("settings", "%v", err)
	}
	if err := plugins.ConfigurePlugin(ctx, in.ID, settings); err != nil {
		return nil, pluginProblem(err)
	}
	var by uuid.UUID
	if p != System {
		by = p.User.ID
	}
	if err := st.SetPluginSettings(ctx, in.ID, settings, by); err != nil {
		return nil, err
	}
	return settings, nil
}

// pluginProblem maps a plugin's refusal to invalid input naming the field
// (every field's message joined), an unknown plugin to not found and any
// other failure to the plugin's (502).
func pluginProblem(err error) error {
	var cfg *sdk.ConfigError
	switch {
	case errors.As(err, &cfg) && len(cfg.Fields) > 0:
		msgs := make([]string, 0, len(cfg.Fields))
		for _, f := range cfg.Fields {
			msgs = append(msgs, "settings."+f.Field+": "+f.Message)
		}
		e := problem.InvalidField("settings."+cfg.Fields[0].Field, "%s", cfg.Fields[0].Message)
		e.Message, e.Err = strings.Join(msgs, "; "), err
		return e
	case errors.Is(err, ErrUnknownPlugin):
		return problem.Missing("plugin")
	}
	return problem.Upstream("plugin_failed", err.Error(), err)
}
