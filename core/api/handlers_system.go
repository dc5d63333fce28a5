package api

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/gofiber/fiber/v2"
)

// Health is the /healthz answer.
type Health struct {
	Status   string `json:"status"`
	Database string `json:"database"`
	Version  string `json:"version"`
}

// PluginInfo describes one installed plugin.
type PluginInfo struct {
	ID           string          `json:"id"`
	Kind         string          `json:"kind"`
	Version      string          `json:"version"`
	Capabilities []string        `json:"capabilities"`
	Health       string          `json:"health"`
	LastError    string          `json:"last_error,omitempty"`
	Schema       json.RawMessage `json:"settings_schema"`
	// AppSchema is the JSON Schema of per-application settings (a builder's
	// build settings), when the plugin has any.
	AppSchema json.RawMessage `json:"app_settings_schema,omitempty"`
}

// PluginList is the /plugins answer.
type PluginList struct {
	Items []PluginInfo `json:"items"`
}

func (s *Server) health(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	h := Health{Status: "ok", Database: "ok", Version: s.opts.Version}
	if err := s.store.Ping(ctx); err != nil {
		// The detail (host names, users, paths) is for the log only:
		// /healthz answers anyone.
		s.log.Error("health check: database unavailable", "err", err)
		h.Status, h.Database = "degraded", "database unavailable"
		return c.Status(fiber.StatusServiceUnavailable).JSON(h)
	}
	return c.JSON(h)
}

// metrics is for instance administrators: the figures are the whole
// instance's (every tenant's requests), a host-level view.
func (s *Server) metrics(c *fiber.Ctx) error {
	if err := s.requireInstanceAdmin(c); err != nil {
		return err
	}
	var buf bytes.Buffer
	metrics.WritePrometheus(&buf, true)
	if s.opts.Metrics != nil { // metrics: the latest round's host and workload figures
		s.opts.Metrics.WritePrometheus(&buf)
	}
	c.Set(fiber.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	return c.Send(buf.Bytes())
}

func (s *Server) listPlugins(c *fiber.Ctx) error {
	out := PluginList{Items: []PluginInfo{}}
	if s.opts.Plugins != nil {
		items, err := s.opts.Plugins.ListPlugins(c.UserContext())
		if err != nil {
			return err
		}
		if items != nil {
			out.Items = items
		}
	}
	return c.JSON(out)
}
