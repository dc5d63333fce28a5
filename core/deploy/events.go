package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
)

// EventEmitter receives the pipeline's notification events.
type EventEmitter interface {
	Emit(ctx context.Context, ev sdk.Event)
}

// emitFinished emits deploy.succeeded or deploy.failed for a finished
// deployment. Cancelled deployments emit nothing: a user asked for it.
func (p *Pipeline) emitFinished(ctx context.Context, id uuid.UUID) {
	if p.events == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	d, err := p.store.GetDeployment(ctx, id)
	if err != nil || (d.Status != store.DeploymentSucceeded && d.Status != store.DeploymentFailed) {
		return
	}
	ev := deploymentEvent(d)
	if a, err := p.store.GetApplication(ctx, d.ApplicationID); err == nil {
		ev.App = a.Name
		if pr, err := p.store.GetProject(ctx, a.ProjectID); err == nil {
			ev.Project = pr.Name
		}
	}
	if ev.App != "" {
		ev.Title = fmt.Sprintf("%s: %s", ev.App, ev.Title)
	}
	p.events.Emit(ctx, ev)
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
