package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SetBackupJob records the queue job that runs a backup (in the
// transaction that recorded the backup and inserted the job).
func (s *Store) SetBackupJob(ctx context.Context, id uuid.UUID, job int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE backups SET job_id = $2 WHERE id = $1`, id, job)
	return mapErr(err, "backup")
}

// UnfinishedBackup is a queued or running backup with the job that runs it
// (nil for a record made before jobs were recorded).
type UnfinishedBackup struct {
	Backup
	JobID *int64
}

// UnfinishedBackups returns the backups still queued or running, oldest
// first (start-up reconciliation).
func (s *Store) UnfinishedBackups(ctx context.Context) ([]UnfinishedBackup, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+backupCols+`, job_id FROM backups
		WHERE status IN ('queued', 'running') ORDER BY id`)
	if err != nil {
		return nil, mapErr(err, "backups")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnfinishedBackup, error) {
		var u UnfinishedBackup
		b := &u.Backup
		err := r.Scan(&b.ID, &b.PolicyID, &b.DatabaseID, &b.ApplicationID, &b.DestinationID, &b.Kind, &b.Key, &b.SizeBytes,
			&b.SHA256, &b.Status, &b.Error, &b.Trigger, &b.Attempts, &b.ScheduledAt, &b.CreatedAt, &b.StartedAt, &b.FinishedAt,
			&b.DeletedAt, &u.JobID)
		return u, err
	})
	return out, mapErr(err, "backups")
}

// FailUnfinishedBackup settles a backup that is still in status (queued
// or running) as failed with reason; it reports false when the backup had
// moved on meanwhile.
func (s *Store) FailUnfinishedBackup(ctx context.Context, id uuid.UUID, status, reason string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE backups SET status = 'failed', error = $3, finished_at = now()
		WHERE id = $1 AND status = $2`, id, status, reason)
	if err != nil {
		return false, mapErr(err, "backup")
	}
	return tag.RowsAffected() == 1, nil
}
