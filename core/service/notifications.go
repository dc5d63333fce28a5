package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/notify"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/validate"
	"github.com/berth-dev/berth/core/writeonly"
	"github.com/berth-dev/berth/sdk"
)

// NotifierPlugins is what the notification service needs of the plugin
// host: the installed notifier plugins with their settings schemas, and a
// channel's own plugin process.
type NotifierPlugins interface {
	// NotifierSchemas maps every installed notifier plugin's id to its
	// settings schema (from the plugin index: no process starts).
	NotifierSchemas(ctx context.Context) (map[string]json.RawMessage, error)
	// SendToChannel sends ev through ch's own plugin process.
	SendToChannel(ctx context.Context, ch store.NotificationChannel, ev sdk.Event) error
	// StopChannel stops ch's plugin process (deleted, or settings changed).
	StopChannel(ch store.NotificationChannel)
}

// Notifications manages an organization's notification channels: admins
// create, change and delete them (they hold tokens and name addresses);
// members send a test; viewers list them.
type Notifications struct{ s *Services }

// NewChannel is the input of Notifications.Create.
type NewChannel struct {
	Name     string
	PluginID string
	// Settings is the plugin's settings document, as keys.
	Settings                   map[string]json.RawMessage
	Events                     []string
	ProjectIDs, EnvironmentIDs []uuid.UUID
	// InstanceEvents (instance administrators only) and Enabled (default
	// true).
	InstanceEvents, Enabled *bool
}

// ChannelChange changes a channel: nil fields keep their value; Settings
// are merged key by key (null removes a key, a write-only key left out
// keeps its saved value).
type ChannelChange struct {
	Name *string
	// PluginID, given, must be the channel's: it cannot change.
	PluginID                   *string
	Settings                   map[string]json.RawMessage
	Events                     *[]string
	ProjectIDs, EnvironmentIDs *[]uuid.UUID
	InstanceEvents, Enabled    *bool
}

// ChannelName checks a channel's name.
func ChannelName(name string) error { return validate.Text("name", name, 1, 100) }

// EventTypes lists the event types a channel may subscribe to.
func (ns *Notifications) EventTypes() []notify.EventInfo { return notify.Catalogue }

func (ns *Notifications) plugins() (NotifierPlugins, error) {
	if ns.s.deps.Notifiers == nil {
		return nil, &problem.Error{Kind: problem.Unavailable, Message: "notifications are not available on this server (no plugin host)"}
	}
	return ns.s.deps.Notifiers, nil
}

// schema returns the settings schema of notifier plugin id, or a 422
// naming plugin_id when it is not installed.
func (ns *Notifications) schema(ctx context.Context, id string) (json.RawMessage, error) {
	if id == "" {
		return nil, problem.InvalidField("plugin_id", "is required (an installed notifier plugin such as notifier.slack)")
	}
	if !strings.HasPrefix(id, "notifier.") || len(id) > 80 {
		return nil, problem.InvalidField("plugin_id", "%q is not a notifier plugin id (notifier.<name>)", id)
	}
	np, err := ns.plugins()
	if err != nil {
		return nil, err
	}
	schemas, err := np.NotifierSchemas(ctx)
	if err != nil {
		return nil, fmt.Errorf("notifier plugins: %w", err)
	}
	if schema, ok := schemas[id]; ok {
		return schema, nil
	}
	installed := make([]string, 0, len(schemas))
	for k := range schemas {
		installed = append(installed, k)
	}
	slices.Sort(installed)
	return nil, problem.InvalidField("plugin_id", "%q is not an installed notifier plugin (installed: %s)", id, strings.Join(installed, ", "))
}

// Create adds a channel to org (admins and above).
func (ns *Notifications) Create(ctx context.Context, p *store.Principal, org uuid.UUID, in NewChannel) (store.NotificationChannel, error) {
	if err := Authorize(p, org, store.RoleAdmin, "organization"); err != nil {
		return store.NotificationChannel{}, err
	}
	ch := store.NotificationChannel{OrganizationID: org, PluginID: strings.TrimSpace(in.PluginID), Enabled: true}
	change := ChannelChange{Name: &in.Name, Settings: in.Settings, Events: &in.Events, ProjectIDs: &in.ProjectIDs,
		EnvironmentIDs: &in.EnvironmentIDs, InstanceEvents: in.InstanceEvents, Enabled: in.Enabled}
	if change.Settings == nil {
		change.Settings = map[string]json.RawMessage{}
	}
	next, err := ns.apply(ctx, p, ch, change, true)
	if err != nil {
		return ch, err
	}
	return ns.s.deps.Store.CreateNotificationChannel(ctx, org, ch.PluginID, next)
}

// Update changes a channel (admins and above).
func (ns *Notifications) Update(ctx context.Context, p *store.Principal, ch store.NotificationChannel, in ChannelChange) (store.NotificationChannel, error) {
	if err := Authorize(p, ch.OrganizationID, store.RoleAdmin, "notification channel"); err != nil {
		return ch, err
	}
	if in.PluginID != nil && strings.TrimSpace(*in.PluginID) != ch.PluginID {
		return ch, problem.InvalidField("plugin_id", "cannot be changed; create another channel")
	}
	next, err := ns.apply(ctx, p, ch, in, false)
	if err != nil {
		return ch, err
	}
	out, err := ns.s.deps.Store.UpdateNotificationChannel(ctx, ch.ID, next)
	if err != nil {
		return out, err
	}
	if np, perr := ns.plugins(); perr == nil && string(next.Settings) != string(ch.Settings) {
		np.StopChannel(ch) // the next delivery starts it with the new settings
	}
	return out, nil
}

// apply validates in over ch and returns the channel's editable part.
func (ns *Notifications) apply(ctx context.Context, p *store.Principal, ch store.NotificationChannel, in ChannelChange, create bool) (store.ChannelChange, error) {
	next := store.ChannelChange{Name: ch.Name, Settings: ch.Settings, Events: ch.Events, ProjectIDs: ch.ProjectIDs,
		EnvironmentIDs: ch.EnvironmentIDs, InstanceEvents: ch.InstanceEvents, OutboundOpen: ch.OutboundOpen, Enabled: ch.Enabled}
	admin := p == System || (p != nil && p.User.InstanceAdmin)
	if in.Name != nil {
		next.Name = strings.TrimSpace(*in.Name)
		if err := ChannelName(next.Name); err != nil {
			return next, err
		}
	}
	schema, err := ns.schema(ctx, ch.PluginID)
	if err != nil {
		return next, err
	}
	if in.InstanceEvents != nil && *in.InstanceEvents != ch.InstanceEvents {
		if !admin {
			return next, &problem.Error{Kind: problem.Forbidden, Field: "instance_events",
				Message: "instance_events: only instance administrators may choose whether a channel receives events about the whole instance"}
		}
		next.InstanceEvents = *in.InstanceEvents
	}
	if in.Enabled != nil {
		next.Enabled = *in.Enabled
	}
	if in.Events != nil {
		if next.Events, err = channelEvents(*in.Events); err != nil {
			return next, err
		}
	}
	for _, t := range next.Events {
		if info, _ := notify.Known(t); info.InstanceOnly && !next.InstanceEvents {
			i := slices.Index(next.Events, t)
			return next, problem.InvalidField(fmt.Sprintf("events[%d]", i),
				"%s concerns the whole instance: only a channel that receives instance events (instance_events, set by an instance administrator) may subscribe to it", t)
		}
	}
	if in.ProjectIDs != nil {
		if next.ProjectIDs, err = ns.ownedIDs(ctx, ch.OrganizationID, "project_ids", *in.ProjectIDs); err != nil {
			return next, err
		}
	}
	if in.EnvironmentIDs != nil {
		if next.EnvironmentIDs, err = ns.ownedIDs(ctx, ch.OrganizationID, "environment_ids", *in.EnvironmentIDs); err != nil {
			return next, err
		}
	}
	if in.Settings != nil {
		if next.Settings, err = ns.settings(ctx, p, admin, schema, ch, in.Settings, create); err != nil {
			return next, err
		}
		if string(next.Settings) != string(ch.Settings) || create {
			next.OutboundOpen = admin
		}
	}
	return next, nil
}

// channelEvents checks a subscription: at least one known event type,
// each once.
func channelEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, problem.InvalidField("events", "must name at least one event type (GET /notification-events lists them)")
	}
	out := make([]string, 0, len(events))
	for i, t := range events {
		t = strings.TrimSpace(t)
		if _, ok := notify.Known(t); !ok {
			return nil, problem.InvalidField(fmt.Sprintf("events[%d]", i), "%q is not an event type (GET /notification-events lists them)", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// ownedIDs checks every id names a project (field project_ids) or an
// environment (environment_ids) of org.
func (ns *Notifications) ownedIDs(ctx context.Context, org uuid.UUID, field string, ids []uuid.UUID) ([]uuid.UUID, error) {
	if len(ids) > 100 {
		return nil, problem.InvalidField(field, "must name at most 100")
	}
	out := make([]uuid.UUID, 0, len(ids))
	for i, id := range ids {
		var owner uuid.UUID
		var err error
		if field == "project_ids" {
			var pr store.Project
			pr, err = ns.s.deps.Store.GetProject(ctx, id)
			owner = pr.OrganizationID
		} else {
			var env store.Environment
			env, err = ns.s.deps.Store.GetEnvironment(ctx, id)
			owner = env.OrganizationID
		}
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		if err != nil || owner != org {
			return nil, problem.InvalidField(fmt.Sprintf("%s[%d]", field, i), "%s is not in this channel's organization", id)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// settings merges patch over the saved settings, validates them against
// the plugin's schema and checks the addresses they name: a non-admin's
// URLs must pass the outbound guard, and stored secrets are never sent to
// a new address unless they are sent again.
func (ns *Notifications) settings(ctx context.Context, p *store.Principal, admin bool, schema json.RawMessage, ch store.NotificationChannel, patch map[string]json.RawMessage, create bool) (json.RawMessage, error) {
	merged, err := MergeSettings(nil, patch)
	if err != nil {
		return nil, err
	}
	saved := ch.Settings
	if create {
		saved = nil
	} else {
		// Keys the patch leaves out keep their saved value; null removes.
		if merged, err = MergeSettings(ch.Settings, patch); err != nil {
			return nil, err
		}
		if merged, err = writeonly.Merge(schema, ch.Settings, merged); err != nil {
			return nil, problem.InvalidField("settings", "%v", err)
		}
	}
	if err := validSettings(schema, merged); err != nil {
		return nil, err
	}
	if err := ns.checkAddresses(ctx, admin, schema, ch.OutboundOpen, saved, merged, patch); err != nil {
		return nil, err
	}
	return merged, nil
}

// validSettings checks settings against the plugin's schema (the check
// the plugin's SDK runs when it is configured), as a 422 naming the
// setting.
func validSettings(schema, settings json.RawMessage) error {
	if len(schema) == 0 {
		return nil
	}
	err := sdk.ValidateSettings(schema, settings)
	var ce *sdk.ConfigError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce) && len(ce.Fields) > 0:
		f := ce.Fields[0]
		field := "settings"
		if f.Field != "" {
			field += "." + f.Field
		}
		return problem.InvalidField(field, "%s", f.Message)
	default:
		return fmt.Errorf("notifier settings schema: %w", err)
	}
}

// checkAddresses applies the outbound guard to the addresses (URLs, and
// hosts with their ports) the settings name that changed — all of them
// when the saved ones were an administrator's — for callers who are not
// instance administrators, and asks for the secrets again when an address
// changes, so stored credentials never go to a new host.
func (ns *Notifications) checkAddresses(ctx context.Context, admin bool, schema json.RawMessage, wasOpen bool, saved, settings json.RawMessage, patch map[string]json.RawMessage) error {
	guard := ns.s.deps.Outbound
	if admin {
		guard = netguard.Open()
	}
	if !admin && wasOpen {
		// An administrator's addresses are judged again, every one, for
		// the tenant who now changes the settings.
		if _, err := hostaccess.CheckOutbound(ctx, guard, schema, nil, settings, "settings."); err != nil {
			return err
		}
	}
	changed, err := hostaccess.CheckOutbound(ctx, guard, schema, saved, settings, "settings.")
	if err != nil {
		return err
	}
	if saved == nil || len(changed) == 0 {
		return nil
	}
	was := writeonly.StringProperties(saved)
	var missing []string
	for _, secret := range writeonly.Properties(schema) {
		if _, sent := patch[secret]; !sent && was[secret] != "" {
			missing = append(missing, secret)
		}
	}
	if len(missing) > 0 {
		return problem.InvalidField("settings."+missing[0], "must be sent again when %s changes (%s), so saved credentials are never sent to a new address",
			changed[0], strings.Join(missing, ", "))
	}
	return nil
}

// RecheckAddresses checks a saved channel's URL settings again right
// before berth uses them (RecheckChannelAddresses).
func (ns *Notifications) RecheckAddresses(ctx context.Context, ch store.NotificationChannel) error {
	np, err := ns.plugins()
	if err != nil {
		return err
	}
	schemas, err := np.NotifierSchemas(ctx)
	if err != nil {
		return fmt.Errorf("notifier plugins: %w", err)
	}
	return RecheckChannelAddresses(ctx, ns.s.deps.Outbound, schemas[ch.PluginID], ch)
}

// RecheckChannelAddresses checks a saved channel's URL settings (those
// schema marks) again right before berth uses them, resolving names
// again: with guard, unless an instance administrator saved them.
func RecheckChannelAddresses(ctx context.Context, guard *netguard.Guard, schema json.RawMessage, ch store.NotificationChannel) error {
	if ch.OutboundOpen {
		return nil
	}
	return hostaccess.RecheckOutbound(ctx, guard, schema, ch.Settings, "settings.")
}

// Delete deletes a channel (admins and above); deliveries still queued
// for it are dropped.
func (ns *Notifications) Delete(ctx context.Context, p *store.Principal, ch store.NotificationChannel) error {
	if err := Authorize(p, ch.OrganizationID, store.RoleAdmin, "notification channel"); err != nil {
		return err
	}
	if err := notFoundAs(ns.s.deps.Store.DeleteNotificationChannel(ctx, ch.ID), "notification channel"); err != nil {
		return err
	}
	if np, err := ns.plugins(); err == nil {
		np.StopChannel(ch)
	}
	return nil
}

// Test sends a test event through the channel now (members and above)
// and records the outcome on its health. A *problem.Error refuses the
// test; any other error is the channel's failure, safe to show
// (netguard.Describe) and logged in full.
func (ns *Notifications) Test(ctx context.Context, p *store.Principal, ch store.NotificationChannel) (string, error) {
	if err := Authorize(p, ch.OrganizationID, store.RoleMember, "notification channel"); err != nil {
		return "", err
	}
	np, err := ns.plugins()
	if err != nil {
		return "", err
	}
	ev := notify.TestEvent(ch)
	err = ns.RecheckAddresses(ctx, ch)
	if err == nil {
		err = np.SendToChannel(ctx, ch, ev)
	}
	errText := ""
	if err != nil {
		if _, refused := err.(*problem.Error); refused {
			return "", err
		}
		errText = netguard.Describe(err)
		ns.s.deps.Logger.Warn("notification channel test failed", "channel", ch.ID, "plugin", ch.PluginID, "error", err)
	}
	if rerr := ns.s.deps.Store.RecordChannelDelivery(context.WithoutCancel(ctx), ch.ID, errText, false); rerr != nil {
		ns.s.deps.Logger.Error("record channel health", "channel", ch.ID, "error", rerr)
	}
	if err != nil {
		return "", fmt.Errorf("%s", errText)
	}
	return "a test message (event " + ev.ID + ") was delivered to " + ch.Name, nil
}
