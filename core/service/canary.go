package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
)

// validateCanary checks a canary request (nil: none).
func validateCanary(c *store.CanaryRequest) error {
	if c == nil {
		return nil
	}
	if c.Weight < 1 || c.Weight > 99 {
		return problem.InvalidField("canary.weight", "must be %s (percent of the requests)", rangeText(1, 99))
	}
	if a := c.AutoPromote; a != nil {
		if a.MaxErrorRate < 0 || a.MaxErrorRate > 1 {
			return problem.InvalidField("canary.auto_promote.max_error_rate", "must be between 0 and 1")
		}
		if a.WindowSeconds < 10 || a.WindowSeconds > 86400 {
			return problem.InvalidField("canary.auto_promote.window_seconds", "must be %s", rangeText(10, 86400))
		}
		if a.MinRequests < 0 || a.MinRequests > 1_000_000 {
			return problem.InvalidField("canary.auto_promote.min_requests", "must be %s", rangeText(0, 1_000_000))
		}
	}
	return nil
}

// noCanary refuses to start a deployment while a canary release of the
// application holds traffic.
func (ds *Deployments) noCanary(ctx context.Context, a store.Application) error {
	c, err := ds.s.deps.Store.CanaryOf(ctx, a.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	return problem.Conflicting("canary", fmt.Sprintf("canary release %s of this application is in progress: promote or abort it first", c.ID))
}

// Promote sends all the traffic to canary deployment d and retires the
// previous version (members and above). It is queued; the deployment
// turns succeeded once the canary serves everything.
func (ds *Deployments) Promote(ctx context.Context, p *store.Principal, d store.Deployment) (store.Deployment, error) {
	return ds.canaryOp(ctx, p, d, "promote")
}

// Abort sends all the traffic back to the previous version and removes
// canary deployment d's release (members and above); the deployment ends
// cancelled.
func (ds *Deployments) Abort(ctx context.Context, p *store.Principal, d store.Deployment) (store.Deployment, error) {
	return ds.canaryOp(ctx, p, d, "abort")
}

func (ds *Deployments) canaryOp(ctx context.Context, p *store.Principal, d store.Deployment, op string) (store.Deployment, error) {
	if err := Authorize(p, d.OrganizationID, store.RoleMember, "deployment"); err != nil {
		return d, err
	}
	if d.Status != store.DeploymentCanary {
		return d, problem.Conflicting("id", fmt.Sprintf("deployment %s is %s, not a canary release", d.ID, d.Status))
	}
	dep, err := ds.deployer()
	if err != nil {
		return d, err
	}
	if err := dep.CanaryOp(ctx, d, op, principalName(p)); err != nil {
		return d, err
	}
	return ds.s.deps.Store.GetDeployment(ctx, d.ID)
}

// principalName names who asked, for records: the user's email, or "auto"
// for berth itself.
func principalName(p *store.Principal) string {
	if p == nil || p == System {
		return "auto"
	}
	return p.User.Email
}
