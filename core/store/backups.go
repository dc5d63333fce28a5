package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// BackupDestination is an organization's configured backup target: a
// backup plugin with its own settings (sealed at rest: they hold
// credentials).
type BackupDestination struct {
	ID             uuid.UUID `json:"id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	Name           string    `json:"name"`
	PluginID       string    `json:"plugin_id"`
	// Settings are the plugin's settings; never returned by the API.
	Settings  json.RawMessage `json:"-"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

const destinationSettingsContext = "backup_destination:settings"

const destCols = `id, organization_id, name, plugin_id, settings_enc, created_at, updated_at`

func (s *Store) scanDestination(r pgx.Row) (BackupDestination, error) {
	var d BackupDestination
	var sealed []byte
	if err := r.Scan(&d.ID, &d.OrganizationID, &d.Name, &d.PluginID, &sealed, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return d, err
	}
	data, err := s.box.Open(destinationSettingsContext, sealed)
	if err != nil {
		return d, fmt.Errorf("backup destination settings: %w", err)
	}
	d.Settings = data
	return d, nil
}

// CreateBackupDestination adds a destination to an organization.
func (s *Store) CreateBackupDestination(ctx context.Context, org uuid.UUID, name, pluginID string, settings json.RawMessage) (BackupDestination, error) {
	id := newID()
	if settings == nil {
		settings = json.RawMessage("{}")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO backup_destinations (id, organization_id, name, plugin_id, settings_enc)
		VALUES ($1, $2, $3, $4, $5)`, id, org, name, pluginID, s.box.Seal(destinationSettingsContext, settings))
	if err != nil {
		return BackupDestination{}, mapErr(err, "backup destination")
	}
	return s.GetBackupDestination(ctx, id)
}

// GetBackupDestination returns one destination.
func (s *Store) GetBackupDestination(ctx context.Context, id uuid.UUID) (BackupDestination, error) {
	d, err := s.scanDestination(s.pool.QueryRow(ctx, `SELECT `+destCols+` FROM backup_destinations WHERE id = $1`, id))
	return d, mapErr(err, "backup destination")
}

// ListBackupDestinations returns the destinations of the organizations.
func (s *Store) ListBackupDestinations(ctx context.Context, orgs []uuid.UUID, p Page) ([]BackupDestination, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+destCols+` FROM backup_destinations
		WHERE organization_id = ANY($1) AND id > $2 ORDER BY id LIMIT $3`, s.scanDestination, orgs)
	return items, more, mapErr(err, "backup destinations")
}

// UpdateBackupDestination renames a destination and replaces its settings.
func (s *Store) UpdateBackupDestination(ctx context.Context, id uuid.UUID, name string, settings json.RawMessage) (BackupDestination, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE backup_destinations SET name = $2, settings_enc = $3, updated_at = now() WHERE id = $1`,
		id, name, s.box.Seal(destinationSettingsContext, settings))
	if err != nil {
		return BackupDestination{}, mapErr(err, "backup destination")
	}
	if tag.RowsAffected() == 0 {
		return BackupDestination{}, mapErr(pgx.ErrNoRows, "backup destination")
	}
	return s.GetBackupDestination(ctx, id)
}

// DeleteBackupDestination deletes a destination no policy uses (a policy
// still using it makes this a *ConflictError).
func (s *Store) DeleteBackupDestination(ctx context.Context, id uuid.UUID) error {
	var inUse bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM backup_policies WHERE destination_id = $1)`, id).Scan(&inUse); err != nil {
		return mapErr(err, "backup destination")
	}
	if inUse {
		return &ConflictError{Field: "id", Message: "backup destination is used by a backup policy; delete or change the policy first"}
	}
	return deleteByID(ctx, s.pool, "backup_destinations", id, "backup destination")
}

// BackupPolicy schedules backups of one database, or of one application's
// named volumes, to a destination.
type BackupPolicy struct {
	ID             uuid.UUID  `json:"id"`
	DatabaseID     *uuid.UUID `json:"database_id,omitempty"`
	ApplicationID  *uuid.UUID `json:"application_id,omitempty"`
	DestinationID  uuid.UUID  `json:"destination_id"`
	OrganizationID uuid.UUID  `json:"organization_id"`
	BackupPolicySpec
	LastScheduledAt *time.Time `json:"last_scheduled_at"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// BackupPolicySpec holds a policy's user-settable fields.
type BackupPolicySpec struct {
	// Schedule is a cron expression (an optional leading seconds field).
	Schedule string `json:"schedule"`
	// TimeZone is an IANA zone name, e.g. "Europe/Paris".
	TimeZone string `json:"time_zone"`
	Prefix   string `json:"prefix"`
	// KeepLatest is how many successful backups are kept; 0 keeps all.
	KeepLatest int `json:"keep_latest"`
	// Retries is how many times a failed run is retried.
	Retries int  `json:"retries"`
	Enabled bool `json:"enabled"`
	// StopService stops an application while its volumes are copied.
	StopService bool `json:"stop_service"`
}

const policyCols = `bp.id, bp.database_id, bp.application_id, bp.destination_id, bd.organization_id, bp.schedule, bp.time_zone,
	bp.prefix, bp.keep_latest, bp.retries, bp.enabled, bp.stop_service, bp.last_scheduled_at, bp.created_at, bp.updated_at`
const policyFrom = ` FROM backup_policies bp JOIN backup_destinations bd ON bd.id = bp.destination_id `

func scanPolicy(r pgx.Row) (BackupPolicy, error) {
	var p BackupPolicy
	err := r.Scan(&p.ID, &p.DatabaseID, &p.ApplicationID, &p.DestinationID, &p.OrganizationID, &p.Schedule, &p.TimeZone,
		&p.Prefix, &p.KeepLatest, &p.Retries, &p.Enabled, &p.StopService, &p.LastScheduledAt, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

// CreateBackupPolicy adds a policy for a database (db set) or an
// application's volumes (app set); exactly one must be set.
func (s *Store) CreateBackupPolicy(ctx context.Context, db, app *uuid.UUID, dest uuid.UUID, in BackupPolicySpec) (BackupPolicy, error) {
	id := newID()
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO backup_policies (id, database_id, application_id, destination_id, schedule,
		time_zone, prefix, keep_latest, retries, enabled, stop_service, last_scheduled_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())`,
		id, db, app, dest, in.Schedule, in.TimeZone, in.Prefix, in.KeepLatest, in.Retries, in.Enabled, in.StopService)
	if err != nil {
		return BackupPolicy{}, mapErr(err, "backup policy")
	}
	return s.GetBackupPolicy(ctx, id)
}

// GetBackupPolicy returns one policy.
func (s *Store) GetBackupPolicy(ctx context.Context, id uuid.UUID) (BackupPolicy, error) {
	p, err := scanPolicy(s.pool.QueryRow(ctx, `SELECT `+policyCols+policyFrom+`WHERE bp.id = $1`, id))
	return p, mapErr(err, "backup policy")
}

// PolicyFilter narrows ListBackupPolicies.
type PolicyFilter struct {
	Orgs        []uuid.UUID
	Database    uuid.UUID
	Application uuid.UUID
	// EnabledOnly lists enabled policies only (the scheduler).
	EnabledOnly bool
}

// ListBackupPolicies returns policies; a nil Orgs lists every
// organization's (the scheduler).
func (s *Store) ListBackupPolicies(ctx context.Context, f PolicyFilter, p Page) ([]BackupPolicy, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+policyCols+policyFrom+`
		WHERE ($1::uuid[] IS NULL OR bd.organization_id = ANY($1))
		AND ($2 = '00000000-0000-0000-0000-000000000000'::uuid OR bp.database_id = $2)
		AND ($3 = '00000000-0000-0000-0000-000000000000'::uuid OR bp.application_id = $3)
		AND (NOT $4 OR bp.enabled)
		AND bp.id > $5 ORDER BY bp.id LIMIT $6`, scanPolicy, f.Orgs, f.Database, f.Application, f.EnabledOnly)
	return items, more, mapErr(err, "backup policies")
}

// UpdateBackupPolicy replaces a policy's settings and destination.
func (s *Store) UpdateBackupPolicy(ctx context.Context, id, dest uuid.UUID, in BackupPolicySpec) (BackupPolicy, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE backup_policies SET destination_id = $2, schedule = $3, time_zone = $4, prefix = $5,
		keep_latest = $6, retries = $7, enabled = $8, stop_service = $9, updated_at = now() WHERE id = $1`,
		id, dest, in.Schedule, in.TimeZone, in.Prefix, in.KeepLatest, in.Retries, in.Enabled, in.StopService)
	if err != nil {
		return BackupPolicy{}, mapErr(err, "backup policy")
	}
	if tag.RowsAffected() == 0 {
		return BackupPolicy{}, mapErr(pgx.ErrNoRows, "backup policy")
	}
	return s.GetBackupPolicy(ctx, id)
}

// DeleteBackupPolicy deletes a policy; its backups' records stay, detached.
func (s *Store) DeleteBackupPolicy(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "backup_policies", id, "backup policy")
}

// AdvancePolicySchedule records that the policy's runs up to at were
// enqueued (or reported missed). It never moves the mark backwards.
func (s *Store) AdvancePolicySchedule(ctx context.Context, id uuid.UUID, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE backup_policies SET last_scheduled_at = $2
		WHERE id = $1 AND (last_scheduled_at IS NULL OR last_scheduled_at < $2)`, id, at)
	return mapErr(err, "backup policy")
}

// Backup is one backup run and the object it produced.
type Backup struct {
	ID            uuid.UUID  `json:"id"`
	PolicyID      *uuid.UUID `json:"policy_id"`
	DatabaseID    *uuid.UUID `json:"database_id"`
	ApplicationID *uuid.UUID `json:"application_id"`
	DestinationID *uuid.UUID `json:"destination_id"`
	// Kind is database or volume.
	Kind      string `json:"kind"`
	Key       string `json:"key"`
	SizeBytes int64  `json:"size_bytes"`
	SHA256    string `json:"sha256"`
	// Status is queued, running, succeeded, failed or missed.
	Status string `json:"status"`
	Error  string `json:"error"`
	// Trigger is schedule or manual.
	Trigger     string     `json:"trigger"`
	Attempts    int        `json:"attempts"`
	ScheduledAt *time.Time `json:"scheduled_at"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	// DeletedAt is when retention deleted the object.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
}

// Backup statuses and triggers.
const (
	BackupQueued    = "queued"
	BackupRunning   = "running"
	BackupSucceeded = "succeeded"
	BackupFailed    = "failed"
	BackupMissed    = "missed"

	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
)

const backupCols = `id, policy_id, database_id, application_id, destination_id, kind, key, size_bytes, sha256, status, error,
	trigger, attempts, scheduled_at, created_at, started_at, finished_at, deleted_at`

func scanBackup(r pgx.Row) (Backup, error) {
	var b Backup
	err := r.Scan(&b.ID, &b.PolicyID, &b.DatabaseID, &b.ApplicationID, &b.DestinationID, &b.Kind, &b.Key, &b.SizeBytes,
		&b.SHA256, &b.Status, &b.Error, &b.Trigger, &b.Attempts, &b.ScheduledAt, &b.CreatedAt, &b.StartedAt, &b.FinishedAt,
		&b.DeletedAt)
	return b, err
}

// NewBackup describes a backup run to record.
type NewBackup struct {
	PolicyID      *uuid.UUID
	DatabaseID    *uuid.UUID
	ApplicationID *uuid.UUID
	DestinationID uuid.UUID
	Kind          string
	Status        string
	Trigger       string
	Error         string
	ScheduledAt   *time.Time
}

// CreateBackup records a backup run. A scheduled run of a policy is
// recorded once per scheduled time: a second insert returns the existing
// row and created=false.
func (s *Store) CreateBackup(ctx context.Context, in NewBackup) (b Backup, created bool, err error) {
	if in.Kind == "" {
		in.Kind = "database"
	}
	id := newID()
	tag, err := s.pool.Exec(ctx, `INSERT INTO backups (id, policy_id, database_id, application_id, destination_id, kind, status,
		trigger, error, scheduled_at, finished_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $7 IN ('failed', 'missed') THEN now() END)
		ON CONFLICT (policy_id, scheduled_at) WHERE scheduled_at IS NOT NULL DO NOTHING`,
		id, in.PolicyID, in.DatabaseID, in.ApplicationID, in.DestinationID, in.Kind, in.Status, in.Trigger, in.Error, in.ScheduledAt)
	if err != nil {
		return Backup{}, false, mapErr(err, "backup")
	}
	if tag.RowsAffected() == 0 {
		b, err = scanBackup(s.pool.QueryRow(ctx, `SELECT `+backupCols+` FROM backups WHERE policy_id = $1 AND scheduled_at = $2`,
			in.PolicyID, in.ScheduledAt))
		return b, false, mapErr(err, "backup")
	}
	b, err = s.GetBackup(ctx, id)
	return b, true, err
}

// GetBackup returns one backup record.
func (s *Store) GetBackup(ctx context.Context, id uuid.UUID) (Backup, error) {
	b, err := scanBackup(s.pool.QueryRow(ctx, `SELECT `+backupCols+` FROM backups WHERE id = $1`, id))
	return b, mapErr(err, "backup")
}

// BackupFilter narrows ListBackups; set one of its fields.
type BackupFilter struct {
	Policy      uuid.UUID
	Database    uuid.UUID
	Application uuid.UUID
	// Status lists only backups in this status.
	Status string
}

// ListBackups returns backups newest first.
func (s *Store) ListBackups(ctx context.Context, f BackupFilter, limit int) ([]Backup, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	rows, err := s.pool.Query(ctx, `SELECT `+backupCols+` FROM backups
		WHERE ($1 = '00000000-0000-0000-0000-000000000000'::uuid OR policy_id = $1)
		AND ($2 = '00000000-0000-0000-0000-000000000000'::uuid OR database_id = $2)
		AND ($3 = '00000000-0000-0000-0000-000000000000'::uuid OR application_id = $3)
		AND ($4 = '' OR status = $4)
		ORDER BY id DESC LIMIT $5`, f.Policy, f.Database, f.Application, f.Status, limit)
	if err != nil {
		return nil, mapErr(err, "backups")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Backup, error) { return scanBackup(r) })
	return items, mapErr(err, "backups")
}

// StartBackup marks a run started and counts the attempt.
func (s *Store) StartBackup(ctx context.Context, id uuid.UUID) error {
	_, err := s.pool.Exec(ctx, `UPDATE backups SET status = 'running', attempts = attempts + 1, error = '',
		started_at = now(), finished_at = NULL WHERE id = $1`, id)
	return mapErr(err, "backup")
}

// FinishBackup records a run's outcome: its object's key, size and sha256
// on success, the error otherwise.
func (s *Store) FinishBackup(ctx context.Context, id uuid.UUID, status, key string, size int64, sum, errMsg string) error {
	_, err := s.pool.Exec(ctx, `UPDATE backups SET status = $2, key = $3, size_bytes = $4, sha256 = $5, error = $6,
		finished_at = now() WHERE id = $1`, id, status, key, size, sum, errMsg)
	return mapErr(err, "backup")
}

// MarkBackupDeleted records that retention deleted the backup's object.
func (s *Store) MarkBackupDeleted(ctx context.Context, id uuid.UUID) error {
	_, err := s.pool.Exec(ctx, `UPDATE backups SET deleted_at = now() WHERE id = $1`, id)
	return mapErr(err, "backup")
}

// RecordedBackupKeys returns which of keys on destination dest are objects
// of recorded backups (not yet deleted by retention), by key.
func (s *Store) RecordedBackupKeys(ctx context.Context, dest uuid.UUID, keys []string) (map[string]uuid.UUID, error) {
	out := map[string]uuid.UUID{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT key, id FROM backups
		WHERE destination_id = $1 AND key = ANY($2) AND deleted_at IS NULL`, dest, keys)
	if err != nil {
		return nil, mapErr(err, "backup")
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var id uuid.UUID
		if err := rows.Scan(&key, &id); err != nil {
			return nil, err
		}
		out[key] = id
	}
	return out, rows.Err()
}
