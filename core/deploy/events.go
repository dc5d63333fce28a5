package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-dev/berth/core/eventscope"
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

// emitFinishedTx queues the events of a deployment finished in tx (see
// finishedEvents), when the emitter can join the transaction.
func (p *Pipeline) emitFinishedTx(ctx context.Context, tx *store.Tx, id uuid.UUID) {
	te, ok := p.events.(TxEmitter)
	if !ok {
		return
	}
	for _, ev := range p.finishedEvents(ctx, tx.Store, id) {
		te.EmitTx(ctx, tx.Pgx(), ev)
	}
}

// emitAfterCommit emits the finished events of a deployment through an
// emitter that cannot join transactions (after the final status committed).
func (p *Pipeline) emitAfterCommit(ctx context.Context, id uuid.UUID) {
	if p.events == nil {
		return
	}
	if _, ok := p.events.(TxEmitter); ok {
		return // emitted in the transaction
	}
	ctx = context.WithoutCancel(ctx)
	for _, ev := range p.finishedEvents(ctx, p.store, id) {
		p.events.Emit(ctx, ev)
	}
}

// startDeployment marks a queued deployment running and, in the same
// transaction, emits deploy.started. It reports whether it started.
func (p *Pipeline) startDeployment(ctx context.Context, id uuid.UUID) (bool, error) {
	var started bool
	err := p.store.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		if started, err = tx.StartDeployment(ctx, id); err != nil || !started {
			return err
		}
		if te, ok := p.events.(TxEmitter); ok {
			if ev, ok := p.startedEvent(ctx, tx.Store, id); ok {
				te.EmitTx(ctx, tx.Pgx(), ev)
			}
		}
		return nil
	})
	if err != nil || !started {
		return false, err
	}
	if _, ok := p.events.(TxEmitter); !ok && p.events != nil {
		if ev, ok := p.startedEvent(context.WithoutCancel(ctx), p.store, id); ok {
			p.events.Emit(context.WithoutCancel(ctx), ev)
		}
	}
	return true, nil
}

// startedEvent describes a deployment that started running.
func (p *Pipeline) startedEvent(ctx context.Context, st *store.Store, id uuid.UUID) (sdk.Event, bool) {
	d, err := st.GetDeployment(ctx, id)
	if err != nil {
		return sdk.Event{}, false
	}
	ev := startedEvent(d)
	p.scope(ctx, st, d, &ev)
	return ev, true
}

// finishedEvents describes a finished deployment (see deploymentEvents),
// scoped to its application, with a link to its log.
func (p *Pipeline) finishedEvents(ctx context.Context, st *store.Store, id uuid.UUID) []sdk.Event {
	d, err := st.GetDeployment(ctx, id)
	if err != nil || (d.Status != store.DeploymentSucceeded && d.Status != store.DeploymentFailed) {
		return nil
	}
	var from string
	if d.Kind == store.KindRollback && d.Status == store.DeploymentSucceeded {
		from = servedBefore(ctx, st, d)
	}
	evs := deploymentEvents(d, from)
	for i := range evs {
		p.scope(ctx, st, d, &evs[i])
	}
	return evs
}

// scope fills in the event's organization, project, environment, app and
// dashboard link, and prefixes the title with the app's name.
func (p *Pipeline) scope(ctx context.Context, st *store.Store, d store.Deployment, ev *sdk.Event) {
	_ = eventscope.ApplicationID(ctx, st, d.ApplicationID, ev)
	if ev.OrganizationID == "" {
		ev.OrganizationID = d.OrganizationID.String()
	}
	ev.URL = p.deploymentURL(d)
	if ev.App != "" {
		ev.Title = fmt.Sprintf("%s: %s", ev.App, ev.Title)
	}
}

// servedBefore is the id of the release that served before rollback d: the
// newest successful deployment of its application older than d.
func servedBefore(ctx context.Context, st *store.Store, d store.Deployment) string {
	rels, err := st.Releases(ctx, d.ApplicationID, 10)
	if err != nil {
		return ""
	}
	for _, r := range rels {
		if r.ID.String() < d.ID.String() && r.ID != d.ID {
			return r.ID.String()
		}
	}
	return ""
}

// startedEvent describes a deployment that started running as
// deploy.started.
func startedEvent(d store.Deployment) sdk.Event {
	ev := sdk.Event{Type: sdk.EventDeployStarted, Severity: sdk.SeverityInfo, Title: "deployment started",
		Deploy: &sdk.DeployDetails{DeploymentID: d.ID.String(), Commit: d.CommitSHA, Branch: d.GitRef, Image: d.Image,
			Trigger: d.Trigger, Builder: d.Builder, RollbackTo: rollbackTarget(d)},
		Fields: map[string]string{"deployment": d.ID.String(), "trigger": d.Trigger}}
	ev.Message = fmt.Sprintf("Deployment %s (%s) started", short(d.ID.String()), d.Trigger)
	if d.CommitSHA != "" {
		ev.Message += " at " + short(d.CommitSHA)
		ev.Fields["commit"] = d.CommitSHA
	}
	ev.Message += "."
	return ev
}

// rollbackTarget is the deployment a rollback releases again, or "".
func rollbackTarget(d store.Deployment) string {
	if d.RollbackOf == nil {
		return ""
	}
	return d.RollbackOf.String()
}

// deploymentEvents describes a finished deployment: always deploy.succeeded
// or deploy.failed (so a channel subscribed to those hears of every
// outcome), followed by build.failed when the build step failed, or by
// deploy.rolled_back when a rollback succeeded (from is the release that
// served before it, "" when unknown). Cancelled deployments have none: a
// user asked for it.
func deploymentEvents(d store.Deployment, from string) []sdk.Event {
	ev := deploymentEvent(d)
	evs := []sdk.Event{ev}
	switch {
	case d.Status == store.DeploymentFailed && ev.Deploy.FailedStep == "build":
		b := ev
		b.Type, b.Title = sdk.EventBuildFailed, "build failed"
		b.Message = fmt.Sprintf("The build of deployment %s (%s) failed", short(d.ID.String()), d.Trigger)
		if d.Builder != "" {
			b.Message += " with " + d.Builder
		}
		b.Message += ": " + d.Error
		b.Deploy = cloneDetails(ev.Deploy)
		evs = append(evs, b)
	case d.Status == store.DeploymentSucceeded && d.Kind == store.KindRollback:
		r := ev
		r.Type, r.Severity, r.Title = sdk.EventRollback, sdk.SeverityWarning, "rolled back"
		r.Deploy = cloneDetails(ev.Deploy)
		r.Deploy.RollbackFrom = from
		r.Message = fmt.Sprintf("Rolled back to deployment %s", short(r.Deploy.RollbackTo))
		if from != "" {
			r.Message += " from " + short(from)
		}
		r.Message += "."
		evs = append(evs, r)
	}
	return evs
}

// cloneDetails copies d, so that events sharing details stay independent.
func cloneDetails(d *sdk.DeployDetails) *sdk.DeployDetails {
	c := *d
	return &c
}

// failedStep is the name of the step recorded as failed, or "".
func failedStep(d store.Deployment) string {
	for i := len(d.Steps) - 1; i >= 0; i-- {
		if d.Steps[i].Status == store.DeploymentFailed {
			return d.Steps[i].Name
		}
	}
	return ""
}

// deploymentEvent describes a finished deployment as a notification.
func deploymentEvent(d store.Deployment) sdk.Event {
	details := &sdk.DeployDetails{DeploymentID: d.ID.String(), Commit: d.CommitSHA, Branch: d.GitRef,
		Image: d.Image, Error: d.Error, Trigger: d.Trigger, Builder: d.Builder, RollbackTo: rollbackTarget(d)}
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
		details.FailedStep = failedStep(d)
		ev.Type, ev.Severity, ev.Title = sdk.EventDeployFailed, sdk.SeverityError, "deployment failed"
		ev.Message = fmt.Sprintf("Deployment %s (%s) failed: %s", short(d.ID.String()), d.Trigger, d.Error)
	}
	return ev
}
