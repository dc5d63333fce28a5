package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/berth-dev/berth/core/hostaccess"
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

// PluginSettings are a plugin's saved settings.
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
	if settings == nil {
		settings = json.RawMessage("{}")
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
	if err := s.opts.PluginSettings.ConfigurePlugin(c.UserContext(), id, req.Settings); err != nil {
		return pluginError(err)
	}
	if err := s.store.SetPluginSettings(c.UserContext(), id, req.Settings, principal(c).User.ID); err != nil {
		return err
	}
	return c.JSON(req)
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
