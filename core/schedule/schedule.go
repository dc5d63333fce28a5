// Package schedule turns backup policies' cron schedules into durable
// backup jobs: each due run is recorded once per (policy, scheduled time)
// and enqueued on the backup queue; runs of one policy never overlap; a
// failed run is retried per the policy; runs missed while berth was down
// are recorded and reported at start-up. A run's record, its job and the
// policy's mark are written in one transaction, by the service layer
// (service.Backups) on berth's own behalf (service.System).
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/backupjob"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// Args are the durable arguments of a backup run (core/backupjob).
type Args = backupjob.Args

// Runner runs one backup attempt (backup.Runner).
type Runner interface {
	Run(ctx context.Context, id uuid.UUID, final bool) error
}

// Worker works backup jobs.
type Worker struct {
	river.WorkerDefaults[Args]
	Store  *store.Store
	Runner Runner
	// RetryDelay is the delay before the first retry; it grows linearly
	// with attempts. Default 30s.
	RetryDelay time.Duration
}

// Work runs the backup. It snoozes while another run of the same policy is
// running, so runs of one policy never overlap.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	if job.Args.PolicyID != uuid.Nil {
		running, err := w.Store.ListBackups(ctx, store.BackupFilter{Policy: job.Args.PolicyID, Status: store.BackupRunning}, 10)
		if err != nil {
			return err
		}
		for _, b := range running {
			if b.ID != job.Args.BackupID {
				return river.JobSnooze(2 * time.Second)
			}
		}
	}
	final := job.Attempt >= job.MaxAttempts
	return w.Runner.Run(ctx, job.Args.BackupID, final)
}

// NextRetry spaces retries of a failed backup.
func (w *Worker) NextRetry(job *river.Job[Args]) time.Time {
	d := w.RetryDelay
	if d <= 0 {
		d = 30 * time.Second
	}
	return time.Now().Add(d * time.Duration(job.Attempt))
}

// Timeout bounds one backup attempt.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return 6 * time.Hour }

// Enqueuer inserts jobs in a transaction (queue.Queue).
type Enqueuer interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, bool, error)
}

// EventEmitter delivers events (core/notify).
type EventEmitter interface {
	Emit(ctx context.Context, ev sdk.Event)
}

// TxEmitter is an EventEmitter that queues deliveries in a transaction
// (notify.Dispatcher).
type TxEmitter interface {
	EventEmitter
	EmitTx(ctx context.Context, tx pgx.Tx, ev sdk.Event)
}

// Scheduler enqueues due runs of enabled policies. It is a front door:
// its writes go through the service layer (service.Backups) as
// service.System.
type Scheduler struct {
	store   *store.Store
	backups *service.Backups
	events  EventEmitter
	log     *slog.Logger
	// Tick is how often policies are checked (default 1s).
	Tick time.Duration
	now  func() time.Time
}

// New returns a Scheduler that queues runs on q; events and log may be nil.
func New(st *store.Store, q Enqueuer, events EventEmitter, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{store: st, backups: backups(st, q), events: events, log: log, Tick: time.Second, now: time.Now}
}

// backups is the service layer's Backups on st queueing on q.
func backups(st *store.Store, q Enqueuer) *service.Backups {
	deps := service.Deps{Store: st}
	if q != nil {
		deps.Data.Jobs = q
	}
	return service.New(deps).Backups
}

// Enqueue records a backup run and enqueues it with the policy's retries,
// in one transaction: the record and its job exist together or not at all
// (service.Backups.Enqueue, as System). A scheduled run (ScheduledAt set)
// is recorded and enqueued once however often this is called.
func Enqueue(ctx context.Context, st *store.Store, q Enqueuer, nb store.NewBackup, retries int) (store.Backup, error) {
	return backups(st, q).Enqueue(ctx, service.System, nb, retries)
}

// Run reports runs missed while berth was down, then enqueues due runs
// until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	if err := s.ReportMissed(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("checking missed backups failed", "err", err)
	}
	t := time.NewTicker(s.Tick)
	defer t.Stop()
	for {
		if err := s.EnqueueDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("scheduling backups failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// policies lists every enabled policy.
func (s *Scheduler) policies(ctx context.Context) ([]store.BackupPolicy, error) {
	var all []store.BackupPolicy
	page := store.Page{Limit: store.MaxPageSize}
	for {
		items, more, err := s.store.ListBackupPolicies(ctx, store.PolicyFilter{EnabledOnly: true}, page)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if !more {
			return all, nil
		}
		page.After = items[len(items)-1].ID
	}
}

// ReportMissed records, for each enabled policy whose next run after its
// last scheduled one is already past, one missed backup (for the latest
// missed time), emits backup.missed (volume_backup.failed for a volume
// policy) saying so, and moves the policy's mark
// to now so the schedule continues.
func (s *Scheduler) ReportMissed(ctx context.Context) error {
	pols, err := s.policies(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	var errs []error
	for _, p := range pols {
		sched, err := backupjob.Parse(p.Schedule, p.TimeZone)
		if err != nil || p.LastScheduledAt == nil {
			continue
		}
		missed, last := 0, time.Time{}
		for next := sched.Next(*p.LastScheduledAt); !next.After(now) && missed < 100000; next = sched.Next(next) {
			missed++
			last = next
		}
		if missed == 0 {
			continue
		}
		msg := fmt.Sprintf("%d scheduled backup run(s) were missed while berth was down (the last at %s); the schedule continues",
			missed, last.UTC().Format(time.RFC3339))
		var ev *sdk.Event
		// The missed record, the policy's mark and the notification commit
		// together.
		_, err = s.backups.RecordMissed(ctx, service.System, service.MissedRuns{Policy: p, Last: last, Now: now, Message: msg,
			Notify: func(ctx context.Context, tx pgx.Tx, b store.Backup) {
				if s.events == nil {
					return
				}
				e := missedEvent(ctx, s.store, p, b, missed, last, msg, now)
				ev = &e
				if te, ok := s.events.(TxEmitter); ok {
					te.EmitTx(ctx, tx, *ev)
					ev = nil
				}
			}})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.log.Warn("backup runs missed", "policy", p.ID, "missed", missed)
		if ev != nil {
			s.events.Emit(context.WithoutCancel(ctx), *ev)
		}
	}
	return errors.Join(errs...)
}

// EnqueueDue enqueues every run whose time has come since each policy's
// last scheduled one, recording the mark after each.
func (s *Scheduler) EnqueueDue(ctx context.Context) error {
	pols, err := s.policies(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	var errs []error
	for _, p := range pols {
		sched, err := backupjob.Parse(p.Schedule, p.TimeZone)
		if err != nil {
			continue
		}
		from := p.CreatedAt
		if p.LastScheduledAt != nil {
			from = *p.LastScheduledAt
		}
		for next := sched.Next(from); !next.After(now); next = sched.Next(next) {
			// The run's record, its job and the policy's mark commit
			// together: a crash never loses or doubles a run.
			err := s.backups.RunScheduled(ctx, service.System, p, next)
			if err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	return errors.Join(errs...)
}
