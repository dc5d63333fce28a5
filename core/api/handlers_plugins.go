package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/writeonly"
	"github.com/berth-dev/berth/sdk"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// PluginConfigurer applies settings to a plugin; an invalid setting comes
// back as a *sdk.ConfigError, an unknown plugin as ErrUnknownPlugin.
type PluginConfigurer interface {
	ConfigurePlugin(ctx context.Context, id string, settings json.RawMessage) error
}

// ErrUnknownPlugin is returned by a PluginConfigurer for an id not installed.
var ErrUnknownPlugin = errors.New("no such plugin")

// PluginSettings are a plugin's saved settings. In answers, the value of
// every property the plugin's schema marks writeOnly (a secret) is
// "********"; sent back as "********", or left out, a secret keeps its
// saved value, and null clears it.
type PluginSettings struct {
	Settings json.RawMessage `json:"settings"`
}

// requireInstanceAdmin allows instance administrators only (the caller's
// users.instance_admin flag): plugins and instance settings serve the whole
// instance.
func (s *Server) requireInstanceAdmin(c *fiber.Ctx) error {
	p := principal(c)
	if p == nil {
		return errUnauthenticated
	}
	if !p.User.InstanceAdmin {
		return errNotInstanceAdmin
	}
	return nil
}

var errNotInstanceAdmin = &Error{Status: fiber.StatusForbidden, Code: "forbidden",
	Message: "only instance administrators may do this (see docs/security.md)"}

func (s *Server) getPluginSettings(c *fiber.Ctx) error {
	if err := s.requireInstanceAdmin(c); err != nil {
		return err
	}
	id := strings.Clone(c.Params("id"))
	settings, err := s.store.PluginSettings(c.UserContext(), id)
	if err != nil {
		return err
	}
	schema, err := s.pluginSchema(c.UserContext(), id)
	if err != nil {
		return err
	}
	if settings, err = writeonly.Redact(schema, settings); err != nil {
		return err
	}
	return c.JSON(PluginSettings{Settings: settings})
}

func (s *Server) putPluginSettings(c *fiber.Ctx) error {
	if err := s.checkHostAccess(c, uuid.Nil, nil, []hostaccess.Use{{Field: "settings", Power: hostaccess.PluginSettings}}); err != nil {
		return err
	}
	id := strings.Clone(c.Params("id"))
	var req PluginSettings
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(req.Settings), []byte("{")) {
		return invalid("settings", "must be a JSON object")
	}
	if len(req.Settings) > 256<<10 {
		return invalid("settings", "must be at most 256 KiB")
	}
	if s.opts.PluginSettings == nil {
		return &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable", Message: "plugins are not available on this server"}
	}
	// Secrets (writeOnly properties) left out or sent as the marker GET
	// answers with keep their saved values.
	ctx := c.UserContext()
	saved, err := s.store.PluginSettings(ctx, id)
	if err != nil {
		return err
	}
	schema, err := s.pluginSchema(ctx, id)
	if err != nil {
		return err
	}
	settings, err := writeonly.Merge(schema, saved, req.Settings)
	if err != nil {
		return invalid("settings", "%v", err)
	}
	if err := s.opts.PluginSettings.ConfigurePlugin(ctx, id, settings); err != nil {
		return pluginError(err)
	}
	if err := s.store.SetPluginSettings(ctx, id, settings, principal(c).User.ID); err != nil {
		return err
	}
	if settings, err = writeonly.Redact(schema, settings); err != nil {
		return err
	}
	return c.JSON(PluginSettings{Settings: settings})
}

// pluginError maps a plugin's refusal to a 4xx naming the field.
func pluginError(err error) error {
	var cfg *sdk.ConfigError
	switch {
	case errors.As(err, &cfg) && len(cfg.Fields) > 0:
		msgs := make([]string, 0, len(cfg.Fields))
		for _, f := range cfg.Fields {
			msgs = append(msgs, "settings."+f.Field+": "+f.Message)
		}
		e := invalid("settings."+cfg.Fields[0].Field, "%s", cfg.Fields[0].Message)
		e.Message = strings.Join(msgs, "; ")
		return e
	case errors.Is(err, ErrUnknownPlugin):
		return notFound("plugin")
	}
	return &Error{Status: fiber.StatusBadGateway, Code: "plugin_failed", Message: err.Error()}
}
