package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Restore statuses.
const (
	RestoreQueued    = "queued"
	RestoreRunning   = "running"
	RestoreSucceeded = "succeeded"
	RestoreFailed    = "failed"
	RestoreCancelled = "cancelled"
)

// Restore is one restore of a backup into a database (kind database) or an
// application's volumes (kind volume), run as a durable job.
type Restore struct {
	ID             uuid.UUID `json:"id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	// Kind is database or volume.
	Kind          string     `json:"kind"`
	DatabaseID    *uuid.UUID `json:"database_id"`
	ApplicationID *uuid.UUID `json:"application_id"`
	// BackupID is the recorded backup restored; null for an object found
	// only on a destination (DestinationID and Key).
	BackupID      *uuid.UUID `json:"backup_id"`
	DestinationID *uuid.UUID `json:"destination_id"`
	Key           string     `json:"key"`
	// TargetName is the database's or application's name when queued.
	TargetName string `json:"target_name"`
	// Status is queued, running, succeeded, failed or cancelled.
	Status string `json:"status"`
	// Phase is the last progress message ("verifying", "loading into a
	// fresh database", ...).
	Phase string `json:"phase"`
	// Error says why a restore failed or was cancelled, and that the
	// previous data was kept.
	Error string `json:"error"`
	// BytesRead and BytesTotal count the backup object read so far in the
	// current pass (verification, then loading) and its size.
	BytesRead       int64      `json:"bytes_read"`
	BytesTotal      int64      `json:"bytes_total"`
	CancelRequested bool       `json:"cancel_requested"`
	JobID           *int64     `json:"-"`
	CreatedBy       *uuid.UUID `json:"created_by"`
	CreatedAt       time.Time  `json:"created_at"`
	StartedAt       *time.Time `json:"started_at"`
	FinishedAt      *time.Time `json:"finished_at"`
}

// Done reports whether the restore reached a final status.
func (r Restore) Done() bool {
	return r.Status == RestoreSucceeded || r.Status == RestoreFailed || r.Status == RestoreCancelled
}

const restoreCols = `id, organization_id, kind, database_id, application_id, backup_id, destination_id, key, target_name,
	status, phase, error, bytes_read, bytes_total, cancel_requested, job_id, created_by, created_at, started_at, finished_at`

func scanRestore(r pgx.Row) (Restore, error) {
	var x Restore
	err := r.Scan(&x.ID, &x.OrganizationID, &x.Kind, &x.DatabaseID, &x.ApplicationID, &x.BackupID, &x.DestinationID, &x.Key,
		&x.TargetName, &x.Status, &x.Phase, &x.Error, &x.BytesRead, &x.BytesTotal, &x.CancelRequested, &x.JobID, &x.CreatedBy,
		&x.CreatedAt, &x.StartedAt, &x.FinishedAt)
	return x, err
}

// NewRestore describes a restore to record.
type NewRestore struct {
	OrganizationID uuid.UUID
	Kind           string
	DatabaseID     *uuid.UUID
	ApplicationID  *uuid.UUID
	BackupID       *uuid.UUID
	DestinationID  *uuid.UUID
	Key            string
	TargetName     string
	CreatedBy      *uuid.UUID
}

// CreateRestore records a queued restore and, in the same transaction,
// calls enqueue with the transaction and the new restore (to insert its
// job with River's InsertTx); the job id it returns is recorded. Either
// both the record and the job exist afterwards, or neither.
func (s *Store) CreateRestore(ctx context.Context, in NewRestore, enqueue func(ctx context.Context, tx pgx.Tx, r Restore) (int64, error)) (Restore, error) {
	var out Restore
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := scanRestore(tx.QueryRow(ctx, `INSERT INTO restores (id, organization_id, kind, database_id, application_id,
			backup_id, destination_id, key, target_name, status, phase, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 'queued', $10) RETURNING `+restoreCols,
			newID(), in.OrganizationID, in.Kind, in.DatabaseID, in.ApplicationID, in.BackupID, in.DestinationID, in.Key,
			in.TargetName, in.CreatedBy))
		if err != nil {
			return err
		}
		jobID, err := enqueue(ctx, tx, r)
		if err != nil {
			return err
		}
		out, err = scanRestore(tx.QueryRow(ctx, `UPDATE restores SET job_id = $2 WHERE id = $1 RETURNING `+restoreCols, r.ID, jobID))
		return err
	})
	return out, mapErr(err, "restore")
}

// GetRestore returns one restore.
func (s *Store) GetRestore(ctx context.Context, id uuid.UUID) (Restore, error) {
	r, err := scanRestore(s.pool.QueryRow(ctx, `SELECT `+restoreCols+` FROM restores WHERE id = $1`, id))
	return r, mapErr(err, "restore")
}

// RestoreFilter narrows ListRestores; set at most one of its ids.
type RestoreFilter struct {
	Database    uuid.UUID
	Application uuid.UUID
	// Statuses lists only restores in one of these statuses.
	Statuses []string
}

// ListRestores returns restores newest first.
func (s *Store) ListRestores(ctx context.Context, f RestoreFilter, limit int) ([]Restore, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	rows, err := s.pool.Query(ctx, `SELECT `+restoreCols+` FROM restores
		WHERE ($1 = '00000000-0000-0000-0000-000000000000'::uuid OR database_id = $1)
		AND ($2 = '00000000-0000-0000-0000-000000000000'::uuid OR application_id = $2)
		AND (COALESCE(cardinality($3::text[]), 0) = 0 OR status = ANY($3))
		ORDER BY id DESC LIMIT $4`, f.Database, f.Application, f.Statuses, limit)
	if err != nil {
		return nil, mapErr(err, "restores")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Restore, error) { return scanRestore(r) })
	return items, mapErr(err, "restores")
}

// Outcomes of StartRestore.
const (
	// RestoreStarted: the restore is now running.
	RestoreStarted = "started"
	// RestoreBusy: another restore of the same database or application is
	// running; try again later.
	RestoreBusy = "busy"
	// RestoreGone: the restore is not queued any more (cancelled, or taken
	// by a previous process).
	RestoreGone = "gone"
)

// StartRestore moves a queued restore to running unless another restore
// of the same database or application runs.
func (s *Store) StartRestore(ctx context.Context, id uuid.UUID) (string, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE restores r SET status = 'running', started_at = now(), phase = 'starting'
		WHERE r.id = $1 AND r.status = 'queued' AND NOT EXISTS (SELECT 1 FROM restores o WHERE o.status = 'running'
			AND o.id <> r.id AND (o.database_id = r.database_id OR o.application_id = r.application_id))`, id)
	if err != nil {
		return "", mapErr(err, "restore")
	}
	if tag.RowsAffected() == 1 {
		return RestoreStarted, nil
	}
	r, err := s.GetRestore(ctx, id)
	if err != nil {
		return "", err
	}
	if r.Status == RestoreQueued {
		return RestoreBusy, nil
	}
	return RestoreGone, nil
}

// NoteRestore appends a sentence to a finished restore's error (what
// start-up reconciliation found).
func (s *Store) NoteRestore(ctx context.Context, id uuid.UUID, note string) error {
	_, err := s.pool.Exec(ctx, `UPDATE restores SET error = CASE WHEN error = '' THEN $2 ELSE error || '; ' || $2 END
		WHERE id = $1`, id, note)
	return mapErr(err, "restore")
}

// RestoreProgress records a running restore's phase and byte counts; an
// empty phase keeps the current one.
func (s *Store) RestoreProgress(ctx context.Context, id uuid.UUID, phase string, read, total int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE restores SET phase = CASE WHEN $2 = '' THEN phase ELSE $2 END,
		bytes_read = $3, bytes_total = $4 WHERE id = $1 AND status = 'running'`, id, phase, read, total)
	return mapErr(err, "restore")
}

// FinishRestore records a restore's outcome (succeeded, failed or
// cancelled) unless it already has one; false when it had.
func (s *Store) FinishRestore(ctx context.Context, id uuid.UUID, status, phase, errMsg string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE restores SET status = $2, phase = CASE WHEN $3 = '' THEN phase ELSE $3 END,
		error = $4, finished_at = now() WHERE id = $1 AND status IN ('queued', 'running')`, id, status, phase, errMsg)
	if err != nil {
		return false, mapErr(err, "restore")
	}
	return tag.RowsAffected() == 1, nil
}

// CancelQueuedRestore cancels a restore that has not started; false when
// it is not queued.
func (s *Store) CancelQueuedRestore(ctx context.Context, id uuid.UUID, msg string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE restores SET status = 'cancelled', cancel_requested = true, error = $2,
		phase = 'cancelled', finished_at = now() WHERE id = $1 AND status = 'queued'`, id, msg)
	if err != nil {
		return false, mapErr(err, "restore")
	}
	return tag.RowsAffected() == 1, nil
}

// RequestRestoreCancel flags a running restore to be cancelled; false when
// it is not running.
func (s *Store) RequestRestoreCancel(ctx context.Context, id uuid.UUID) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE restores SET cancel_requested = true WHERE id = $1 AND status = 'running'`, id)
	if err != nil {
		return false, mapErr(err, "restore")
	}
	return tag.RowsAffected() == 1, nil
}

// FailRunningRestores marks every running restore failed with msg (at
// start-up: the process running them died) and returns them.
func (s *Store) FailRunningRestores(ctx context.Context, msg string) ([]Restore, error) {
	rows, err := s.pool.Query(ctx, `UPDATE restores SET status = 'failed', error = $1, finished_at = now()
		WHERE status = 'running' RETURNING `+restoreCols, msg)
	if err != nil {
		return nil, mapErr(err, "restores")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Restore, error) { return scanRestore(r) })
	return items, mapErr(err, "restores")
}
