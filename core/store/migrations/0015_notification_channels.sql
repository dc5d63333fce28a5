-- Notification channels (docs/notifications.md): an organization's
-- notifier plugin with its own settings (sealed: they hold tokens and
-- webhook URLs), the event types it receives and optional project and
-- environment filters. Each channel runs its own plugin process.
CREATE TABLE notification_channels (
    id                    uuid PRIMARY KEY,
    organization_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                  text NOT NULL,
    plugin_id             text NOT NULL,
    settings_enc          bytea NOT NULL,
    events                text[] NOT NULL,
    project_ids           uuid[] NOT NULL DEFAULT '{}',
    environment_ids       uuid[] NOT NULL DEFAULT '{}',
    -- instance_events: also receives events about the whole instance
    -- (berth restarted, a plugin crashed...); only instance
    -- administrators set it.
    instance_events       boolean NOT NULL DEFAULT false,
    -- outbound_open: saved by an instance administrator, so its
    -- addresses may be internal ones (docs/outbound.md).
    outbound_open         boolean NOT NULL DEFAULT false,
    enabled               boolean NOT NULL DEFAULT true,
    -- Health, updated by every delivery attempt.
    consecutive_failures  integer NOT NULL DEFAULT 0,
    gave_up               boolean NOT NULL DEFAULT false,
    last_error            text NOT NULL DEFAULT '',
    last_error_at         timestamptz,
    last_delivered_at     timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);

CREATE INDEX notification_channels_events ON notification_channels USING gin (events) WHERE enabled;
