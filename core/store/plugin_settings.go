package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// pluginSettingsContext binds sealed plugin settings to their plugin.
func pluginSettingsContext(id string) string { return "plugin_settings:" + id }

// PluginSettings returns the saved settings of a plugin, or nil.
func (s *Store) PluginSettings(ctx context.Context, id string) (json.RawMessage, error) {
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT settings_enc FROM plugin_settings WHERE plugin_id = $1`, id).Scan(&sealed)
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err, "plugin settings")
	}
	data, err := s.box.Open(pluginSettingsContext(id), sealed)
	if err != nil {
		return nil, fmt.Errorf("plugin settings of %s: %w", id, err)
	}
	return data, nil
}

// AllPluginSettings returns every saved plugin's settings by plugin id.
func (s *Store) AllPluginSettings(ctx context.Context) (map[string]json.RawMessage, error) {
	rows, err := s.pool.Query(ctx, `SELECT plugin_id, settings_enc FROM plugin_settings`)
	if err != nil {
		return nil, mapErr(err, "plugin settings")
	}
	out := map[string]json.RawMessage{}
	var id string
	var sealed []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &sealed}, func() error {
		data, err := s.box.Open(pluginSettingsContext(id), sealed)
		if err != nil {
			return fmt.Errorf("plugin settings of %s: %w", id, err)
		}
		out[id] = data
		return nil
	})
	return out, mapErr(err, "plugin settings")
}

// SetPluginSettings saves a plugin's settings.
func (s *Store) SetPluginSettings(ctx context.Context, id string, settings json.RawMessage, by uuid.UUID) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO plugin_settings (plugin_id, settings_enc, updated_by) VALUES ($1, $2, $3)
		ON CONFLICT (plugin_id) DO UPDATE SET settings_enc = EXCLUDED.settings_enc, updated_by = EXCLUDED.updated_by,
		updated_at = now()`, id, s.box.Seal(pluginSettingsContext(id), settings), by)
	return mapErr(err, "plugin settings")
}

// IsInstanceAdmin reports whether user administers the berth instance (the
// users.instance_admin flag; see docs/security.md).
func (s *Store) IsInstanceAdmin(ctx context.Context, user uuid.UUID) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT instance_admin FROM users WHERE id = $1`, user).Scan(&ok)
	if err == pgx.ErrNoRows {
		return false, nil
	}
	return ok, mapErr(err, "user")
}

// ConfiguredPlugins lists, sorted, the ids of plugins with saved settings
// whose id starts with prefix ("notifier.").
func (s *Store) ConfiguredPlugins(ctx context.Context, prefix string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT plugin_id FROM plugin_settings WHERE starts_with(plugin_id, $1) ORDER BY plugin_id`, prefix)
	if err != nil {
		return nil, mapErr(err, "plugin settings")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapErr(err, "plugin settings")
	}
	return ids, nil
}
