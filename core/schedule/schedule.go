// Package schedule turns backup policies' cron schedules into durable
// backup jobs: each due run is recorded once per (policy, scheduled time)
// and enqueued on the backup queue; runs of one policy never overlap; a
// failed run is retried per the policy; runs missed while berth was down
// are recorded and reported at start-up. A run's record, its job and the
// policy's mark are written in one transaction.
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
	"github.com/robfig/cron/v3"

	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse parses a policy's cron expression (five fields, or six with
// leading seconds, or a descriptor such as @daily) in time zone tz (IANA
// name; empty is UTC).
func Parse(expr, tz string) (cron.Schedule, error) {
	if tz == "" {
		tz = "UTC"
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return nil, fmt.Errorf("unknown time zone %q", tz)
	}
	s, err := parser.Parse("CRON_TZ=" + tz + " " + expr)
	if err != nil {
		return nil, fmt.Errorf("invalid cron expression %q: %w", expr, err)
	}
	return s, nil
}

// Args are the durable arguments of a backup run.
type Args struct {
	BackupID uuid.UUID `json:"backup_id"`
	PolicyID uuid.UUID `json:"policy_id,omitempty"`
}

// Kind is the stable job kind name.
func (Args) Kind() string { return "berth.backup" }

// InsertOpts puts backups on the backup queue, unique per backup record
// (one record per policy and scheduled time).
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.Backup, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

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

// Scheduler enqueues due runs of enabled policies.
type Scheduler struct {
	store  *store.Store
	queue  Enqueuer
	events EventEmitter
	log    *slog.Logger
	// Tick is how often policies are checked (default 1s).
	Tick time.Duration
	now  func() time.Time
}

// New returns a Scheduler; events and log may be nil.
func New(st *store.Store, q Enqueuer, events EventEmitter, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{store: st, queue: q, events: events, log: log, Tick: time.Second, now: time.Now}
}

// Enqueue records a backup run and enqueues it with the policy's retries,
// in one transaction: the record and its job exist together or not at all.
// A scheduled run (at set) is recorded and enqueued once however often
// this is called.
func Enqueue(ctx context.Context, st *store.Store, q Enqueuer, nb store.NewBackup, retries int) (store.Backup, error) {
	var b store.Backup
	err := st.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		b, err = EnqueueTx(ctx, tx, q, nb, retries)
		return err
	})
	return b, err
}

// EnqueueTx records a backup run and inserts its job in tx (see Enqueue).
func EnqueueTx(ctx context.Context, tx *store.Tx, q Enqueuer, nb store.NewBackup, retries int) (store.Backup, error) {
	b, created, err := tx.CreateBackup(ctx, nb)
	if err != nil || !created {
		return b, err // an existing scheduled run was enqueued with its record
	}
	args := Args{BackupID: b.ID}
	if nb.PolicyID != nil {
		args.PolicyID = *nb.PolicyID
	}
	opts := args.InsertOpts()
	opts.MaxAttempts = retries + 1
	job, _, err := q.InsertTx(ctx, tx.Pgx(), args, &opts)
	if err != nil {
		return b, fmt.Errorf("schedule: queue backup %s: %w", b.ID, err)
	}
	return b, tx.SetBackupJob(ctx, b.ID, job)
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
// missed time), emits backup.failed saying so, and moves the policy's mark
// to now so the schedule continues.
func (s *Scheduler) ReportMissed(ctx context.Context) error {
	pols, err := s.policies(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	var errs []error
	for _, p := range pols {
		sched, err := Parse(p.Schedule, p.TimeZone)
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
		at := last
		var ev *sdk.Event
		// The missed record, the policy's mark and the notification commit
		// together.
		err = s.store.WithTx(ctx, func(tx *store.Tx) error {
			b, created, err := tx.CreateBackup(ctx, store.NewBackup{PolicyID: &p.ID, DatabaseID: p.DatabaseID, ApplicationID: p.ApplicationID,
				DestinationID: p.DestinationID, Kind: kindOf(p), Status: store.BackupMissed, Trigger: store.TriggerSchedule, Error: msg, ScheduledAt: &at})
			if err != nil {
				return err
			}
			if err := tx.AdvancePolicySchedule(ctx, p.ID, now); err != nil {
				return err
			}
			if !created || s.events == nil {
				return nil
			}
			ev = &sdk.Event{ID: uuid.NewString(), Type: sdk.EventBackupFailed, Time: now,
				Severity: sdk.SeverityWarning, Title: "Scheduled backup missed", Message: msg,
				Backup: &sdk.BackupDetails{BackupID: b.ID.String(), Error: msg}}
			if te, ok := s.events.(TxEmitter); ok {
				te.EmitTx(ctx, tx.Pgx(), *ev)
				ev = nil
			}
			return nil
		})
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
		sched, err := Parse(p.Schedule, p.TimeZone)
		if err != nil {
			continue
		}
		from := p.CreatedAt
		if p.LastScheduledAt != nil {
			from = *p.LastScheduledAt
		}
		for next := sched.Next(from); !next.After(now); next = sched.Next(next) {
			at := next
			// The run's record, its job and the policy's mark commit
			// together: a crash never loses or doubles a run.
			err := s.store.WithTx(ctx, func(tx *store.Tx) error {
				if _, err := EnqueueTx(ctx, tx, s.queue, store.NewBackup{PolicyID: &p.ID, DatabaseID: p.DatabaseID,
					ApplicationID: p.ApplicationID, DestinationID: p.DestinationID, Kind: kindOf(p), Status: store.BackupQueued,
					Trigger: store.TriggerSchedule, ScheduledAt: &at}, p.Retries); err != nil {
					return err
				}
				return tx.AdvancePolicySchedule(ctx, p.ID, at)
			})
			if err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	return errors.Join(errs...)
}

func kindOf(p store.BackupPolicy) string {
	if p.ApplicationID != nil {
		return "volume"
	}
	return "database"
}
