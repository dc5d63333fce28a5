package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/writeonly"
)

// Outbound requests tenants aim: git connections' base URLs, repository
// addresses, backup destinations' endpoints (docs/outbound.md).

// NewOutboundGuard returns the guard that checks addresses against the
// instance setting outbound_allow of st, with this host's resolver and
// interfaces.
func NewOutboundGuard(st *store.Store) *netguard.Guard { return service.OutboundGuard(st) }

// outbound returns the guard for the request's principal: instance
// administrators may aim requests anywhere.
func (s *Server) outbound(c *fiber.Ctx) *netguard.Guard {
	if p := principal(c); p != nil && p.User.InstanceAdmin {
		return netguard.Open()
	}
	return s.guard
}

// describeOutbound logs a failed outbound request with its detail and
// returns what the tenant may see: the kind of failure, never the remote
// host's answer. A plugin's own refusals (settings errors, invalid
// arguments without an HTTP status) are shown as they are.
func (s *Server) describeOutbound(c *fiber.Ctx, what string, err error) string {
	s.log.Warn("outbound request failed", "what", what, "method", c.Method(), "path", c.Path(), "err", err)
	return netguard.Describe(err)
}

// outboundFailed reports a failed outbound request as a 502 whose message
// says what failed (what) and how (describe).
func outboundFailed(code, what string, err error, describe func(error) string) error {
	var blocked *netguard.BlockedError
	if isAnswer(err) || errors.As(err, &blocked) || errors.Is(err, context.Canceled) {
		return err
	}
	return &Error{Status: fiber.StatusBadGateway, Code: code, Message: what + ": " + describe(err)}
}

// destinationSettingsCheck checks a backup destination's settings before
// they are saved: the properties the plugin's schema marks as outbound URLs
// must pass the guard, and when one changes, the secret (writeOnly)
// properties the saved settings hold must be sent again, so stored
// credentials are never sent to a new host. saved is nil on create.
func (s *Server) destinationSettingsCheck(c *fiber.Ctx, plugin string, saved, settings json.RawMessage, patch map[string]json.RawMessage) error {
	schema, err := s.pluginSchema(c.UserContext(), plugin)
	if err != nil || schema == nil {
		return err
	}
	was, now := writeonly.StringProperties(saved), writeonly.StringProperties(settings)
	for _, name := range hostaccess.MarkedProperties(schema, hostaccess.OutboundURLKeyword) {
		if saved != nil && was[name] == now[name] {
			continue
		}
		if err := s.outbound(c).CheckURL(c.UserContext(), "settings."+name, now[name]); err != nil {
			return err
		}
		if saved == nil {
			continue
		}
		var missing []string
		for _, secret := range writeonly.Properties(schema) {
			if _, sent := patch[secret]; !sent && was[secret] != "" {
				missing = append(missing, secret)
			}
		}
		if len(missing) > 0 {
			return invalid("settings."+missing[0], "must be sent again when settings.%s changes (%s), so saved credentials are never sent to a new host",
				name, strings.Join(missing, ", "))
		}
	}
	return nil
}

// recheckDestination checks a saved destination's outbound URLs again
// right before berth uses them (host names are resolved again). It returns
// a describe function for the destination's failures: summarized
// (describeOutbound) when its plugin sends requests to a URL of the
// settings or its schema is unknown, as they are otherwise (backup.local's
// messages are about the host's own directory).
func (s *Server) recheckDestination(c *fiber.Ctx, d store.BackupDestination) (func(error) string, error) {
	describe := func(err error) string { return s.describeOutbound(c, "backup destination "+d.Name, err) }
	schema, err := s.pluginSchema(c.UserContext(), d.PluginID)
	if err != nil || schema == nil {
		return describe, err
	}
	marked := hostaccess.MarkedProperties(schema, hostaccess.OutboundURLKeyword)
	if len(marked) == 0 {
		describe = func(err error) string { return err.Error() }
	}
	props := writeonly.StringProperties(d.Settings)
	for _, name := range marked {
		if err := s.outbound(c).RecheckURL(c.UserContext(), "settings."+name, props[name]); err != nil {
			return describe, err
		}
	}
	return describe, nil
}

// pluginSchema returns an installed plugin's settings schema, or nil when
// the server does not know its plugins.
func (s *Server) pluginSchema(ctx context.Context, id string) (json.RawMessage, error) {
	if s.opts.Plugins == nil {
		return nil, nil
	}
	ps, err := s.opts.Plugins.ListPlugins(ctx)
	if err != nil {
		return nil, fmt.Errorf("plugin schema: %w", err)
	}
	for _, p := range ps {
		if p.ID == id {
			return p.Schema, nil
		}
	}
	return nil, nil
}
