package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// InstanceSettings decide what tenants (users who are not instance
// administrators) may reach on the host. See docs/security.md.
type InstanceSettings struct {
	// AllowOrganizationCreation lets any signed-in user create organizations.
	AllowOrganizationCreation bool `json:"allow_organization_creation"`
	// BindMountRoots are host directories under which any member may bind
	// mount into an application; empty means bind mounts are for instance
	// administrators only.
	BindMountRoots []string `json:"bind_mount_roots"`
	// LocalBackupRoots are host directories under which organization admins
	// may point a backup.local destination.
	LocalBackupRoots []string `json:"local_backup_roots"`
	// OutboundAllow lists internal addresses (CIDRs, IPs or host names) that
	// tenants may aim outbound requests at (git hosts, S3 endpoints).
	OutboundAllow []string `json:"outbound_allow"`
	// DefaultBuilder is the builder plugin name (railpack, nixpacks...) the
	// build type auto tries first after the Dockerfile builder.
	DefaultBuilder string `json:"default_builder"`
	// MetricsIntervalSeconds is how often metrics are sampled
	// (docs/metrics.md); MetricsRetentionDays how long they are kept.
	MetricsIntervalSeconds int        `json:"metrics_interval_seconds"`
	MetricsRetentionDays   int        `json:"metrics_retention_days"`
	UpdatedBy              *uuid.UUID `json:"updated_by"`
	UpdatedAt              time.Time  `json:"updated_at"`
}

// InstanceSettings returns the instance's host-access settings.
func (s *Store) InstanceSettings(ctx context.Context) (InstanceSettings, error) {
	var in InstanceSettings
	err := s.pool.QueryRow(ctx, `SELECT allow_organization_creation, bind_mount_roots, local_backup_roots,
		outbound_allow, default_builder, metrics_interval_seconds, metrics_retention_days, updated_by, updated_at FROM instance_settings WHERE id`).
		Scan(&in.AllowOrganizationCreation, &in.BindMountRoots, &in.LocalBackupRoots, &in.OutboundAllow, &in.DefaultBuilder,
			&in.MetricsIntervalSeconds, &in.MetricsRetentionDays, &in.UpdatedBy, &in.UpdatedAt)
	return in, mapErr(err, "instance settings")
}

// UpdateInstanceSettings replaces the instance's host-access settings.
func (s *Store) UpdateInstanceSettings(ctx context.Context, in InstanceSettings, by uuid.UUID) (InstanceSettings, error) {
	for _, l := range []*[]string{&in.BindMountRoots, &in.LocalBackupRoots, &in.OutboundAllow} {
		if *l == nil {
			*l = []string{}
		}
	}
	err := s.pool.QueryRow(ctx, `UPDATE instance_settings SET allow_organization_creation = $1, bind_mount_roots = $2,
		local_backup_roots = $3, outbound_allow = $4, default_builder = COALESCE(NULLIF($6, ''), default_builder),
		metrics_interval_seconds = COALESCE(NULLIF($7, 0), metrics_interval_seconds), metrics_retention_days = COALESCE(NULLIF($8, 0), metrics_retention_days),
		updated_by = $5, updated_at = now() WHERE id
		RETURNING default_builder, metrics_interval_seconds, metrics_retention_days, updated_by, updated_at`,
		in.AllowOrganizationCreation, in.BindMountRoots, in.LocalBackupRoots, in.OutboundAllow, by, in.DefaultBuilder,
		in.MetricsIntervalSeconds, in.MetricsRetentionDays).Scan(&in.DefaultBuilder, &in.MetricsIntervalSeconds, &in.MetricsRetentionDays, &in.UpdatedBy, &in.UpdatedAt)
	return in, mapErr(err, "instance settings")
}

// ListUsers returns every user of the instance, by id (instance administrators only).
func (s *Store) ListUsers(ctx context.Context, p Page) ([]User, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+userCols+` FROM users WHERE id > $1 ORDER BY id LIMIT $2`,
		func(r pgx.Row) (User, error) { return scanUser(r) })
	return items, more, mapErr(err, "users")
}

// ErrLastInstanceAdmin is returned when a change would leave the instance
// without an administrator.
var ErrLastInstanceAdmin = errLastInstanceAdmin{}

type errLastInstanceAdmin struct{}

func (errLastInstanceAdmin) Error() string {
	return "the instance needs at least one instance administrator"
}

// SetInstanceAdmin grants or revokes a user's instance administration. The
// last instance administrator cannot be revoked (ErrLastInstanceAdmin).
func (s *Store) SetInstanceAdmin(ctx context.Context, user uuid.UUID, admin bool) (User, error) {
	var u User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var err error
		if u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET instance_admin = $2, updated_at = now()
			WHERE id = $1 RETURNING `+userCols, user, admin)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE instance_admin`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrLastInstanceAdmin
		}
		return nil
	})
	if err == ErrLastInstanceAdmin {
		return User{}, err
	}
	return u, mapErr(err, "user")
}

// VolumeOrganizations returns, for each of names used as a Docker volume,
// the organizations whose applications mount it or whose databases keep
// their data in it (previews included).
func (s *Store) VolumeOrganizations(ctx context.Context, names []string) (map[string][]uuid.UUID, error) {
	out := map[string][]uuid.UUID{}
	if len(names) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT m->>'source', p.organization_id
		FROM applications a JOIN environments e ON e.id = a.environment_id JOIN projects p ON p.id = e.project_id,
		     jsonb_array_elements(a.mounts) m
		WHERE m->>'type' = 'volume' AND m->>'source' = ANY($1)
		UNION
		SELECT d.volume_name, p.organization_id
		FROM databases d JOIN environments e ON e.id = d.environment_id JOIN projects p ON p.id = e.project_id
		WHERE d.volume_name = ANY($1)`, names)
	if err != nil {
		return nil, mapErr(err, "volumes")
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var org uuid.UUID
		if err := rows.Scan(&name, &org); err != nil {
			return nil, mapErr(err, "volumes")
		}
		out[name] = append(out[name], org)
	}
	return out, mapErr(rows.Err(), "volumes")
}
