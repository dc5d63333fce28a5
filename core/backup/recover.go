package backup

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// Jobs inspects and cancels queue jobs (queue.Queue).
type Jobs interface {
	State(ctx context.Context, id int64) (queue.JobState, error)
	Cancel(ctx context.Context, id int64) error
}

// Reason recorded on a backup a killed berth left running.
const interruptedReason = "berth stopped during the backup; the copy was abandoned and the next run starts afresh"

// Recover settles what a killed berth left, before the queue starts:
// services a volume backup (or restore) stopped for the copy are scaled
// back to their recorded replicas (services matching labels, e.g. this
// instance's); volume switches killed restores left are settled and their
// unused fresh volumes removed (ReconcileVolumes); backups left running are failed with the reason and their
// jobs cancelled, so they never block their policy; queued backups whose
// job will never run are failed likewise. Emitted notifications commit
// with the failed status.
func (r *Runner) Recover(ctx context.Context, jobs Jobs, labels map[string]string) error {
	var errs []error
	if r.d.Scaler != nil {
		if _, err := r.d.Scaler.ResumeStopped(ctx, labels); err != nil {
			errs = append(errs, fmt.Errorf("backup: scale stopped services back: %w", err))
		}
	}
	errs = append(errs, r.stopStartedDatabases(ctx)...)
	if err := r.ReconcileVolumes(ctx); err != nil {
		errs = append(errs, fmt.Errorf("backup: settle interrupted volume restores: %w", err))
	}
	list, err := r.d.Store.UnfinishedBackups(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, u := range list {
		reason := interruptedReason
		if u.Status == store.BackupQueued {
			if u.JobID == nil {
				reason = "berth lost this backup's queue job before it started (it has no job); run it again"
			} else {
				state, err := jobs.State(ctx, *u.JobID)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if state.Waiting() {
					continue
				}
				reason = fmt.Sprintf("berth lost this backup's queue job before it started (state %q); run it again", state)
			}
		}
		ev := interruptedEvent(u.Backup, reason)
		r.scope(ctx, u.Backup, &ev)
		ok, err := r.failUnfinished(ctx, u.Backup, reason, ev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		if u.JobID != nil {
			if err := jobs.Cancel(ctx, *u.JobID); err != nil {
				r.d.Logger.Warn("cancelling an interrupted backup's job failed", "backup", u.ID, "err", err)
			}
		}
		r.d.Logger.Warn("settled an interrupted backup", "backup", u.ID, "was", u.Status, "reason", reason)
	}
	return errors.Join(errs...)
}

// failUnfinished fails a backup still in its status and queues ev in the
// same transaction.
func (r *Runner) failUnfinished(ctx context.Context, b store.Backup, reason string, ev sdk.Event) (bool, error) {
	te, txEmit := r.d.Events.(TxEmitter)
	var ok bool
	err := r.d.Store.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		if ok, err = tx.FailUnfinishedBackup(ctx, b.ID, b.Status, reason); err != nil || !ok {
			return err
		}
		if txEmit {
			te.EmitTx(ctx, tx.Pgx(), ev)
		}
		return nil
	})
	if err == nil && ok && !txEmit {
		r.emit(ctx, ev)
	}
	return ok, err
}

// stopStartedDatabases stops again the databases that should be stopped but
// run: a dump or restore started them (see running) and berth was killed
// before it stopped them.
func (r *Runner) stopStartedDatabases(ctx context.Context) []error {
	if r.d.Services == nil || r.d.Docker == nil {
		return nil
	}
	dbs, err := r.d.Store.StoppedDatabases(ctx)
	if err != nil {
		return []error{fmt.Errorf("backup: list stopped databases: %w", err)}
	}
	var errs []error
	for _, db := range dbs {
		if _, err := taskContainer(ctx, r.d.Docker, db.ServiceName); err != nil {
			continue // not running (or no service): nothing to undo
		}
		r.d.Logger.Warn("database started for a backup by a previous berth process stopped again", "database", db.Name)
		if err := r.d.Services.Stop(ctx, db, nil); err != nil {
			errs = append(errs, fmt.Errorf("backup: stop database %s again: %w", db.Name, err))
		}
	}
	return errs
}
