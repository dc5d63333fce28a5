package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/validate"
	"github.com/google/uuid"
)

// Deployer is the enqueue side of the deployment pipeline
// (core/app combines deploy.Enqueuer and deploy.Pipeline to implement it): it records deployments with their
// durable jobs and cancels them; the pipeline's workers do the rest.
type Deployer interface {
	Deploy(ctx context.Context, a store.Application, in store.NewDeployment) (store.Deployment, error)
	// DeployTx records a queued deployment and inserts its job in tx.
	DeployTx(ctx context.Context, tx *store.Tx, a store.Application, in store.NewDeployment) (store.Deployment, error)
	Rollback(ctx context.Context, a store.Application, target store.Deployment, by *uuid.UUID) (store.Deployment, error)
	Cancel(ctx context.Context, d store.Deployment) error
	// CanaryOp queues the promotion ("promote") or abortion ("abort") of a
	// canary deployment.
	CanaryOp(ctx context.Context, d store.Deployment, op, by string) error
	// RemoveApplications removes the Swarm services of applications.
	RemoveApplications(ctx context.Context, apps []store.Application) error
	// RemoveReleaseImages removes the images berth built for a.
	RemoveReleaseImages(ctx context.Context, a store.Application) error
}

// ErrNoDeployer answers deployment operations on a server without Docker.
var ErrNoDeployer = problem.Down("deployments are not available on this server (no Docker)", nil)

// Deployments queues, rolls back, cancels and deletes deployments.
// Members deploy, roll back and cancel; admins delete records.
type Deployments struct{ s *Services }

// DeployInput starts a deployment.
type DeployInput struct {
	// GitRef deploys this branch, tag or commit instead of the
	// application's ref (git applications only).
	GitRef string
	// Trigger says what started it: manual (default), push, webhook, ...
	Trigger string
	// CommitSHA pins the commit when the trigger knows it.
	CommitSHA string
	// Image pins the image to release (an image webhook's pushed digest).
	Image string
	// StatusRepository and StatusContext ask for commit statuses to be
	// posted to the git host (webhook-triggered deployments).
	StatusRepository, StatusContext string
	// Canary releases the new version to a share of the traffic until it
	// is promoted or aborted.
	Canary *store.CanaryRequest
}

// Validate checks the input against the application it deploys.
func (in DeployInput) Validate(a store.Application) error {
	if err := validate.GitRef("git_ref", in.GitRef); err != nil {
		return err
	}
	if err := validateCanary(in.Canary); err != nil {
		return err
	}
	if in.GitRef != "" && a.SourceType != "git" {
		return problem.InvalidField("git_ref", "only applies to applications built from git")
	}
	return nil
}

// CanDeploy reports whether this server can deploy (it has Docker).
func (s *Services) CanDeploy() bool { return s.deps.Deployer != nil }

func (ds *Deployments) deployer() (Deployer, error) {
	if ds.s.deps.Deployer == nil {
		return nil, ErrNoDeployer
	}
	return ds.s.deps.Deployer, nil
}

// Deploy queues a deployment of a (members and above).
func (ds *Deployments) Deploy(ctx context.Context, p *store.Principal, a store.Application, in DeployInput) (store.Deployment, error) {
	if err := Authorize(p, a.OrganizationID, store.RoleMember, "application"); err != nil {
		return store.Deployment{}, err
	}
	in.GitRef = strings.TrimSpace(in.GitRef)
	if err := in.Validate(a); err != nil {
		return store.Deployment{}, err
	}
	dep, err := ds.deployer()
	if err != nil {
		return store.Deployment{}, err
	}
	if in.Trigger == "" {
		in.Trigger = "manual"
	}
	if err := ds.noCanary(ctx, a); err != nil {
		return store.Deployment{}, err
	}
	return dep.Deploy(ctx, a, store.NewDeployment{Trigger: in.Trigger, GitRef: in.GitRef, CommitSHA: in.CommitSHA, Image: in.Image,
		StatusRepository: in.StatusRepository, StatusContext: in.StatusContext, CreatedBy: userID(p), Canary: in.Canary})
}

// CheckRollback returns the application target belongs to when target
// can be rolled back to: it succeeded, has an image, and its release is
// still kept. Otherwise a conflict says why.
func (ds *Deployments) CheckRollback(ctx context.Context, p *store.Principal, target store.Deployment) (store.Application, error) {
	if err := Authorize(p, target.OrganizationID, store.RoleMember, "deployment"); err != nil {
		return store.Application{}, err
	}
	if target.Status != store.DeploymentSucceeded || target.Image == "" {
		return store.Application{}, problem.Conflicting("id", "only a succeeded deployment with an image can be rolled back to")
	}
	st := ds.s.deps.Store
	a, err := st.GetApplication(ctx, target.ApplicationID)
	if err != nil {
		return a, err
	}
	releases, err := st.Releases(ctx, a.ID, a.KeepReleases)
	if err != nil {
		return a, err
	}
	for _, r := range releases {
		if r.Image == target.Image {
			return a, nil
		}
	}
	return a, problem.Conflicting("id", fmt.Sprintf("that release is older than the %d kept for rollback; deploy it again instead", a.KeepReleases))
}

// Rollback queues a release of target's image again, without building
// (members and above).
func (ds *Deployments) Rollback(ctx context.Context, p *store.Principal, target store.Deployment) (store.Deployment, error) {
	a, err := ds.CheckRollback(ctx, p, target)
	if err != nil {
		return store.Deployment{}, err
	}
	dep, err := ds.deployer()
	if err != nil {
		return store.Deployment{}, err
	}
	return dep.Rollback(ctx, a, target, userID(p))
}

// ErrFinished is the conflict of cancelling a deployment that ended.
var ErrFinished = problem.Conflicting("", "this deployment has already finished")

// Cancel stops a queued or running deployment (members and above); the
// application keeps its previous version. It returns the deployment as
// it is now.
func (ds *Deployments) Cancel(ctx context.Context, p *store.Principal, d store.Deployment) (store.Deployment, error) {
	if err := Authorize(p, d.OrganizationID, store.RoleMember, "deployment"); err != nil {
		return d, err
	}
	if d.Status == store.DeploymentCanary {
		return ds.Abort(ctx, p, d) // cancelling a canary aborts it
	}
	dep, err := ds.deployer()
	if err != nil {
		return d, err
	}
	if err := dep.Cancel(ctx, d); err != nil {
		var ce *store.ConflictError
		if errors.As(err, &ce) {
			return d, ErrFinished
		}
		return d, err
	}
	return ds.s.deps.Store.GetDeployment(ctx, d.ID)
}

// Delete removes a finished deployment's record (admins and above).
func (ds *Deployments) Delete(ctx context.Context, p *store.Principal, d store.Deployment) error {
	if err := Authorize(p, d.OrganizationID, store.RoleAdmin, "deployment"); err != nil {
		return err
	}
	if err := ds.s.deps.Store.DeleteDeployment(ctx, d.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return problem.Missing("deployment")
		}
		return err
	}
	return nil
}

// userID is the id recorded as the author of a change: nil for System.
func userID(p *store.Principal) *uuid.UUID {
	if p == nil || p == System {
		return nil
	}
	id := p.User.ID
	return &id
}
