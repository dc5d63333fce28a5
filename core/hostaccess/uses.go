package hostaccess

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/core/store"
)

// Schema annotations a plugin's settings schema puts on a property so berth
// knows what a value reaches. They are part of the plugin contract
// (sdk/README.md): a third-party plugin that takes a host directory or aims
// requests at a URL marks it the same way.
const (
	// HostPathKeyword marks a string property naming a directory of the host.
	HostPathKeyword = "x-berth-host-path"
	// OutboundURLKeyword marks a string property holding a URL berth or the
	// plugin sends requests to (checked by core/netguard).
	OutboundURLKeyword = "x-berth-outbound-url"
	// OutboundHostKeyword marks a string property holding the host name or
	// address of a server the plugin connects to itself rather than through
	// a URL (an SMTP server). Its value is the name of the sibling integer
	// property holding the port ("x-berth-outbound-host": "port"), or true
	// when the plugin has no port setting. Checked by core/netguard
	// (CheckHostPort); see OutboundTargets.
	OutboundHostKeyword = "x-berth-outbound-host"
)

// ApplicationUses lists the host-level powers an application's settings use.
func ApplicationUses(a store.ApplicationSpec) []Use {
	var uses []Use
	if a.SourceType == "git" && IsLocalRepository(a.GitRepository) {
		uses = append(uses, Use{Field: "git_repository", Power: LocalRepository, Path: a.GitRepository})
	}
	uses = append(uses, RuntimeUses(a.RuntimeSettings)...)
	return uses
}

// RuntimeUses lists the host-level powers of a service's Swarm settings.
func RuntimeUses(r store.RuntimeSettings) []Use {
	var uses []Use
	for i, m := range r.Mounts {
		switch m.Type {
		case "bind":
			uses = append(uses, Use{Field: fmt.Sprintf("mounts[%d].source", i), Power: BindMount, Path: m.Source})
		case "volume":
			uses = append(uses, Use{Field: fmt.Sprintf("mounts[%d].source", i), Power: Volume, Path: m.Source})
		}
	}
	for i, p := range r.Ports {
		uses = append(uses, Use{Field: fmt.Sprintf("ports[%d].published", i), Power: HostPort, Port: p.Published})
	}
	for i, c := range r.Placement {
		uses = append(uses, Use{Field: fmt.Sprintf("placement[%d]", i), Power: Placement, Detail: c})
	}
	return uses
}

// DatabaseUses lists the host-level powers a database's settings use.
func DatabaseUses(d store.DatabaseSpec) []Use {
	if d.ExternalPort > 0 {
		return []Use{{Field: "external_port", Power: HostPort, Port: d.ExternalPort}}
	}
	return nil
}

// IsLocalRepository reports whether a git repository address names a path on
// the berth host: an absolute path or a file:// URL.
func IsLocalRepository(repo string) bool {
	r := strings.TrimSpace(repo)
	return strings.HasPrefix(r, "/") || strings.HasPrefix(strings.ToLower(r), "file:")
}

// SettingsUses lists the host directories a plugin's settings name: each
// top-level property its schema marks with HostPathKeyword. field prefixes
// the reported field names ("settings.").
func SettingsUses(schema, settings json.RawMessage, field string) ([]Use, error) {
	var values map[string]json.RawMessage
	if len(settings) > 0 && string(settings) != "null" {
		if err := json.Unmarshal(settings, &values); err != nil {
			return nil, fmt.Errorf("hostaccess: settings are not a JSON object: %w", err)
		}
	}
	var uses []Use
	for _, name := range MarkedProperties(schema, HostPathKeyword) {
		var v string
		if raw, ok := values[name]; ok && json.Unmarshal(raw, &v) == nil && v != "" {
			uses = append(uses, Use{Field: field + name, Power: HostDirectory, Path: v})
		}
	}
	return uses, nil
}

// MarkedProperties returns, sorted, the names of the top-level properties a
// JSON Schema marks with keyword set to true.
func MarkedProperties(schema json.RawMessage, keyword string) []string {
	var s struct {
		Properties map[string]map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(schema, &s) != nil {
		return nil
	}
	var names []string
	for name, prop := range s.Properties {
		if string(prop[keyword]) == "true" {
			names = append(names, name)
		}
	}
	sortStrings(names)
	return names
}

// DestinationUses lists the host directories a backup destination's
// settings name. With the plugin's settings schema it is SettingsUses; a
// plugin berth has no schema for is treated with suspicion: every top-level
// string that is an absolute path or a file: URL counts as a host directory.
func DestinationUses(schema, settings json.RawMessage) ([]Use, error) {
	if len(schema) > 0 {
		return SettingsUses(schema, settings, "settings.")
	}
	var values map[string]json.RawMessage
	if len(settings) > 0 && string(settings) != "null" {
		if err := json.Unmarshal(settings, &values); err != nil {
			return nil, fmt.Errorf("hostaccess: settings are not a JSON object: %w", err)
		}
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sortStrings(names)
	var uses []Use
	for _, name := range names {
		var v string
		if json.Unmarshal(values[name], &v) == nil && IsLocalRepository(v) {
			uses = append(uses, Use{Field: "settings." + name, Power: HostDirectory, Path: v})
		}
	}
	return uses, nil
}
