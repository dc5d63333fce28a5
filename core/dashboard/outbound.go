package dashboard

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/store"
)

// Outbound requests tenants aim (docs/outbound.md): the same guard as the
// API's.

// outbound returns the guard for the signed-in user: instance
// administrators may aim requests anywhere.
func (d *Dashboard) outbound(r *request) *netguard.Guard {
	if r.p != nil && r.p.User.InstanceAdmin {
		return netguard.Open()
	}
	return d.guard
}

// checkOutboundSettings checks the settings properties a plugin's schema
// marks as outbound URLs and returns the form errors by property.
func (d *Dashboard) checkOutboundSettings(r *request, schema json.RawMessage, doc map[string]any) (map[string]string, error) {
	errs := map[string]string{}
	for _, name := range hostaccess.MarkedProperties(schema, hostaccess.OutboundURLKeyword) {
		v, _ := doc[name].(string)
		if err := d.outbound(r).CheckURL(r.c.UserContext(), name, v); err != nil {
			if msg, ok := blockedMessage(err); ok {
				errs[name] = msg
				continue
			}
			return nil, err
		}
	}
	return errs, nil
}

// recheckDestination checks a saved destination's outbound URLs again
// right before they are used. It reports whether the destination's plugin
// sends requests to a URL of its settings (true when schema is nil,
// unknown), whose failures are summarized rather than shown.
func (d *Dashboard) recheckDestination(ctx context.Context, r *request, dest store.BackupDestination, schema json.RawMessage) (bool, error) {
	if schema == nil {
		return true, nil
	}
	var doc map[string]any
	_ = json.Unmarshal(dest.Settings, &doc)
	marked := hostaccess.MarkedProperties(schema, hostaccess.OutboundURLKeyword)
	for _, name := range marked {
		v, _ := doc[name].(string)
		if err := d.outbound(r).RecheckURL(ctx, name, v); err != nil {
			return true, err
		}
	}
	return len(marked) > 0, nil
}

// describeOutbound logs a failed outbound request and returns what the
// user may see: the kind of failure, never the remote host's answer.
func (d *Dashboard) describeOutbound(what string, err error) string {
	d.log.Warn("outbound request failed", "what", what, "err", err)
	return netguard.Describe(err)
}

// blockedMessage returns a *netguard.BlockedError's message.
func blockedMessage(err error) (string, bool) {
	var be *netguard.BlockedError
	if errors.As(err, &be) {
		return be.Message, true
	}
	return "", false
}
