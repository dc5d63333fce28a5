package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/release"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// Releaser runs candidate releases (*release.Engine).
type Releaser interface {
	CandidateRelease(ctx context.Context, plan release.Plan) (*release.Handoff, error)
	Promote(ctx context.Context, plan release.Plan) (*release.Handoff, error)
	Abandon(ctx context.Context, primary string) error
	CheckReady(ctx context.Context, plan release.Plan, rep *store.ReleaseReport) error
}

// Scaler scales a service (swarm.Manager).
type Scaler interface {
	Scale(ctx context.Context, name string, replicas uint64) (uint64, error)
}

// retireTimeout bounds the background retirement of an old version.
const retireTimeout = 15 * time.Minute

// plan is the release plan of a run's spec.
func (p *Pipeline) plan(ctx context.Context, r *run, spec swarm.ServiceSpec) (release.Plan, bool, error) {
	routed, err := p.store.Routed(ctx, r.a.ID)
	if err != nil {
		return release.Plan{}, false, err
	}
	return release.Plan{
		Owner: r.d.ID.String(), Spec: spec, Port: r.a.Port,
		Readiness: r.a.EffectiveReadiness(routed), Soak: r.a.Soak(), Canary: r.d.Canary,
		Progress: r.w.Info,
		Record: func(rep store.ReleaseReport) {
			if err := p.store.SetDeploymentRelease(context.WithoutCancel(ctx), r.d.ID, rep); err != nil {
				p.log.Warn("recording a release report failed", "deployment", r.d.ID, "err", err)
			}
		},
	}, routed, nil
}

// useCandidate reports whether the release runs as a candidate next to
// the running service: the application has a domain (traffic to hand
// over), its new version can run next to the old one, and the old one
// runs.
func (p *Pipeline) useCandidate(ctx context.Context, routed bool, spec swarm.ServiceSpec) bool {
	if p.releaser == nil || !routed || spec.Replicas == 0 || !swarm.StartFirst(spec) {
		return false
	}
	st, err := p.rollout.Inspect(ctx, spec.Name)
	return err == nil && st.Running > 0
}

// retire finishes a release in the background of its succeeded deployment,
// holding the application so that its next deployment waits.
func (p *Pipeline) retire(ctx context.Context, app uuid.UUID, h *release.Handoff) {
	p.holdApp(app)
	defer p.releaseApp(app)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), retireTimeout)
	defer cancel()
	if err := h.Retire(ctx); err != nil {
		p.log.Error("retiring the old version failed", "application", app, "err", err)
	}
}

// holdApp marks an application busy with a retirement; releaseApp frees it.
func (p *Pipeline) holdApp(app uuid.UUID) {
	p.mu.Lock()
	p.retiring[app]++
	p.mu.Unlock()
}

func (p *Pipeline) releaseApp(app uuid.UUID) {
	p.mu.Lock()
	if p.retiring[app]--; p.retiring[app] <= 0 {
		delete(p.retiring, app)
	}
	p.mu.Unlock()
}

func (p *Pipeline) isRetiring(app uuid.UUID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.retiring[app] > 0
}

// Canary operations, run by the deployment worker (Args.Op).
const (
	OpPromote = "promote"
	OpAbort   = "abort"
)

// errNotCanary: the deployment no longer holds a canary share.
var errNotCanary = errors.New("the deployment is not a canary release")

// canaryOp promotes or aborts the canary deployment id.
func (p *Pipeline) canaryOp(ctx context.Context, id uuid.UUID, op, by string) error {
	d, err := p.store.GetDeployment(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	if d.Status != store.DeploymentCanary {
		p.log.Info("canary operation on a deployment that is no longer a canary", "deployment", id, "op", op, "status", d.Status)
		return nil
	}
	r, err := p.prepare(ctx, d)
	if err != nil {
		return err
	}
	defer r.w.Close()
	r.image = d.Image
	rep := store.ReleaseReport{Strategy: "candidate"}
	if d.Release != nil {
		rep = *d.Release
	}
	if rep.Canary == nil {
		rep.Canary = &store.CanaryReport{}
	}
	now := time.Now()
	rep.Canary.By, rep.Canary.At = by, &now
	switch op {
	case OpAbort:
		r.w.Info("canary aborted (" + by + "): all the traffic goes back to the previous version")
		rep.Canary.Outcome, rep.Serving = "aborted", "previous"
		_ = p.store.SetDeploymentRelease(ctx, id, rep)
		if err := p.finish(ctx, id, store.DeploymentResult{Status: store.DeploymentCancelled, Error: "canary aborted; the previous version keeps serving"}); err != nil {
			return err
		}
		if err := p.releaser.Abandon(ctx, r.a.ServiceName); err != nil {
			r.w.Info("removing the canary failed: " + err.Error())
			return err
		}
		r.w.Info("canary removed")
		return nil
	case OpPromote:
		r.w.Info("canary promoted (" + by + ")")
		spec, err := p.releaseSpec(ctx, r)
		if err != nil {
			return err
		}
		plan, _, err := p.plan(ctx, r, spec)
		if err != nil {
			return err
		}
		plan.Canary = nil
		h, err := p.releaser.Promote(ctx, plan)
		if err != nil {
			return err
		}
		rep.Canary.Outcome = "promoted"
		hr := h.Report()
		rep.Serving, rep.ServingAt = hr.Serving, hr.ServingAt
		_ = p.store.SetDeploymentRelease(ctx, id, rep)
		if err := p.finish(ctx, id, store.DeploymentResult{Status: store.DeploymentSucceeded}); err != nil {
			return err
		}
		p.retire(ctx, d.ApplicationID, h)
		return nil
	}
	return fmt.Errorf("unknown canary operation %q", op)
}

// Candidates lists the candidate services a process left (swarm.Manager).
type Candidates interface {
	ServicesLabeled(ctx context.Context, labels map[string]string) ([]swarm.ServiceRef, error)
}

// recoverCandidates settles the candidate services a killed process left,
// in the background (tracked like settleRelease): a canary's stays (its
// weighted routes come from the store); a succeeded deployment's takes
// all the traffic again and the old version is retired; any other is
// removed, and the previous version, never stopped, keeps serving.
func (p *Pipeline) recoverCandidates(ctx context.Context) error {
	lister, ok := p.rollout.(Candidates)
	if !ok || p.releaser == nil {
		return nil
	}
	refs, err := lister.ServicesLabeled(ctx, map[string]string{release.LabelRole: release.RoleCandidate, LabelInstance: p.cfg.Instance})
	if err != nil {
		return err
	}
	for _, ref := range refs {
		id, err := uuid.Parse(ref.Labels[swarm.LabelDeploymentID])
		if err != nil {
			p.log.Warn("a candidate service without a deployment; removing it", "service", ref.Name)
			_ = p.rollout.Remove(ctx, ref.Name)
			continue
		}
		p.settling.Add(1)
		go func(name string, id uuid.UUID) {
			defer p.settling.Done()
			p.settleCandidate(context.WithoutCancel(ctx), name, id)
		}(ref.Name, id)
	}
	return nil
}

func (p *Pipeline) settleCandidate(ctx context.Context, name string, id uuid.UUID) {
	d, err := p.store.GetDeployment(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		_ = p.rollout.Remove(ctx, name)
		return
	}
	if err != nil {
		p.log.Error("settling a candidate service", "service", name, "err", err)
		return
	}
	switch d.Status {
	case store.DeploymentCanary:
		return
	case store.DeploymentSucceeded:
		p.log.Warn("berth stopped while retiring an old version; finishing", "deployment", id, "service", name)
		r, err := p.prepare(ctx, d)
		if err != nil {
			p.log.Error("resuming a retirement", "deployment", id, "err", err)
			return
		}
		defer r.w.Close()
		r.w.Info("berth restarted while retiring the old version: the new version takes all the traffic again and the old one is retired")
		r.image = d.Image
		spec, err := p.releaseSpec(ctx, r)
		if err != nil {
			return
		}
		plan, _, err := p.plan(ctx, r, spec)
		if err != nil {
			return
		}
		plan.Canary = nil
		h, err := p.releaser.Promote(ctx, plan)
		if err != nil {
			r.w.Info("resuming failed: " + err.Error())
			return
		}
		p.retire(ctx, d.ApplicationID, h)
	default:
		// Wait until the interrupted deployment is settled, so nothing
		// still counts on its candidate, then remove it.
		if err := p.rollout.Remove(ctx, name); err != nil {
			p.log.Error("removing a candidate service left by a stopped berth", "service", name, "err", err)
			return
		}
		p.log.Warn("removed a candidate service left by a stopped berth", "service", name, "deployment", id, "status", d.Status)
	}
}
