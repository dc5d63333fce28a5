package dashboard

import (
	"errors"
	"fmt"
	"github.com/berth-dev/berth/core/service"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

func deploymentURL(id uuid.UUID) string { return "/deployments/" + id.String() }

func (d *Dashboard) deploy(r *request) error {
	a := r.app
	in := service.DeployInput{GitRef: strings.TrimSpace(r.c.FormValue("git_ref"))}
	if err := in.Validate(a); err != nil {
		return d.renderApp(r, inputStatus(err), map[string]*form{"deploy": formWith(r, err, "git_ref")})
	}
	if r.c.FormValue("confirmed") != "yes" {
		what := "the latest " + a.GitRef
		if in.GitRef != "" {
			what = in.GitRef
		}
		if a.SourceType == "image" {
			what = a.Image
		}
		return r.confirm("Deploy "+a.Name+"?", fmt.Sprintf("berth builds and releases %s. The running version keeps serving until the new one is healthy.", what),
			"Deploy", appURL(a.ID), "git_ref")
	}
	dep, err := d.svc.Deployments.Deploy(r.c.UserContext(), r.p, a, in)
	if err != nil {
		return err
	}
	return r.seeOther(deploymentURL(dep.ID), "Deployment queued.")
}

func (d *Dashboard) cancelDeployment(r *request) error {
	dep := r.deployment
	if dep.Finished() {
		return r.seeOther(deploymentURL(dep.ID), "This deployment has already finished.")
	}
	if r.c.FormValue("confirmed") != "yes" {
		return r.confirm("Cancel this deployment?", "A queued deployment is dropped; a running one stops and the previous version keeps serving.",
			"Cancel deployment", deploymentURL(dep.ID))
	}
	_, err := d.svc.Deployments.Cancel(r.c.UserContext(), r.p, dep)
	if errors.Is(err, service.ErrFinished) {
		return r.seeOther(deploymentURL(dep.ID), "This deployment has already finished.")
	}
	if err != nil {
		return err
	}
	return r.seeOther(deploymentURL(dep.ID), "Cancellation requested.")
}

// canaryAction promotes or aborts a canary release (op "promote" or "abort").
func (d *Dashboard) canaryAction(op string) func(r *request) error {
	return func(r *request) error {
		dep := r.deployment
		if dep.Status != store.DeploymentCanary {
			return r.seeOther(deploymentURL(dep.ID), "This deployment is not a canary release.")
		}
		title, body, button := "Promote this canary?", "All the traffic goes to the new version; the previous one is retired.", "Promote"
		if op == "abort" {
			title, body, button = "Abort this canary?", "All the traffic goes back to the previous version; the canary is removed.", "Abort canary"
		}
		if r.c.FormValue("confirmed") != "yes" {
			return r.confirm(title, body, button, deploymentURL(dep.ID))
		}
		var err error
		if op == "abort" {
			_, err = d.svc.Deployments.Abort(r.c.UserContext(), r.p, dep)
		} else {
			_, err = d.svc.Deployments.Promote(r.c.UserContext(), r.p, dep)
		}
		if err != nil {
			return err
		}
		return r.seeOther(deploymentURL(dep.ID), "Canary "+op+" queued.")
	}
}

func (d *Dashboard) rollback(r *request) error {
	ctx := r.c.UserContext()
	target := r.deployment
	a, err := d.svc.Deployments.CheckRollback(ctx, r.p, target)
	if err != nil {
		return err
	}
	if r.c.FormValue("confirmed") != "yes" {
		return r.confirm("Roll back "+a.Name+"?", "berth releases the image of deployment "+shortID(target.ID)+" again, without building.",
			"Roll back", appURL(a.ID))
	}
	dep, err := d.svc.Deployments.Rollback(ctx, r.p, target)
	if err != nil {
		return err
	}
	return r.seeOther(deploymentURL(dep.ID), "Rollback queued.")
}

type deploymentData struct {
	Deployment store.Deployment
	App        store.Application
	Project    store.Project
	Steps      []stepRow
	Lines      []store.LogLine
	// After is the last log sequence number on the page.
	After int
	// Live is true when the server streams logs (else the page polls).
	Live     bool
	Duration string
	CanEdit  bool
	// Changes compares the release with the one it replaced (nil: none).
	Changes *releaseChanges
}

// stepRow is one step with its duration so far.
type stepRow struct {
	store.Step
	Duration string
}

// maxPageLog bounds the log lines rendered into the page; the script
// follows the rest.
const maxPageLog = 5000

func (d *Dashboard) deploymentPage(r *request) error {
	ctx := r.c.UserContext()
	dep := r.deployment
	a, err := d.store.GetApplication(ctx, dep.ApplicationID)
	if err != nil {
		return err
	}
	p, err := d.store.GetProject(ctx, a.ProjectID)
	if err != nil {
		return err
	}
	data := deploymentData{Deployment: dep, App: a, Project: p, Live: d.opts.Logs != nil, CanEdit: r.can(dep.OrganizationID, store.RoleMember)}
	now := time.Now()
	for _, s := range dep.Steps {
		row := stepRow{Step: s}
		if s.FinishedAt != nil {
			row.Duration = formatDuration(time.Duration(s.DurationMS) * time.Millisecond)
		} else {
			row.Duration = formatDuration(now.Sub(s.StartedAt)) + " so far"
		}
		data.Steps = append(data.Steps, row)
	}
	if dep.StartedAt != nil && dep.FinishedAt != nil {
		data.Duration = formatDuration(dep.FinishedAt.Sub(*dep.StartedAt))
	}
	if data.Changes, err = d.releaseChanges(r, dep); err != nil {
		return err
	}
	for len(data.Lines) < maxPageLog {
		lines, err := d.store.ListLogs(ctx, dep.ID, data.After, 1000)
		if err != nil {
			return err
		}
		data.Lines = append(data.Lines, lines...)
		if len(lines) > 0 {
			data.After = lines[len(lines)-1].Seq
		}
		if len(lines) < 1000 {
			break
		}
	}
	return r.render(fiber.StatusOK, "deployment", &view{Title: "Deployment " + shortID(dep.ID) + " of " + a.Name, Nav: "projects", Data: data})
}
