package deploy

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/store"
)

// JobWriter inserts and cancels jobs in a transaction (queue.Jobs, an
// insert-only client, or queue.Queue).
type JobWriter interface {
	// InsertTx enqueues a job in tx (it exists once tx commits).
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, bool, error)
	// CancelTx cancels a job in tx: a queued one never runs, a running
	// one has its context cancelled once tx commits, on whichever
	// process works it.
	CancelTx(ctx context.Context, tx pgx.Tx, id int64) error
}

// Enqueuer is the enqueue side of deployments: it records deployments,
// rollbacks and cancellations together with their jobs, in one
// transaction. It needs only the store and a job writer; the Pipeline
// (the worker side) runs the jobs.
//
// Each operation has a Tx form for a caller that writes other records in
// the same transaction (a preview's application, a service layer's own
// checks), and a convenience form that opens the transaction itself.
type Enqueuer struct {
	store *store.Store
	jobs  JobWriter
	log   *slog.Logger
}

// NewEnqueuer returns the enqueue side of deployments; log may be nil.
func NewEnqueuer(st *store.Store, jobs JobWriter, log *slog.Logger) *Enqueuer {
	if log == nil {
		log = slog.Default()
	}
	return &Enqueuer{store: st, jobs: jobs, log: log}
}

// Deploy queues a deployment of a: the deployment record and its job are
// written in one transaction, so both exist or neither does.
func (e *Enqueuer) Deploy(ctx context.Context, a store.Application, in store.NewDeployment) (store.Deployment, error) {
	return e.inTx(ctx, func(tx *store.Tx) (store.Deployment, error) { return e.DeployTx(ctx, tx, a, in) })
}

// DeployTx records a queued deployment of a and inserts its job in tx; the
// caller commits (with other records, e.g. a preview's application) or
// rolls everything back.
func (e *Enqueuer) DeployTx(ctx context.Context, tx *store.Tx, a store.Application, in store.NewDeployment) (store.Deployment, error) {
	d, err := tx.CreateDeployment(ctx, a.ID, in)
	if err != nil {
		return d, err
	}
	job, _, err := e.jobs.InsertTx(ctx, tx.Pgx(), Args{DeploymentID: d.ID}, nil)
	if err != nil {
		return d, fmt.Errorf("deploy: queue deployment %s: %w", d.ID, err)
	}
	if err := tx.SetDeploymentJob(ctx, d.ID, job); err != nil {
		return d, err
	}
	d.JobID = &job
	return d, nil
}

// Rollback queues a deployment that releases target's image again (no
// build), in one transaction.
func (e *Enqueuer) Rollback(ctx context.Context, a store.Application, target store.Deployment, by *uuid.UUID) (store.Deployment, error) {
	return e.inTx(ctx, func(tx *store.Tx) (store.Deployment, error) { return e.RollbackTx(ctx, tx, a, target, by) })
}

// RollbackTx records a rollback to target and inserts its job in tx.
func (e *Enqueuer) RollbackTx(ctx context.Context, tx *store.Tx, a store.Application, target store.Deployment, by *uuid.UUID) (store.Deployment, error) {
	return e.DeployTx(ctx, tx, a, rollbackOf(target, by))
}

// rollbackOf describes a deployment that releases target's image again.
func rollbackOf(target store.Deployment, by *uuid.UUID) store.NewDeployment {
	return store.NewDeployment{Kind: store.KindRollback, Trigger: "rollback", Image: target.Image,
		CommitSHA: target.CommitSHA, RollbackOf: &target.ID, CreatedBy: by}
}

// Cancel stops a queued or running deployment; the application keeps its
// previous version.
func (e *Enqueuer) Cancel(ctx context.Context, d store.Deployment) error {
	return e.store.WithTx(ctx, func(tx *store.Tx) error { return e.CancelTx(ctx, tx, d) })
}

// CancelTx records the cancellation of d and cancels its job in tx. A
// queued deployment ends as cancelled at once and its job never runs; a
// running one is stopped once tx commits (River cancels its job's
// context on whichever process works it; the pipeline rolls the release
// back and records the deployment as cancelled). A finished deployment is
// a store.ConflictError.
func (e *Enqueuer) CancelTx(ctx context.Context, tx *store.Tx, d store.Deployment) error {
	queued, err := tx.RequestCancel(ctx, d.ID)
	if err != nil {
		return err
	}
	if d.JobID == nil {
		return nil
	}
	if !queued {
		// Running: the job's cancellation is what stops it.
		if err := e.jobs.CancelTx(ctx, tx.Pgx(), *d.JobID); err != nil {
			return fmt.Errorf("deploy: cancel deployment %s: %w", d.ID, err)
		}
		return nil
	}
	// Queued: the deployment is already cancelled; a job that still runs
	// finds it finished and does nothing, so a failed job cancellation
	// (under a savepoint, never aborting tx) is only logged.
	err = pgx.BeginFunc(ctx, tx.Pgx(), func(sp pgx.Tx) error { return e.jobs.CancelTx(ctx, sp, *d.JobID) })
	if err != nil {
		e.log.Warn("cancelling queued job failed (it will see the cancellation when it starts)", "deployment", d.ID, "err", err)
	}
	return nil
}

// CanaryOp queues the promotion or abortion (op: OpPromote, OpAbort) of
// canary deployment d, asked for by by (a user's email, or "auto").
func (e *Enqueuer) CanaryOp(ctx context.Context, d store.Deployment, op, by string) error {
	if op != OpPromote && op != OpAbort {
		return fmt.Errorf("deploy: unknown canary operation %q", op)
	}
	return e.store.WithTx(ctx, func(tx *store.Tx) error {
		_, _, err := e.jobs.InsertTx(ctx, tx.Pgx(), Args{DeploymentID: d.ID, Op: op, By: by}, nil)
		if err != nil {
			return fmt.Errorf("deploy: queue canary %s of %s: %w", op, d.ID, err)
		}
		return nil
	})
}

// inTx runs op in a transaction and returns the deployment as stored once
// it committed.
func (e *Enqueuer) inTx(ctx context.Context, op func(tx *store.Tx) (store.Deployment, error)) (store.Deployment, error) {
	var id uuid.UUID
	err := e.store.WithTx(ctx, func(tx *store.Tx) error {
		d, err := op(tx)
		id = d.ID
		return err
	})
	if err != nil {
		return store.Deployment{}, err
	}
	return e.store.GetDeployment(ctx, id)
}
