-- Settings of instance-wide plugins (they may hold credentials: sealed).
CREATE TABLE plugin_settings (
    plugin_id     text PRIMARY KEY,
    settings_enc  bytea NOT NULL,
    updated_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
