package api

import (
	"encoding/json"
	"strings"

	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/writeonly"
	"github.com/gofiber/fiber/v2"
)

// PluginConfigurer applies settings to a plugin; an invalid setting comes
// back as a *sdk.ConfigError, an unknown plugin as ErrUnknownPlugin.
type PluginConfigurer = service.PluginConfigurer

// ErrUnknownPlugin is returned by a PluginConfigurer for an id not installed.
var ErrUnknownPlugin = service.ErrUnknownPlugin

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
	return service.RequireInstanceAdmin(p)
}

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

func (s *Server) putPluginSettings(c *fiber.Ctx, req PluginSettings) (PluginSettings, error) {
	id := strings.Clone(c.Params("id"))
	ctx := c.UserContext()
	schema, err := s.pluginSchema(ctx, id)
	if err != nil {
		return PluginSettings{}, err
	}
	settings, err := s.svc.Plugins.Configure(ctx, principal(c), s.opts.PluginSettings,
		service.PluginSettingsChange{ID: id, Schema: schema, Settings: req.Settings})
	if err != nil {
		return PluginSettings{}, err
	}
	settings, err = writeonly.Redact(schema, settings)
	return PluginSettings{Settings: settings}, err
}
