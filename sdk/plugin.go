package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// ProtocolVersion is the newest wire protocol version this SDK speaks.
const ProtocolVersion = 1

// ProtocolVersions lists every wire protocol version this SDK speaks, newest
// first. A host and a plugin talk only if they share one.
var ProtocolVersions = []int{ProtocolVersion}

// Kind is the kind of a plugin: the first part of its id.
type Kind string

// The four plugin kinds.
const (
	KindBuilder  Kind = "builder"
	KindGit      Kind = "git"
	KindBackup   Kind = "backup"
	KindNotifier Kind = "notifier"
)

// Kinds lists every plugin kind in a stable order.
var Kinds = []Kind{KindBuilder, KindGit, KindBackup, KindNotifier}

// Valid reports whether k is one of the four plugin kinds.
func (k Kind) Valid() bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// Capability names an optional feature that a plugin supports. The kinds
// declare their own capability constants (for example CapWebhooks).
type Capability string

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// ParseID splits a plugin id of the form "kind.name" and validates both
// parts: kind is one of the four kinds, name is lower-case letters, digits
// and dashes, starting with a letter.
func ParseID(id string) (Kind, string, error) {
	kind, name, ok := strings.Cut(id, ".")
	if !ok {
		return "", "", fmt.Errorf("plugin id %q: want kind.name: %w", id, ErrInvalidArgument)
	}
	if !Kind(kind).Valid() {
		return "", "", fmt.Errorf("plugin id %q: unknown kind %q (want one of %v): %w", id, kind, Kinds, ErrInvalidArgument)
	}
	if !namePattern.MatchString(name) {
		return "", "", fmt.Errorf("plugin id %q: name %q must match %s: %w", id, name, namePattern, ErrInvalidArgument)
	}
	return Kind(kind), name, nil
}

// Plugin is the base that every plugin implements, whatever its kind.
type Plugin interface {
	// Info describes the plugin. It must answer without Configure having
	// been called, and always return the same values in one binary.
	Info(ctx context.Context, req *InfoRequest) (*InfoResponse, error)
	// ConfigSchema returns the JSON Schema of the plugin's settings, from
	// which berth validates settings and renders a settings form. It must
	// answer without Configure having been called.
	ConfigSchema(ctx context.Context, req *ConfigSchemaRequest) (*ConfigSchemaResponse, error)
	// Configure validates and applies settings. Invalid settings are
	// reported as a *ConfigError naming each bad field; the previous
	// settings then stay in force. berth calls Configure again after it
	// restarts a plugin.
	Configure(ctx context.Context, req *ConfigureRequest) (*ConfigureResponse, error)
}

// InfoRequest is the request of Plugin.Info.
type InfoRequest struct{}

// InfoResponse describes a plugin.
type InfoResponse struct {
	// ID is "kind.name", for example "notifier.slack".
	ID string
	// Version is the plugin's own version, preferably semantic ("1.4.0").
	Version string
	// Description is one sentence shown next to the plugin in the dashboard.
	Description string
	// Capabilities lists the optional features the plugin supports.
	Capabilities []Capability
	// ProtocolVersions lists the wire protocol versions the plugin speaks.
	// Leave it empty: Serve fills in the versions of the SDK it was built with.
	ProtocolVersions []int
}

// HasCapability reports whether r lists c.
func (r *InfoResponse) HasCapability(c Capability) bool {
	for _, have := range r.Capabilities {
		if have == c {
			return true
		}
	}
	return false
}

// ConfigSchemaRequest is the request of Plugin.ConfigSchema.
type ConfigSchemaRequest struct{}

// ConfigSchemaResponse holds the JSON Schemas (draft 2020-12) of a plugin's
// settings.
type ConfigSchemaResponse struct {
	// Settings is the schema of the document passed to Configure. Mark
	// secrets with "writeOnly": true so the dashboard masks them.
	Settings json.RawMessage
	// App is the schema of per-app settings, if the kind has any (for a
	// builder: the build settings passed in BuildRequest.Settings). Empty
	// when there are none.
	App json.RawMessage
}

// ConfigureRequest carries settings to Plugin.Configure.
type ConfigureRequest struct {
	// Settings is a JSON document valid against ConfigSchemaResponse.Settings.
	Settings json.RawMessage
}

// ConfigureResponse is the response of Plugin.Configure.
type ConfigureResponse struct{}

// EmptySchema is the JSON Schema of a plugin without settings.
var EmptySchema = json.RawMessage(`{"type":"object","properties":{},"additionalProperties":false}`)

// UnimplementedPlugin provides ConfigSchema and Configure for plugins
// without settings, and an Info that fails. Embed one of the kind-specific
// Unimplemented types rather than this one directly.
type UnimplementedPlugin struct{}

// Info returns ErrUnimplemented: every plugin must implement Info.
func (UnimplementedPlugin) Info(context.Context, *InfoRequest) (*InfoResponse, error) {
	return nil, fmt.Errorf("Info: %w", ErrUnimplemented)
}

// ConfigSchema returns EmptySchema.
func (UnimplementedPlugin) ConfigSchema(context.Context, *ConfigSchemaRequest) (*ConfigSchemaResponse, error) {
	return &ConfigSchemaResponse{Settings: EmptySchema}, nil
}

// Configure accepts an empty or null settings document and rejects any
// setting, since the plugin declares none.
func (UnimplementedPlugin) Configure(_ context.Context, req *ConfigureRequest) (*ConfigureResponse, error) {
	var none struct{}
	if err := DecodeSettings(req.Settings, &none); err != nil {
		return nil, err
	}
	return &ConfigureResponse{}, nil
}
