// Package queue runs berth's durable background jobs (deployments, backups,
// notifications) on PostgreSQL with River, so a job survives restarts and
// never runs twice at once. InsertTx enqueues a job in the transaction that
// writes the record it acts on, so the two commit together or not at all.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Queue names.
const (
	// Deploy runs deployments; its worker count bounds concurrent deployments.
	Deploy = "deploy"
	// Notify delivers events to notifier plugins.
	Notify = "notify"
	// Backup runs backups; its worker count bounds concurrent backups.
	Backup = "backup"
	// Restore runs restores of backups into databases and volumes.
	Restore = "restore"
)

// Options configures the queue.
type Options struct {
	// DeployWorkers is how many deployments run at once on this server.
	DeployWorkers int
	// BackupWorkers is how many backups run at once (default 2).
	BackupWorkers int
	// JobTimeout bounds any one job; RescueAfter is when a job left running
	// by a dead process is taken up again (must exceed JobTimeout).
	JobTimeout time.Duration
	Logger     *slog.Logger
}

// Jobs inserts, inspects and cancels jobs without working any: an
// insert-only River client. The enqueue side of berth (deployments,
// notifications, backups, restores) holds one, so it exists before the
// workers and the Queue that runs them.
type Jobs struct {
	client *river.Client[pgx.Tx]
}

// NewJobs returns an insert-only client on pool; it never works jobs, so
// it needs no workers and no Start.
func NewJobs(pool *pgxpool.Pool) (*Jobs, error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("queue: insert-only client: %w", err)
	}
	return &Jobs{client: client}, nil
}

// Queue is the River client that works jobs; it inserts, inspects and
// cancels them too (Jobs).
type Queue struct {
	Jobs
}

// Migrate creates or upgrades River's tables.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("queue: migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("queue: migrate: %w", err)
	}
	return nil
}

// New builds the queue with the given workers; call Start to work jobs.
func New(pool *pgxpool.Pool, workers *river.Workers, o Options) (*Queue, error) {
	if o.DeployWorkers < 1 {
		o.DeployWorkers = 2
	}
	if o.BackupWorkers < 1 {
		o.BackupWorkers = 2
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: 2},
			Deploy:             {MaxWorkers: o.DeployWorkers},
			Notify:             {MaxWorkers: 2},
			Backup:             {MaxWorkers: o.BackupWorkers},
			Restore:            {MaxWorkers: 2},
		},
		Workers:              workers,
		JobTimeout:           o.JobTimeout,
		RescueStuckJobsAfter: o.JobTimeout + 5*time.Minute,
		FetchCooldown:        50 * time.Millisecond,
		FetchPollInterval:    500 * time.Millisecond,
		Logger:               o.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return &Queue{Jobs{client: client}}, nil
}

// Start begins working jobs until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("queue: start: %w", err)
	}
	return nil
}

// Stop waits for running jobs to finish, up to ctx's deadline, then cancels them.
func (q *Queue) Stop(ctx context.Context) error {
	if err := q.client.StopAndCancel(ctx); err != nil {
		return fmt.Errorf("queue: stop: %w", err)
	}
	return nil
}

// Insert enqueues a job and returns its id.
func (q *Jobs) Insert(ctx context.Context, args river.JobArgs) (int64, error) {
	res, err := q.client.Insert(ctx, args, nil)
	if err != nil {
		return 0, fmt.Errorf("queue: insert %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// InsertWith enqueues a job with options overriding the args' own
// (attempts, uniqueness); it returns the job's id and whether an equal
// unique job already existed.
func (q *Jobs) InsertWith(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (int64, bool, error) {
	res, err := q.client.Insert(ctx, args, opts)
	if err != nil {
		return 0, false, fmt.Errorf("queue: insert %s: %w", args.Kind(), err)
	}
	return res.Job.ID, res.UniqueSkippedAsDuplicate, nil
}

// InsertTx enqueues a job in tx: the job exists once tx commits and never
// if it rolls back, so a record and the job acting on it are created
// together or not at all. opts may be nil (the args' own options). It
// returns the job's id and whether an equal unique job already existed.
func (q *Jobs) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, bool, error) {
	res, err := q.client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return 0, false, fmt.Errorf("queue: insert %s: %w", args.Kind(), err)
	}
	return res.Job.ID, res.UniqueSkippedAsDuplicate, nil
}

// JobState is the state of a job as River records it; JobGone means there
// is no such job (it was deleted, or never committed).
type JobState string

// JobGone is the state of a job that does not exist.
const JobGone JobState = ""

// Waiting reports whether a job in this state will still run on its own
// (available, scheduled, retryable or pending).
func (s JobState) Waiting() bool {
	switch rivertype.JobState(s) {
	case rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable, rivertype.JobStatePending:
		return true
	}
	return false
}

// Running reports whether River records the job as being worked. At
// start-up, before this process works any job, such a job was left by a
// process that died.
func (s JobState) Running() bool { return rivertype.JobState(s) == rivertype.JobStateRunning }

// State returns the state of job id (JobGone when it does not exist).
func (q *Jobs) State(ctx context.Context, id int64) (JobState, error) {
	job, err := q.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return JobGone, nil
	}
	if err != nil {
		return JobGone, fmt.Errorf("queue: job %d: %w", id, err)
	}
	return JobState(job.State), nil
}

// Cancel cancels a job: a queued one never runs; a running one has its
// context cancelled.
func (q *Jobs) Cancel(ctx context.Context, id int64) error {
	if _, err := q.client.JobCancel(ctx, id); err != nil {
		return fmt.Errorf("queue: cancel job %d: %w", id, err)
	}
	return nil
}

// CancelTx cancels a job in tx, so the cancellation commits with the
// record that asks for it: a queued job is cancelled outright; a running
// one is marked, and once tx commits the process working it (this one or
// another) has its context cancelled with river.ErrJobCancelledRemotely.
// A job that no longer exists is not an error.
func (q *Jobs) CancelTx(ctx context.Context, tx pgx.Tx, id int64) error {
	if _, err := q.client.JobCancelTx(ctx, tx, id); err != nil && !errors.Is(err, river.ErrNotFound) {
		return fmt.Errorf("queue: cancel job %d: %w", id, err)
	}
	return nil
}
