package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/sdk"
)

// notifierPlugins adapts the plugin host to the notification service and
// the delivery worker: each channel runs its own notifier process.
type notifierPlugins struct{ host *plugins.Host }

// NotifierSchemas implements service.NotifierPlugins from the plugin
// index; no plugin process starts.
func (n notifierPlugins) NotifierSchemas(ctx context.Context) (map[string]json.RawMessage, error) {
	infos, err := n.host.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list plugins: %w", err)
	}
	out := map[string]json.RawMessage{}
	for _, in := range infos {
		if in.Kind == sdk.KindNotifier {
			out[in.ID] = in.ConfigSchema
		}
	}
	return out, nil
}

// NotifierInstance implements notify.Plugins.
func (n notifierPlugins) NotifierInstance(ctx context.Context, pluginID, key string, settings json.RawMessage) (sdk.Notifier, error) {
	return n.host.NotifierInstance(ctx, pluginID, key, settings)
}

// SendToChannel implements service.NotifierPlugins.
func (n notifierPlugins) SendToChannel(ctx context.Context, ch store.NotificationChannel, ev sdk.Event) error {
	c, err := n.host.NotifierInstance(ctx, ch.PluginID, ch.ID.String(), ch.Settings)
	if err != nil {
		return fmt.Errorf("notifier %s: %w", ch.PluginID, err)
	}
	if _, err := c.Send(ctx, &sdk.SendRequest{Event: ev}); err != nil {
		return fmt.Errorf("notifier %s: send %s: %w", ch.PluginID, ev.Type, err)
	}
	return nil
}

// StopChannel implements service.NotifierPlugins.
func (n notifierPlugins) StopChannel(ch store.NotificationChannel) {
	n.host.StopInstance(ch.PluginID, ch.ID.String())
}

// channelAddresses rechecks a channel's addresses before each delivery
// (notify.OutboundCheck) with berth's outbound guard.
func channelAddresses(np notifierPlugins, guard *netguard.Guard) func(context.Context, store.NotificationChannel) error {
	return func(ctx context.Context, ch store.NotificationChannel) error {
		if ch.OutboundOpen {
			return nil
		}
		schemas, err := np.NotifierSchemas(ctx)
		if err != nil {
			return err
		}
		return service.RecheckChannelAddresses(ctx, guard, schemas[ch.PluginID], ch)
	}
}
