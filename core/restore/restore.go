// Package restore runs restores of backups as durable jobs: a restore is
// recorded together with its River job in one transaction, worked on the
// restore queue (one at a time per database or application), reports its
// phase and the bytes read on its record, can be cancelled, and is settled
// at start-up when a killed process left it running.
package restore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/backup"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/store"
)

// Args are the durable arguments of a restore job.
type Args struct {
	RestoreID uuid.UUID `json:"restore_id"`
}

// Kind is the stable job kind name.
func (Args) Kind() string { return "berth.restore" }

// InsertOpts puts restores on the restore queue, never retried on their
// own (a failed restore is reported; the user starts another).
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.Restore, MaxAttempts: 1}
}

// Runner restores backups (backup.Runner).
type Runner interface {
	Restore(ctx context.Context, req backup.RestoreRequest, progress func(string)) error
	RestoreVolumes(ctx context.Context, req backup.VolumeRestoreRequest, progress func(string)) error
	CleanupRestore(ctx context.Context, rec store.Restore) (string, error)
}

// Queue inserts and cancels jobs (queue.Queue).
type Queue interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, bool, error)
	Cancel(ctx context.Context, id int64) error
}

// ErrNotCancellable is returned by Cancel for a restore that already ended.
var ErrNotCancellable = errors.New("restore already ended")

// Service records, cancels and settles restores.
type Service struct {
	Store  *store.Store
	Queue  Queue
	Runner Runner
	Logger *slog.Logger
}

// Create records a queued restore and inserts its job in the same
// transaction: both exist, or neither.
func (s *Service) Create(ctx context.Context, in store.NewRestore) (store.Restore, error) {
	return s.Store.CreateRestore(ctx, in, func(ctx context.Context, tx pgx.Tx, r store.Restore) (int64, error) {
		id, _, err := s.Queue.InsertTx(ctx, tx, Args{RestoreID: r.ID}, nil)
		return id, err
	})
}

// Cancel cancels a queued restore at once, or asks a running one to stop:
// it then drops what it loaded and ends as cancelled, the previous data
// untouched (a restore already swapping in its data completes).
func (s *Service) Cancel(ctx context.Context, rec store.Restore) (store.Restore, error) {
	ok, err := s.Store.CancelQueuedRestore(ctx, rec.ID, "cancelled before it started; nothing was touched")
	if err != nil {
		return rec, err
	}
	if !ok {
		if ok, err = s.Store.RequestRestoreCancel(ctx, rec.ID); err != nil {
			return rec, err
		}
		if !ok {
			cur, err := s.Store.GetRestore(ctx, rec.ID)
			if err != nil {
				return rec, err
			}
			return cur, fmt.Errorf("%w: restore %s is %s", ErrNotCancellable, rec.ID, cur.Status)
		}
	}
	if rec.JobID != nil {
		if err := s.Queue.Cancel(ctx, *rec.JobID); err != nil {
			s.log().Warn("cancelling a restore's job failed", "restore", rec.ID, "err", err)
		}
	}
	return s.Store.GetRestore(ctx, rec.ID)
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// StoppedReason is the error of a restore that was running when berth
// stopped or was killed.
const StoppedReason = "berth stopped during the restore"

// Recover fails the restores a previous process left running (call it at
// start-up, before the queue starts) and then, in the background, drops
// the fresh databases they created or puts back the data they kept aside
// (a volume restore's switch is settled by the backup runner's Recover,
// which runs first), noting on each record what the database or the
// application serves. It returns at once
// after the records are updated; wait on the returned channel for the
// clean-up to end.
func (s *Service) Recover(ctx context.Context) (<-chan struct{}, error) {
	done := make(chan struct{})
	recs, err := s.Store.FailRunningRestores(ctx, StoppedReason)
	if err != nil {
		close(done)
		return done, fmt.Errorf("recover restores: %w", err)
	}
	for _, r := range recs {
		s.log().Warn("a restore was left running by a previous process: marked failed", "restore", r.ID, "target", r.TargetName)
	}
	go func() {
		defer close(done)
		for _, r := range recs {
			note, err := s.Runner.CleanupRestore(ctx, r)
			if err != nil {
				note = "cleaning up after it failed: " + err.Error()
				s.log().Error("cleaning up an interrupted restore failed", "restore", r.ID, "err", err)
			}
			if note != "" {
				if err := s.Store.NoteRestore(context.WithoutCancel(ctx), r.ID, note); err != nil {
					s.log().Error("recording a restore's clean-up failed", "restore", r.ID, "err", err)
				}
			}
		}
	}()
	return done, nil
}

// Worker works restore jobs.
type Worker struct {
	river.WorkerDefaults[Args]
	Store  *store.Store
	Runner Runner
	// Events, when set, receives restore.succeeded and restore.failed
	// (queued in the transaction recording the outcome when it is a
	// TxEmitter).
	Events EventEmitter
	Logger *slog.Logger
}

// Timeout bounds one restore.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return 6 * time.Hour }

// Work runs the restore. It snoozes while another restore of the same
// database or application runs.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	id := job.Args.RestoreID
	started, err := w.Store.StartRestore(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	switch started {
	case store.RestoreBusy:
		return river.JobSnooze(2 * time.Second)
	case store.RestoreGone:
		return nil
	}
	rec, err := w.Store.GetRestore(ctx, id)
	if err != nil {
		return err
	}
	p := &reporter{store: w.Store, id: id}
	switch {
	case rec.Kind == "volume" && rec.BackupID != nil:
		err = w.Runner.RestoreVolumes(ctx, backup.VolumeRestoreRequest{ID: rec.ID, BackupID: *rec.BackupID}, p.phase)
	case rec.Kind == "database" && rec.DatabaseID != nil:
		req := backup.RestoreRequest{ID: rec.ID, DatabaseID: *rec.DatabaseID, Key: rec.Key, OnBytes: p.bytes}
		if rec.BackupID != nil {
			req.BackupID = *rec.BackupID
		} else if rec.DestinationID != nil {
			req.DestinationID = *rec.DestinationID
		}
		err = w.Runner.Restore(ctx, req, p.phase)
	default:
		err = errors.New("the restore's target or backup was deleted")
	}
	p.flush()
	fctx := context.WithoutCancel(ctx)
	status, phase, msg := store.RestoreSucceeded, "restored", ""
	if err != nil {
		status, phase, msg = store.RestoreFailed, "failed", err.Error()
		if ctx.Err() != nil {
			if cur, gerr := w.Store.GetRestore(fctx, id); gerr == nil && cur.CancelRequested {
				status, phase, msg = store.RestoreCancelled, "cancelled", "cancelled by request: "+err.Error()
			} else {
				msg = StoppedReason + ": " + err.Error()
			}
		}
	}
	if ferr := w.finish(fctx, rec, status, phase, msg); ferr != nil {
		return ferr
	}
	w.log().Info("restore ended", "restore", id, "target", rec.TargetName, "status", status, "err", msg)
	return nil
}

func (w *Worker) log() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

// reporter records a restore's progress: every phase, and the byte counts
// at most twice a second.
type reporter struct {
	store *store.Store
	id    uuid.UUID

	mu          sync.Mutex
	read, total int64
	last        time.Time
}

func (p *reporter) phase(msg string) {
	p.mu.Lock()
	read, total := p.read, p.total
	p.mu.Unlock()
	_ = p.store.RestoreProgress(context.Background(), p.id, msg, read, total)
}

func (p *reporter) bytes(read, total int64) {
	p.mu.Lock()
	p.read, p.total = read, total
	due := time.Since(p.last) >= 500*time.Millisecond
	if due {
		p.last = time.Now()
	}
	p.mu.Unlock()
	if due {
		_ = p.store.RestoreProgress(context.Background(), p.id, "", read, total)
	}
}

func (p *reporter) flush() {
	p.mu.Lock()
	read, total := p.read, p.total
	p.mu.Unlock()
	_ = p.store.RestoreProgress(context.Background(), p.id, "", read, total)
}
