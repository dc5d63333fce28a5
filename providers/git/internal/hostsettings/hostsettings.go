// Package hostsettings is the settings document the hosted git providers
// (GitHub, Gitea, GitLab, Bitbucket) share — base_url, the host used by
// connections that name none, and timeout_seconds, the bound of one API
// request — with its JSON Schema, its validation (field by field, as an
// *sdk.ConfigError) and the plugin's Info. Each provider keeps only its
// id, version, defaults and descriptions, in a Spec.
package hostsettings

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/providers/git/internal/restapi"
	"github.com/berth-dev/berth/sdk"
)

// Settings is the settings document. Its tags make the settings schema;
// the wording, default and bound that differ between providers come from
// the Spec.
type Settings struct {
	// BaseURL is the host (or API root) for connections without one.
	BaseURL string `json:"base_url,omitempty" jsonschema:"format=uri"`
	// TimeoutSeconds bounds each API request (restapi.DefaultTimeout when
	// zero).
	TimeoutSeconds int `json:"timeout_seconds,omitempty" jsonschema:"minimum=1"`
}

// Spec describes one provider: its Info and the wording and bounds of its
// settings.
type Spec struct {
	// Info is what the plugin's Info answers.
	Info sdk.InfoResponse
	// Title and Description head the settings form.
	Title, Description string
	// BaseURLTitle, DefaultBaseURL and BaseURLDescription describe
	// base_url; DefaultBaseURL is used when neither a connection nor the
	// settings name one.
	BaseURLTitle, DefaultBaseURL, BaseURLDescription string
	// TimeoutTitle and TimeoutDescription describe timeout_seconds;
	// MaxTimeoutSeconds bounds it.
	TimeoutTitle, TimeoutDescription string
	MaxTimeoutSeconds                int
}

// Plugin answers Info, ConfigSchema and Configure for a Spec and holds the
// settings in force. Embed it in a provider (its methods then take
// precedence over sdk.UnimplementedGitProvider's); it is safe for
// concurrent use.
type Plugin struct {
	spec   Spec
	schema json.RawMessage

	mu       sync.RWMutex
	settings Settings
}

// New returns a Plugin with the default (empty) settings.
func New(spec Spec) *Plugin {
	return &Plugin{spec: spec, schema: schema(spec)}
}

// Info describes the plugin.
func (p *Plugin) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	info := p.spec.Info
	info.Capabilities = append([]sdk.Capability(nil), info.Capabilities...)
	return &info, nil
}

// ConfigSchema returns the settings schema.
func (p *Plugin) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: p.schema}, nil
}

// Configure validates and applies settings, naming each bad field. Invalid
// settings leave the previous ones in force.
func (p *Plugin) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s Settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	var errs sdk.ConfigError
	if s.BaseURL != "" {
		if _, err := restapi.ParseBaseURL(s.BaseURL); err != nil {
			errs.Add("base_url", err.Error())
		}
	}
	if s.TimeoutSeconds < 0 || s.TimeoutSeconds > p.spec.MaxTimeoutSeconds {
		errs.Add("timeout_seconds", fmt.Sprintf("must be between 1 and %d", p.spec.MaxTimeoutSeconds))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.settings = s
	p.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Current returns the settings in force.
func (p *Plugin) Current() Settings {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.settings
}

// BaseURL is the host a connection uses: its credentials' BaseURL, else
// the settings', else the Spec's default.
func (p *Plugin) BaseURL(creds *sdk.Credentials) string {
	if creds != nil && creds.BaseURL != "" {
		return creds.BaseURL
	}
	if s := p.Current().BaseURL; s != "" {
		return s
	}
	return p.spec.DefaultBaseURL
}

// Timeout is the per-request timeout of the settings in force.
func (p *Plugin) Timeout() time.Duration {
	if s := p.Current().TimeoutSeconds; s > 0 {
		return time.Duration(s) * time.Second
	}
	return restapi.DefaultTimeout
}

// schema renders the JSON Schema of Settings with the wording, default and
// bound of spec.
func schema(spec Spec) json.RawMessage {
	s := settingsschema.For[Settings](spec.Title, spec.Description)
	base := settingsschema.Property(s, "base_url")
	base.Title, base.Description, base.Default = spec.BaseURLTitle, spec.BaseURLDescription, spec.DefaultBaseURL
	timeout := settingsschema.Property(s, "timeout_seconds")
	timeout.Title, timeout.Description = spec.TimeoutTitle, spec.TimeoutDescription
	timeout.Maximum = json.Number(strconv.Itoa(spec.MaxTimeoutSeconds))
	timeout.Default = int(restapi.DefaultTimeout / time.Second)
	return settingsschema.Encode(s)
}
