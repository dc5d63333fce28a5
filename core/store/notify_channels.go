package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// NotificationChannel is an organization's notifier plugin with its own
// settings (sealed at rest: tokens, webhook URLs), the event types it
// receives and optional project and environment filters.
type NotificationChannel struct {
	ID             uuid.UUID `json:"id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	Name           string    `json:"name"`
	PluginID       string    `json:"plugin_id"`
	// Settings are the plugin's settings; never returned by the API.
	Settings json.RawMessage `json:"-"`
	// Events are the event types the channel receives.
	Events []string `json:"events"`
	// ProjectIDs and EnvironmentIDs, when not empty, limit the channel to
	// events of those projects and environments.
	ProjectIDs     []uuid.UUID `json:"project_ids"`
	EnvironmentIDs []uuid.UUID `json:"environment_ids"`
	// InstanceEvents: the channel also receives events about the whole
	// instance (instance administrators set it).
	InstanceEvents bool `json:"instance_events"`
	// OutboundOpen: an instance administrator saved the settings, so the
	// addresses they name may be internal ones.
	OutboundOpen bool          `json:"-"`
	Enabled      bool          `json:"enabled"`
	Health       ChannelHealth `json:"health"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

// ChannelHealth is how a channel's deliveries went.
type ChannelHealth struct {
	// State is unknown (nothing sent yet), healthy (the last delivery
	// worked), failing (the last attempt failed; it is retried) or
	// unhealthy (UnhealthyAfter attempts in a row failed, or a delivery
	// was given up).
	State               string     `json:"state"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	LastError           string     `json:"last_error"`
	LastErrorAt         *time.Time `json:"last_error_at"`
	LastDeliveredAt     *time.Time `json:"last_delivered_at"`
}

// Channel health states.
const (
	ChannelUnknown   = "unknown"
	ChannelHealthy   = "healthy"
	ChannelFailing   = "failing"
	ChannelUnhealthy = "unhealthy"
)

// UnhealthyAfter is how many failed attempts in a row make a channel
// unhealthy.
const UnhealthyAfter = 3

// ChannelChange is a channel's editable part: everything but its id,
// organization, plugin and health.
type ChannelChange struct {
	Name           string
	Settings       json.RawMessage
	Events         []string
	ProjectIDs     []uuid.UUID
	EnvironmentIDs []uuid.UUID
	InstanceEvents bool
	OutboundOpen   bool
	Enabled        bool
}

const channelSettingsContext = "notification_channel:settings"

const channelCols = `id, organization_id, name, plugin_id, settings_enc, events, project_ids, environment_ids,
	instance_events, outbound_open, enabled, consecutive_failures, gave_up, last_error, last_error_at,
	last_delivered_at, created_at, updated_at`

func (s *Store) scanChannel(r pgx.Row) (NotificationChannel, error) {
	var c NotificationChannel
	var sealed []byte
	var gaveUp bool
	h := &c.Health
	if err := r.Scan(&c.ID, &c.OrganizationID, &c.Name, &c.PluginID, &sealed, &c.Events, &c.ProjectIDs,
		&c.EnvironmentIDs, &c.InstanceEvents, &c.OutboundOpen, &c.Enabled, &h.ConsecutiveFailures, &gaveUp,
		&h.LastError, &h.LastErrorAt, &h.LastDeliveredAt, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return c, err
	}
	data, err := s.box.Open(channelSettingsContext, sealed)
	if err != nil {
		return c, fmt.Errorf("notification channel settings: %w", err)
	}
	c.Settings = data
	switch {
	case gaveUp || h.ConsecutiveFailures >= UnhealthyAfter:
		h.State = ChannelUnhealthy
	case h.ConsecutiveFailures > 0:
		h.State = ChannelFailing
	case h.LastDeliveredAt != nil:
		h.State = ChannelHealthy
	default:
		h.State = ChannelUnknown
	}
	return c, nil
}

func nonNilIDs(ids []uuid.UUID) []uuid.UUID {
	if ids == nil {
		return []uuid.UUID{}
	}
	return ids
}

// CreateNotificationChannel adds a channel to an organization.
func (s *Store) CreateNotificationChannel(ctx context.Context, org uuid.UUID, pluginID string, in ChannelChange) (NotificationChannel, error) {
	id := newID()
	if in.Settings == nil {
		in.Settings = json.RawMessage("{}")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO notification_channels (id, organization_id, name, plugin_id, settings_enc,
		events, project_ids, environment_ids, instance_events, outbound_open, enabled)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, id, org, in.Name, pluginID,
		s.box.Seal(channelSettingsContext, in.Settings), in.Events, nonNilIDs(in.ProjectIDs), nonNilIDs(in.EnvironmentIDs),
		in.InstanceEvents, in.OutboundOpen, in.Enabled)
	if err != nil {
		return NotificationChannel{}, mapErr(err, "notification channel")
	}
	return s.GetNotificationChannel(ctx, id)
}

// GetNotificationChannel returns one channel.
func (s *Store) GetNotificationChannel(ctx context.Context, id uuid.UUID) (NotificationChannel, error) {
	c, err := s.scanChannel(s.pool.QueryRow(ctx, `SELECT `+channelCols+` FROM notification_channels WHERE id = $1`, id))
	return c, mapErr(err, "notification channel")
}

// ListNotificationChannels returns the channels of the organizations.
func (s *Store) ListNotificationChannels(ctx context.Context, orgs []uuid.UUID, p Page) ([]NotificationChannel, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+channelCols+` FROM notification_channels
		WHERE organization_id = ANY($1) AND id > $2 ORDER BY id LIMIT $3`, s.scanChannel, orgs)
	return items, more, mapErr(err, "notification channels")
}

// UpdateNotificationChannel replaces a channel's editable part. A change
// of settings clears its health: the old errors were about old settings.
func (s *Store) UpdateNotificationChannel(ctx context.Context, id uuid.UUID, in ChannelChange) (NotificationChannel, error) {
	was, err := s.GetNotificationChannel(ctx, id)
	if err != nil {
		return was, err
	}
	resetHealth := !bytes.Equal(was.Settings, in.Settings)
	_, err = s.pool.Exec(ctx, `UPDATE notification_channels SET name = $2, settings_enc = $3, events = $4,
		project_ids = $5, environment_ids = $6, instance_events = $7, outbound_open = $8, enabled = $9,
		consecutive_failures = CASE WHEN $10 THEN 0 ELSE consecutive_failures END,
		gave_up = gave_up AND NOT $10, updated_at = now() WHERE id = $1`,
		id, in.Name, s.box.Seal(channelSettingsContext, in.Settings), in.Events, nonNilIDs(in.ProjectIDs),
		nonNilIDs(in.EnvironmentIDs), in.InstanceEvents, in.OutboundOpen, in.Enabled, resetHealth)
	if err != nil {
		return NotificationChannel{}, mapErr(err, "notification channel")
	}
	return s.GetNotificationChannel(ctx, id)
}

// DeleteNotificationChannel deletes a channel; deliveries still queued
// for it are dropped when they run.
func (s *Store) DeleteNotificationChannel(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "notification_channels", id, "notification channel")
}

// EventScope is what an event concerns, to pick the channels it goes to.
type EventScope struct {
	Type string
	// Organization is nil for an event about the whole instance.
	Organization, Project, Environment *uuid.UUID
}

// ChannelsFor returns the ids of the enabled channels an event goes to:
// those subscribed to its type, of its organization, whose project and
// environment filters (when set) name its project and environment; an
// event about the whole instance goes to subscribed channels that
// receive instance events.
func (s *Store) ChannelsFor(ctx context.Context, ev EventScope) ([]uuid.UUID, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM notification_channels
		WHERE enabled AND $1 = ANY(events)
		  AND (CASE WHEN $2::uuid IS NULL THEN instance_events ELSE organization_id = $2 END)
		  AND (cardinality(project_ids) = 0 OR $3::uuid = ANY(project_ids))
		  AND (cardinality(environment_ids) = 0 OR $4::uuid = ANY(environment_ids))
		ORDER BY id`, ev.Type, ev.Organization, ev.Project, ev.Environment)
	if err != nil {
		return nil, mapErr(err, "notification channels")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return ids, mapErr(err, "notification channels")
}

// RecordChannelDelivery records a delivery attempt's outcome on a
// channel's health: err empty is a success; gaveUp marks a delivery that
// will not be tried again.
func (s *Store) RecordChannelDelivery(ctx context.Context, id uuid.UUID, errText string, gaveUp bool) error {
	var err error
	if errText == "" {
		_, err = s.pool.Exec(ctx, `UPDATE notification_channels SET consecutive_failures = 0, gave_up = false,
			last_delivered_at = now() WHERE id = $1`, id)
	} else {
		_, err = s.pool.Exec(ctx, `UPDATE notification_channels SET consecutive_failures = consecutive_failures + 1,
			gave_up = gave_up OR $3, last_error = $2, last_error_at = now() WHERE id = $1`, id, errText, gaveUp)
	}
	return mapErr(err, "notification channel")
}
