package hostaccess

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/core/netguard"
)

// HostProperty is a settings property a schema marks with
// OutboundHostKeyword.
type HostProperty struct {
	// Name is the property holding the host.
	Name string
	// Port is the sibling property holding the port, "" when there is none.
	Port string
}

// HostProperties returns, sorted by name, the top-level properties a JSON
// Schema marks with OutboundHostKeyword: the keyword set to true (no port
// property) or to the name of a sibling property holding the port. A port
// name the schema has no property for is ignored.
func HostProperties(schema json.RawMessage) []HostProperty {
	var s struct {
		Properties map[string]map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(schema, &s) != nil {
		return nil
	}
	var names []string
	for name, prop := range s.Properties {
		if _, ok := prop[OutboundHostKeyword]; ok {
			names = append(names, name)
		}
	}
	sortStrings(names)
	var out []HostProperty
	for _, name := range names {
		raw := s.Properties[name][OutboundHostKeyword]
		var port string
		switch {
		case string(raw) == "true":
		case json.Unmarshal(raw, &port) == nil && port != "" && port != name:
			if _, ok := s.Properties[port]; !ok {
				port = ""
			}
		default:
			continue // false, or not a property name: not marked
		}
		out = append(out, HostProperty{Name: name, Port: port})
	}
	return out
}

// Target is one address a plugin's settings aim requests at: a URL (a
// property marked OutboundURLKeyword) or a host and port (a property
// marked OutboundHostKeyword).
type Target struct {
	// Keyword is the keyword marking the property: OutboundURLKeyword or
	// OutboundHostKeyword.
	Keyword string
	// Field names the property holding the URL or host, with the caller's
	// prefix ("settings.host").
	Field string
	// URL is the value of a URL property.
	URL string
	// Host is the value of a host property; Port the value of its port
	// property, 0 when it is unset or the schema names none.
	Host string
	Port int
	// PortField names the port property ("settings.port"), "" for none.
	PortField string
}

// IsHost reports whether t is a host and port rather than a URL.
func (t Target) IsHost() bool { return t.Keyword == OutboundHostKeyword }

// Check checks t with g when it is saved: netguard's CheckURL or
// CheckHostPort.
func (t Target) Check(ctx context.Context, g *netguard.Guard) error {
	if t.IsHost() {
		return g.CheckHostPort(ctx, t.Field, t.Host, t.Port)
	}
	return g.CheckURL(ctx, t.Field, t.URL)
}

// Recheck checks a saved t with g right before the plugin uses it:
// netguard's RecheckURL or RecheckHostPort.
func (t Target) Recheck(ctx context.Context, g *netguard.Guard) error {
	if t.IsHost() {
		return g.RecheckHostPort(ctx, t.Field, t.Host, t.Port)
	}
	return g.RecheckURL(ctx, t.Field, t.URL)
}

// OutboundTargets lists the outbound addresses plugin settings hold: one
// Target per top-level property the schema marks with OutboundURLKeyword
// or OutboundHostKeyword, unset ones included (with empty values), URLs
// first, each group sorted by property name. field prefixes the reported
// field names ("settings."). Values of the wrong JSON type count as unset
// (schema validation refuses them).
func OutboundTargets(schema, settings json.RawMessage, field string) ([]Target, error) {
	var values map[string]json.RawMessage
	if len(settings) > 0 && string(settings) != "null" {
		if err := json.Unmarshal(settings, &values); err != nil {
			return nil, fmt.Errorf("hostaccess: settings are not a JSON object: %w", err)
		}
	}
	str := func(name string) string {
		var v string
		_ = json.Unmarshal(values[name], &v)
		return strings.TrimSpace(v)
	}
	var out []Target
	for _, name := range MarkedProperties(schema, OutboundURLKeyword) {
		out = append(out, Target{Keyword: OutboundURLKeyword, Field: field + name, URL: str(name)})
	}
	for _, hp := range HostProperties(schema) {
		t := Target{Keyword: OutboundHostKeyword, Field: field + hp.Name, Host: str(hp.Name)}
		if hp.Port != "" {
			t.PortField = field + hp.Port
			var port int
			if json.Unmarshal(values[hp.Port], &port) == nil && port > 0 && port <= 65535 {
				t.Port = port
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// CheckOutbound checks the outbound addresses of plugin settings before
// they are saved, for the principal g stands for (netguard.Open for
// instance administrators): every Target of settings that is new or
// differs from saved's (saved nil on create: every one) must pass
// Target.Check. It returns the fields of the targets that changed, so a
// caller can demand the secret settings again when one did (stored
// credentials are never sent to a new host). A refusal is a
// *netguard.BlockedError naming the field; field prefixes field names.
func CheckOutbound(ctx context.Context, g *netguard.Guard, schema, saved, settings json.RawMessage, field string) ([]string, error) {
	now, err := OutboundTargets(schema, settings, field)
	if err != nil {
		return nil, err
	}
	was := map[string]Target{}
	if saved != nil {
		before, err := OutboundTargets(schema, saved, field)
		if err != nil {
			return nil, fmt.Errorf("saved %w", err)
		}
		for _, t := range before {
			was[t.Field] = t
		}
	}
	var changed []string
	for _, t := range now {
		if prev, ok := was[t.Field]; ok && prev == t {
			continue
		}
		if t.URL == "" && t.Host == "" && saved == nil {
			continue // unset on create: nothing to check or to protect
		}
		if err := t.Check(ctx, g); err != nil {
			return nil, err
		}
		changed = append(changed, t.Field)
	}
	return changed, nil
}

// RecheckOutbound checks every outbound address of saved plugin settings
// again right before the plugin uses them (Target.Recheck: host names are
// resolved again). g is chosen as for the rechecks of URLs: the guard of
// the principal who triggers the use, the instance's for background work.
func RecheckOutbound(ctx context.Context, g *netguard.Guard, schema, settings json.RawMessage, field string) error {
	targets, err := OutboundTargets(schema, settings, field)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if err := t.Recheck(ctx, g); err != nil {
			return err
		}
	}
	return nil
}
