package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EventEmitter receives the pipeline's notification events.
type EventEmitter interface {
	Emit(ctx context.Context, ev sdk.Event)
}

// TxEmitter is an EventEmitter that can queue an event's deliveries in a
// transaction (notify.Dispatcher), so the notification of a finished
// deployment commits with its final status or not at all.
type TxEmitter interface {
	EventEmitter
	EmitTx(ctx context.Context, tx pgx.Tx, ev sdk.Event)
}

// emitFinishedTx queues deploy.succeeded or deploy.failed for a deployment
// finished in tx, when the emitter can join the transaction.
func (p *Pipeline) emitFinishedTx(ctx context.Context, tx *store.Tx, id uuid.UUID) {
	te, ok := p.events.(TxEmitter)
	if !ok {
		return
	}
	if ev, ok := finishedEvent(ctx, tx.Store, id); ok {
		te.EmitTx(ctx, tx.Pgx(), ev)
	}
}

// emitAfterCommit emits the finished event of a deployment through an
// emitter that cannot join transactions (after the final status committed).
func (p *Pipeline) emitAfterCommit(ctx context.Context, id uuid.UUID) {
	if p.events == nil {
		return
	}
	if _, ok := p.events.(TxEmitter); ok {
		return // emitted in the transaction
	}
	ctx = context.WithoutCancel(ctx)
	if ev, ok := finishedEvent(ctx, p.store, id); ok {
		p.events.Emit(ctx, ev)
	}
}

// finishedEvent describes a finished deployment as deploy.succeeded or
// deploy.failed. Cancelled deployments have none: a user asked for it.
func finishedEvent(ctx context.Context, st *store.Store, id uuid.UUID) (sdk.Event, bool) {
	d, err := st.GetDeployment(ctx, id)
	if err != nil || (d.Status != store.DeploymentSucceeded && d.Status != store.DeploymentFailed) {
		return sdk.Event{}, false
	}
	ev := deploymentEvent(d)
	if a, err := st.GetApplication(ctx, d.ApplicationID); err == nil {
		ev.App = a.Name
		if pr, err := st.GetProject(ctx, a.ProjectID); err == nil {
			ev.Project = pr.Name
		}
	}
	if ev.App != "" {
		ev.Title = fmt.Sprintf("%s: %s", ev.App, ev.Title)
	}
	return ev, true
}

// deploymentEvent describes a finished deployment as a notification.
func deploymentEvent(d store.Deployment) sdk.Event {
	details := &sdk.DeployDetails{DeploymentID: d.ID.String(), Commit: d.CommitSHA, Branch: d.GitRef,
		Image: d.Image, Error: d.Error, Trigger: d.Trigger}
	if d.StartedAt != nil && d.FinishedAt != nil {
		details.Duration = d.FinishedAt.Sub(*d.StartedAt).Round(time.Millisecond)
	}
	ev := sdk.Event{Type: sdk.EventDeploySucceeded, Severity: sdk.SeverityInfo, Title: "deployment succeeded",
		Deploy: details, Fields: map[string]string{"deployment": d.ID.String(), "trigger": d.Trigger}}
	ev.Message = fmt.Sprintf("Deployment %s (%s) succeeded", short(d.ID.String()), d.Trigger)
	if d.CommitSHA != "" {
		ev.Message += " at " + short(d.CommitSHA)
		ev.Fields["commit"] = d.CommitSHA
	}
	if details.Duration > 0 {
		ev.Message += " in " + details.Duration.String()
	}
	ev.Message += "."
	if d.Status == store.DeploymentFailed {
		ev.Type, ev.Severity, ev.Title = sdk.EventDeployFailed, sdk.SeverityError, "deployment failed"
		ev.Message = fmt.Sprintf("Deployment %s (%s) failed: %s", short(d.ID.String()), d.Trigger, d.Error)
	}
	return ev
}
