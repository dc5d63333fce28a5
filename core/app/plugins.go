package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/sdk"
	"github.com/hashicorp/go-hclog"
)

// pluginLister adapts the plugin host to the API's listing.
type pluginLister struct{ host *plugins.Host }

// ListPlugins implements api.PluginLister.
func (l pluginLister) ListPlugins(ctx context.Context) ([]api.PluginInfo, error) {
	infos, err := l.host.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list plugins: %w", err)
	}
	out := make([]api.PluginInfo, 0, len(infos))
	for _, in := range infos {
		caps := make([]string, 0, len(in.Capabilities))
		for _, c := range in.Capabilities {
			caps = append(caps, string(c))
		}
		out = append(out, api.PluginInfo{ID: in.ID, Kind: string(in.Kind), Version: in.Version, Capabilities: caps,
			Health: string(in.Health.State), LastError: in.Health.LastError, Schema: in.ConfigSchema, AppSchema: in.AppSchema})
	}
	return out, nil
}

// BuilderAppSchema implements service.BuilderSchemas from the plugin
// index; no plugin process starts.
func (l pluginLister) BuilderAppSchema(ctx context.Context, id string) (json.RawMessage, bool, error) {
	infos, err := l.host.List(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("list plugins: %w", err)
	}
	for _, in := range infos {
		if in.ID == id && in.Kind == sdk.KindBuilder {
			return in.AppSchema, true, nil
		}
	}
	return nil, false, nil
}

// ConfigurePlugin implements api.PluginConfigurer.
func (l pluginLister) ConfigurePlugin(ctx context.Context, id string, settings json.RawMessage) error {
	err := l.host.Configure(ctx, id, settings)
	if errors.Is(err, plugins.ErrUnknownPlugin) {
		return fmt.Errorf("%w: %w", api.ErrUnknownPlugin, err)
	}
	return err
}

// startPlugins creates the plugin host. Plugins start lazily on first use and
// stop when idle, so this launches no process.
func (s *Server) startPlugins(ctx context.Context) error {
	level := hclog.Info
	if s.cfg.LogLevel == "debug" {
		level = hclog.Debug
	}
	host, err := plugins.New(plugins.Options{
		IndexFile:   s.cfg.PluginIndex,
		Dirs:        []string{s.cfg.PluginDir},
		Logger:      hclog.New(&hclog.LoggerOptions{Name: "plugins", Level: level, Output: os.Stderr}),
		IdleTimeout: 5 * time.Minute,
		DockerHost:  s.cfg.DockerHost,

		OnRepeatedCrash: s.notices.pluginCrashed,
	})
	if err != nil {
		return fmt.Errorf("plugins: %w", err)
	}
	s.plugins = host
	saved, err := s.store.AllPluginSettings(ctx)
	if err != nil {
		return err
	}
	for id, settings := range saved {
		host.Preload(id, settings) // applied when the plugin first starts
	}
	return nil
}

// gitProviders adapts the plugin host to the API's and the webhook
// receiver's access to git providers.
type gitProviders struct{ host *plugins.Host }

// GitProvider implements api.GitProviders and webhook.Providers.
func (g gitProviders) GitProvider(ctx context.Context, id string) (sdk.GitProvider, error) {
	gp, err := g.host.GitProvider(ctx, id)
	if errors.Is(err, plugins.ErrUnknownPlugin) {
		return nil, fmt.Errorf("%w: %w", api.ErrUnknownPlugin, err)
	}
	if err != nil {
		return nil, err
	}
	return gp, nil
}
