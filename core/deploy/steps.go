package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/deploylog"
	"github.com/berth-dev/berth/core/release"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
	"github.com/berth-dev/berth/core/testhook"
	"github.com/berth-dev/berth/sdk"
)

// step is one named stage of a deployment. The steps run in order (as
// Nomad's task runner hooks do) until one fails; the error a step returns
// is wrapped with its name and becomes the deployment's error text in
// outcome, nowhere else.
type step struct {
	name string
	// timeout bounds the step; 0 leaves only the job's own limit.
	timeout time.Duration
	// skip reports that the deployment has nothing to do in this step
	// (nil: never skipped).
	skip func(*run) bool
	// final steps run once the outcome is known, whatever it is, with a
	// context no cancellation reaches; they are not recorded as steps of
	// the deployment and never change its outcome.
	final bool
	run   func(ctx context.Context, r *run) error
}

// steps is the pipeline, in order.
func (p *Pipeline) steps() []step {
	return []step{
		{name: "source", timeout: p.cfg.SourceTimeout, skip: (*run).prebuilt, run: p.source},
		{name: "build", timeout: p.cfg.BuildTimeout, skip: (*run).prebuilt, run: p.build},
		{name: "release", timeout: p.cfg.ReleaseTimeout, run: p.release},
		{name: "route", run: p.route},
		{name: "report", final: true, run: p.report},
	}
}

// run is one deployment on its way through the steps.
type run struct {
	d      store.Deployment
	a      store.Application
	access gitAccess
	env    map[string]string
	w      *deploylog.Writer
	// dir holds the checkout from source to the end of build.
	dir string
	// image is what release runs: the build's, the rollback target's or
	// the application's own.
	image           string
	commit, subject string
	// res is the outcome, set before the final steps run.
	res store.DeploymentResult
	// handoff is a candidate release that took the traffic and has the
	// old version to retire; canary says it holds a canary share.
	handoff *release.Handoff
	canary  bool
}

// prebuilt reports that the release runs an existing image (a rollback,
// or an image application): no source, no build.
func (r *run) prebuilt() bool { return r.d.Kind == store.KindRollback || r.a.SourceType == "image" }

// execute runs the steps and returns the outcome; it never panics out.
func (p *Pipeline) execute(ctx context.Context, d store.Deployment) (res store.DeploymentResult, h *release.Handoff) {
	r, err := p.prepare(ctx, d)
	if err != nil {
		return outcome(ctx, err), nil
	}
	defer r.w.Close()
	defer func() {
		if r.dir != "" {
			os.RemoveAll(r.dir)
		}
	}()
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("deployment panicked", "deployment", d.ID, "panic", v)
			res = store.DeploymentResult{Status: store.DeploymentFailed, Error: fmt.Sprintf("internal error: %v", v)}
			r.w.Info("deployment " + res.Status + ": " + res.Error)
			h = nil
		}
	}()
	p.reportStatus(ctx, r.a, d, r.access, sdk.CommitPending, "deploying", "", r.w)
	r.w.Info(fmt.Sprintf("deployment %s of %s (%s)", d.ID, r.a.Name, d.Kind))
	p.resolveImage(ctx, r)

	steps := p.steps()
	for _, s := range steps {
		if s.final || (s.skip != nil && s.skip(r)) {
			continue
		}
		if err = p.runStep(ctx, r, s); err != nil {
			break
		}
	}
	r.res = outcome(ctx, err)
	r.res.Image, r.res.CommitSHA, r.res.CommitSubject = r.image, r.commit, r.subject
	switch {
	case err == nil && r.canary:
		r.res.Status = store.DeploymentCanary
		if cerr := p.store.EnterCanary(context.WithoutCancel(ctx), d.ID, r.res); cerr != nil {
			r.res = store.DeploymentResult{Status: store.DeploymentFailed, Error: "recording the canary: " + cerr.Error()}
			if aerr := p.releaser.Abandon(context.WithoutCancel(ctx), r.a.ServiceName); aerr != nil {
				p.log.Error("removing an unrecorded canary", "deployment", d.ID, "err", aerr)
			}
		} else {
			r.w.Info("canary release holds its share of the traffic: promote or abort it")
		}
	case err == nil:
		r.w.Info("deployment succeeded")
	default:
		r.w.Info("deployment " + r.res.Status + ": " + r.res.Error)
	}
	fctx := context.WithoutCancel(ctx)
	for _, s := range steps {
		if s.final && r.res.Status != store.DeploymentCanary {
			if err := p.guarded(fctx, r, s); err != nil {
				p.log.Warn("final deployment step failed", "deployment", d.ID, "step", s.name, "err", err)
			}
		}
	}
	if r.res.Status == store.DeploymentSucceeded {
		return r.res, r.handoff
	}
	return r.res, nil
}

// prepare loads what every step needs: the application (with a preview's
// inherited settings), its git access and its variables, and opens the
// deployment's log with the secrets to mask.
func (p *Pipeline) prepare(ctx context.Context, d store.Deployment) (*run, error) {
	a, err := p.store.GetApplication(ctx, d.ApplicationID)
	if err != nil {
		return nil, fmt.Errorf("load application: %w", err)
	}
	if a.PreviewOf != nil {
		parent, err := p.store.GetApplication(ctx, *a.PreviewOf)
		if err != nil {
			return nil, fmt.Errorf("load the preview's parent application: %w", err)
		}
		a = store.InheritPreview(parent, a)
	}
	access, err := p.gitAccess(ctx, a)
	if err != nil {
		return nil, err
	}
	env, secretValues, err := p.environment(ctx, a)
	if err != nil {
		return nil, err
	}
	secretValues = append(secretValues, access.secrets()...)
	return &run{d: d, a: a, access: access, env: env, w: p.hub.Writer(ctx, d.ID, secretValues)}, nil
}

// resolveImage sets the image of a deployment that builds none.
func (p *Pipeline) resolveImage(ctx context.Context, r *run) {
	switch {
	case r.d.Kind == store.KindRollback:
		r.image = r.d.Image
		r.w.Info("rolling back to " + r.image)
	case r.a.SourceType == "image":
		r.image = r.a.Image
		if r.d.Image != "" {
			r.image = r.d.Image // pinned by an image webhook
		}
		if ok, err := p.images.ImageExists(ctx, r.image); err == nil && !ok {
			r.w.Info("image " + r.image + " is not present locally; Swarm will pull it on the nodes")
		}
	}
}

// runStep records the step, runs it within its timeout and wraps its
// error with its name. A deployment cancelled before the step fails in it
// without starting it.
func (p *Pipeline) runStep(ctx context.Context, r *run, s step) error {
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	if err := p.store.BeginStep(context.WithoutCancel(ctx), r.d.ID, s.name); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	r.w.Info("== " + s.name)
	if err := testhook.Pause(ctx, "deploy."+s.name); err != nil {
		return fmt.Errorf("%s: %w", s.name, context.Cause(ctx))
	}
	start := time.Now()
	sctx, cancel := ctx, context.CancelFunc(func() {})
	if s.timeout > 0 {
		sctx, cancel = context.WithTimeout(ctx, s.timeout)
	}
	defer cancel()
	err := p.guarded(sctx, r, s)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		if errors.Is(sctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("timed out after %s: %w", s.timeout, err)
		}
		r.w.Info(fmt.Sprintf("== %s failed after %s", s.name, took))
		return fmt.Errorf("%s: %w", s.name, err)
	}
	r.w.Info(fmt.Sprintf("== %s done in %s", s.name, took))
	return nil
}

// guarded runs a step's function, turning a panic into its error.
func (p *Pipeline) guarded(ctx context.Context, r *run, s step) (err error) {
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("deployment step panicked", "deployment", r.d.ID, "step", s.name, "panic", v)
			err = fmt.Errorf("internal error: %v", v)
		}
	}()
	return s.run(ctx, r)
}

// outcome turns the error that ended a deployment into its final status
// and error text: the one place where this happens. A user's cancellation
// and berth's shutdown say so whatever step they interrupted.
func outcome(ctx context.Context, err error) store.DeploymentResult {
	if err == nil {
		return store.DeploymentResult{Status: store.DeploymentSucceeded}
	}
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, river.ErrJobCancelledRemotely):
		return store.DeploymentResult{Status: store.DeploymentCancelled, Error: "cancelled by a user; the previous version keeps serving"}
	case errors.Is(cause, errShutdown):
		return store.DeploymentResult{Status: store.DeploymentFailed, Error: errShutdown.Error() + "; the previous version keeps serving"}
	}
	return store.DeploymentResult{Status: store.DeploymentFailed, Error: err.Error()}
}

// source fetches the repository into the deployment's checkout.
func (p *Pipeline) source(ctx context.Context, r *run) error {
	if err := os.MkdirAll(p.cfg.WorkDir, 0o700); err != nil {
		return err
	}
	r.dir = filepath.Join(p.cfg.WorkDir, r.d.ID.String())
	gp, err := p.plugins.GitProvider(ctx, r.access.provider)
	if err != nil {
		return err
	}
	ref := r.a.GitRef
	if r.d.GitRef != "" {
		ref = r.d.GitRef
	}
	r.w.Info(fmt.Sprintf("fetching %s at %s", r.a.GitRepository, refOrDefault(ref)))
	fetched, err := gp.Fetch(ctx, &sdk.FetchRequest{Repository: r.a.GitRepository, Ref: ref, Dir: r.dir, Depth: 1,
		Log: func(l sdk.LogLine) { r.w.Line("git", l.Text) }, Credentials: r.access.credentials})
	if err != nil {
		return err
	}
	r.commit, r.subject = fetched.Commit, fetched.Subject
	r.w.Info(fmt.Sprintf("commit %s %s", short(fetched.Commit), fetched.Subject))
	return nil
}

// build builds the checkout into the deployment's image with the
// application's builder plugin.
func (p *Pipeline) build(ctx context.Context, r *run) error {
	defer func() { os.RemoveAll(r.dir); r.dir = "" }() // the image holds what release needs
	builderID, reason, settings := "builder."+r.a.BuildType, "", r.a.BuildSettings
	if r.a.BuildType == BuildTypeAuto {
		// auto builds with the chosen builder's defaults: the app's build
		// settings belong to an explicit build type.
		var err error
		if builderID, reason, err = p.chooseBuilder(ctx, r); err != nil {
			return err
		}
		settings = nil
	}
	if err := p.store.SetDeploymentBuilder(ctx, r.d.ID, builderID, reason); err != nil {
		r.w.Info("warning: recording the builder failed: " + err.Error())
	}
	b, err := p.plugins.Builder(ctx, builderID)
	if err != nil {
		return err
	}
	tag := ImageTag(r.a, r.d)
	r.w.Info(fmt.Sprintf("building %s with %s", tag, builderID))
	built, err := b.Build(ctx, &sdk.BuildRequest{SourceDir: r.dir, Settings: settings, Image: tag, Env: r.env,
		DockerHost: p.cfg.DockerHost, Log: func(l sdk.LogLine) { r.w.Line("build", l.Text) }})
	if err != nil {
		return err
	}
	r.image = built.Image
	if r.image == "" {
		r.image = tag
	}
	return nil
}

// ImageTag is the local image name of a deployment's build.
func ImageTag(a store.Application, d store.Deployment) string {
	id := strings.ReplaceAll(d.ID.String(), "-", "")
	return "berth/" + a.ServiceName + ":" + id[len(id)-12:]
}

// release runs the image as the application's Swarm service. An
// application with a domain whose new version can run next to the old one
// is released as a candidate (core/release): berth checks each new task's
// readiness itself, soaks, then hands all the traffic over; the old
// version, never touched until then, is retired after the deployment is
// reported done. Otherwise Swarm updates the service start-first (or
// stop-first), health-gated, and Traefik follows it task by task.
func (p *Pipeline) release(ctx context.Context, r *run) error {
	network := EnvironmentNetwork(p.cfg.Instance, r.a)
	if err := p.rollout.EnsureNetwork(ctx, network, map[string]string{"dev.berth.environment": r.a.EnvironmentID.String()}); err != nil {
		return err
	}
	// The volume mappings are read again right before the release, so a
	// restore that switched volumes meanwhile is never switched back.
	if err := p.currentVolumes(ctx, &r.a); err != nil {
		return err
	}
	spec, err := p.releaseSpec(ctx, r)
	if err != nil {
		return err
	}
	plan, routed, err := p.plan(ctx, r, spec)
	if err != nil {
		return err
	}
	if p.useCandidate(ctx, routed, spec) {
		h, err := p.releaser.CandidateRelease(ctx, plan)
		if err != nil {
			return err
		}
		r.handoff, r.canary = h, r.d.Canary != nil
		return nil
	}
	if r.d.Canary != nil {
		return errors.New("a canary release needs the application running with a domain, and a new version that can run next to the old one (no stop-first, no fixed host port)")
	}
	// Traefik follows the rollout task by task: a new task takes traffic
	// once Swarm runs it (healthy, when it has a health check), an old one
	// stops getting any as soon as Swarm decides to stop it, before Docker
	// signals it; afterwards the routes go back to Swarm's DNS.
	obs := swarm.Observer{Progress: r.w.Info, Network: p.cfg.ProxyNetwork}
	if p.routes != nil {
		obs.Serving = func(addrs []string) { p.routes.SetServing(spec.Name, addrs) }
	}
	strategy := "update"
	result, err := p.rollout.DeployObserved(ctx, spec, obs)
	if result.Action == swarm.ActionCreate {
		strategy = "create"
	}
	rep := store.ReleaseReport{Strategy: strategy, Soak: "skipped"}
	if err != nil {
		rep.Serving = "previous"
		plan.Record(rep)
		return err
	}
	if p.releaser != nil && routed && spec.Replicas > 0 && plan.Readiness.Mode != store.ReadinessNone {
		// Swarm started the tasks itself: berth still checks them, so
		// "succeeded" means they answer.
		if err := p.releaser.CheckReady(ctx, plan, &rep); err != nil {
			rep.Serving = "new (not ready)"
			if result.Action == swarm.ActionCreate {
				if sc, ok := p.rollout.(Scaler); ok {
					_, _ = sc.Scale(context.WithoutCancel(ctx), spec.Name, 0)
					rep.Serving = "none (scaled to 0 replicas)"
				}
			}
			plan.Record(rep)
			return err
		}
	}
	now := time.Now()
	rep.Serving, rep.ServingAt, rep.RetiredAt, rep.Retire = "new", &now, &now, "done"
	plan.Record(rep)
	r.w.Info(fmt.Sprintf("released %s (%d replica(s)) in %s", r.image, r.a.Replicas, result.Duration.Round(time.Millisecond)))
	return nil
}

// route republishes the proxy configuration; a failure is a warning in
// the log (the service runs, and the next publication catches up).
func (p *Pipeline) route(ctx context.Context, r *run) error {
	if p.routes == nil {
		return nil
	}
	if err := p.routes.Sync(ctx); err != nil {
		r.w.Info("warning: publishing routes failed: " + err.Error())
	}
	return nil
}

// report posts the final commit status and, after a success, removes
// release images beyond the application's KeepReleases.
func (p *Pipeline) report(ctx context.Context, r *run) error {
	if r.res.Status == store.DeploymentSucceeded {
		p.pruneReleases(ctx, r.a, r.image, r.w)
	}
	p.reportFinished(ctx, r.a, r.d, r.access, r.res, r.w)
	return nil
}
