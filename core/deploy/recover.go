package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// Recover settles what a previous berth process left unfinished, before
// the queue starts:
//
//   - a deployment left running before its release is failed with the
//     reason (the previous version keeps serving) and its job cancelled;
//   - a deployment left in its release (or route) step is settled from
//     what Swarm runs once Swarm's own rollout ends: the new deployment's
//     spec running is recorded as succeeded (with a note in its log), a
//     rolled-back or previous spec as failed. This runs in the background,
//     the deployment stays running meanwhile (so the application's later
//     deployments wait for it);
//   - candidate services of releases (core/release) are settled by
//     recoverCandidates;
//   - a queued deployment whose job will never run (gone, finished, or left
//     running by the dead process) is failed with the reason, so it cannot
//     block the application's later deployments.
func (p *Pipeline) Recover(ctx context.Context) error {
	ds, err := p.store.InterruptedDeployments(ctx)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.JobID != nil && p.queue != nil {
			_ = p.queue.Cancel(ctx, *d.JobID)
		}
		if d.Step == "release" || d.Step == "route" {
			p.settling.Add(1)
			go func(d store.Deployment) {
				defer p.settling.Done()
				p.settleRelease(context.WithoutCancel(ctx), d)
			}(d)
			continue
		}
		msg := "berth stopped during the deployment"
		if d.Step != "" {
			msg += " (in the " + d.Step + " step)"
		}
		msg += "; the previous version keeps serving. Deploy again to retry."
		if err := p.finish(ctx, d.ID, store.DeploymentResult{Status: store.DeploymentFailed, Error: msg}); err != nil {
			return err
		}
		p.log.Warn("marked interrupted deployment failed", "deployment", d.ID, "step", d.Step)
	}
	if _, err := p.settleQueued(ctx, nil, true); err != nil {
		return err
	}
	return p.recoverCandidates(ctx)
}

// WaitRecovered waits until the background settlement of releases started
// by Recover is done, or ctx ends.
func (p *Pipeline) WaitRecovered(ctx context.Context) error {
	done := make(chan struct{})
	go func() { p.settling.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// orphanReason explains a queued deployment settled because its job will
// never run.
const orphanReason = "berth lost this deployment's queue job before it started (%s); nothing was changed. Deploy again to retry."

// settleQueued fails the queued deployments (of one application when app
// is set) whose job will never run: missing, finalized, or, at start-up
// (startup set), recorded as running by a process that died. It returns
// how many it settled.
func (p *Pipeline) settleQueued(ctx context.Context, app *uuid.UUID, startup bool) (int, error) {
	if p.queue == nil {
		return 0, nil
	}
	ds, err := p.store.QueuedDeployments(ctx, app)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range ds {
		why := "it has no job"
		if d.JobID != nil {
			state, err := p.queue.State(ctx, *d.JobID)
			if err != nil {
				return n, err
			}
			switch {
			case state.Waiting():
				continue
			case state.Running() && !startup:
				continue // being worked right now
			case state.Running():
				why = "berth stopped while it was being picked up"
			case state == queue.JobGone:
				why = "its job no longer exists"
			default:
				why = "its job ended as " + string(state)
			}
		}
		ok, err := p.failQueued(ctx, d.ID, fmt.Sprintf(orphanReason, why))
		if err != nil {
			return n, err
		}
		if ok {
			n++
			if d.JobID != nil {
				_ = p.queue.Cancel(ctx, *d.JobID)
			}
			p.log.Warn("settled a queued deployment without a job", "deployment", d.ID, "reason", why)
		}
	}
	return n, nil
}

// failQueued fails a still-queued deployment and emits deploy.failed in the
// same transaction.
func (p *Pipeline) failQueued(ctx context.Context, id uuid.UUID, reason string) (bool, error) {
	var ok bool
	err := p.store.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		if ok, err = tx.FailQueuedDeployment(ctx, id, reason); err != nil || !ok {
			return err
		}
		p.emitFinishedTx(ctx, tx, id)
		return nil
	})
	if err == nil && ok {
		p.emitAfterCommit(ctx, id)
	}
	return ok, err
}

// settleWait bounds how long start-up reconciliation waits for Swarm to
// finish a rollout it was left doing.
func (p *Pipeline) settleWait() time.Duration { return p.cfg.ReleaseTimeout }

// settleRelease records the outcome of a deployment killed in its release
// step from what Swarm runs once its rollout (or rollback) has ended.
func (p *Pipeline) settleRelease(ctx context.Context, d store.Deployment) {
	res := p.releaseOutcome(ctx, d)
	w := p.hub.Writer(ctx, d.ID, nil)
	w.Info("berth restarted during the " + d.Step + " step: " + res.note)
	w.Close()
	if err := p.finish(ctx, d.ID, res.DeploymentResult); err != nil {
		p.log.Error("settling an interrupted release failed", "deployment", d.ID, "err", err)
		return
	}
	p.log.Warn("settled an interrupted release from Swarm", "deployment", d.ID, "status", res.Status, "note", res.note)
	if res.Status == store.DeploymentSucceeded && p.routes != nil {
		if err := p.routes.Sync(ctx); err != nil {
			p.log.Warn("publishing routes after a settled release failed", "err", err)
		}
	}
}

type releaseOutcome struct {
	store.DeploymentResult
	note string
}

// releaseOutcome waits for Swarm's rollout of d's application to end, then
// tells whether the new deployment's spec runs.
func (p *Pipeline) releaseOutcome(ctx context.Context, d store.Deployment) releaseOutcome {
	failed := func(note string) releaseOutcome {
		return releaseOutcome{DeploymentResult: store.DeploymentResult{Status: store.DeploymentFailed,
			Error: "berth stopped during the release; " + note + ". Deploy again to retry."}, note: note}
	}
	a, err := p.store.GetApplication(ctx, d.ApplicationID)
	if err != nil {
		return failed("the application could not be read: " + err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, p.settleWait())
	defer cancel()
	var st swarm.Status
	for {
		st, err = p.rollout.Inspect(ctx, a.ServiceName)
		if errors.Is(err, swarm.ErrNotFound) {
			return failed("the service was never created")
		}
		if err == nil && !rolloutInProgress(st.UpdateState) && (st.DeploymentID != d.ID.String() || st.Running >= st.Desired) {
			break
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return failed("Swarm could not be inspected: " + err.Error())
			}
			return failed(fmt.Sprintf("Swarm's rollout did not end in %s (state %q)", p.settleWait(), st.UpdateState))
		case <-time.After(500 * time.Millisecond):
		}
	}
	switch {
	case st.UpdateState == "paused":
		return failed("Swarm paused the rollout (" + st.UpdateMessage + ")")
	case st.DeploymentID == d.ID.String() && !strings.HasPrefix(st.UpdateState, "rollback"):
		note := fmt.Sprintf("Swarm finished the rollout: the new version runs (%s, %d/%d replicas)", st.Image, st.Running, st.Desired)
		return releaseOutcome{DeploymentResult: store.DeploymentResult{Status: store.DeploymentSucceeded, Image: st.Image}, note: note}
	case strings.HasPrefix(st.UpdateState, "rollback"):
		msg := "Swarm rolled the service back to the previous version"
		if st.UpdateMessage != "" {
			msg += " (" + st.UpdateMessage + ")"
		}
		return failed(msg)
	default:
		return failed("the previous version keeps serving (the new one was never applied)")
	}
}

// rolloutInProgress reports whether Swarm is still updating a service.
func rolloutInProgress(state string) bool {
	return state == "updating" || state == "rollback_started"
}

// finish records a deployment's outcome and emits its notification in the
// same transaction.
func (p *Pipeline) finish(ctx context.Context, id uuid.UUID, res store.DeploymentResult) error {
	err := p.store.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.FinishDeployment(ctx, id, res); err != nil {
			return err
		}
		p.emitFinishedTx(ctx, tx, id)
		return nil
	})
	if err != nil {
		return err
	}
	p.emitAfterCommit(ctx, id)
	return nil
}
