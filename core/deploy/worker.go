package deploy

import (
	"context"
	"errors"
	"time"

	"github.com/berth-dev/berth/core/queue"
	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// Args are the durable job arguments of a deployment.
type Args struct {
	DeploymentID uuid.UUID `json:"deployment_id"`
	// Op, when set, promotes or aborts the deployment's canary (OpPromote,
	// OpAbort); By says who asked.
	Op string `json:"op,omitempty"`
	By string `json:"by,omitempty"`
}

// Kind is the stable job kind name.
func (Args) Kind() string { return "berth.deploy" }

// InsertOpts puts deployments on the deploy queue, never retried
// automatically (a user redeploys).
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.Deploy, MaxAttempts: 1}
}

// Worker runs deployment jobs.
type Worker struct {
	river.WorkerDefaults[Args]
	Pipeline *Pipeline
	// JobTimeout bounds a whole deployment.
	JobTimeout time.Duration
}

// Work runs the deployment; it snoozes while an earlier deployment of the
// same application is active.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	if job.Args.Op != "" {
		return w.Pipeline.canaryOp(ctx, job.Args.DeploymentID, job.Args.Op, job.Args.By)
	}
	err := w.Pipeline.Run(ctx, job.Args.DeploymentID)
	if errors.Is(err, errBusy) {
		return river.JobSnooze(time.Second)
	}
	return err
}

// Timeout bounds one deployment job.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration {
	if w.JobTimeout > 0 {
		return w.JobTimeout
	}
	return time.Hour
}
