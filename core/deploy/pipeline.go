// Package deploy is berth's deployment pipeline: one straight line from a
// queued deployment to a new version answering behind Traefik:
//
//	source (git provider plugin) -> build (builder plugin) -> release (Swarm,
//	start-first, health-gated, rolled back on failure; Traefik follows the
//	handoff task by task) -> route (proxy) -> done
//
// Deployments are durable jobs (core/queue); one application deploys one at a
// time, in order; every step has a timeout; cancelling stops the build or
// rolls the release back, and the previous version keeps serving.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/core/deploylog"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
	"github.com/berth-dev/berth/core/testhook"
	"github.com/berth-dev/berth/core/vars"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// Plugins gives the pipeline its git providers and builders.
type Plugins interface {
	GitProvider(ctx context.Context, id string) (sdk.GitProvider, error)
	Builder(ctx context.Context, id string) (sdk.Builder, error)
}

// Rollout runs Swarm services.
type Rollout interface {
	EnsureNetwork(ctx context.Context, name string, labels map[string]string) error
	DeployObserved(ctx context.Context, spec swarm.ServiceSpec, obs swarm.Observer) (swarm.Result, error)
	// Inspect reports what Swarm runs for a service (start-up
	// reconciliation of a release a killed berth left).
	Inspect(ctx context.Context, name string) (swarm.Status, error)
	Remove(ctx context.Context, name string) error
}

// Images inspects and removes local images.
type Images interface {
	ImageExists(ctx context.Context, ref string) (bool, error)
	RemoveImage(ctx context.Context, ref string) error
}

// Routes republishes the proxy configuration.
type Routes interface {
	Sync(ctx context.Context) error
	// SetServing sends the traffic of a service's routes to the given task
	// addresses (nil: back to Swarm's DNS), for the handoff during a
	// rollout.
	SetServing(service string, addrs []string)
}

// Enqueuer queues, inspects and cancels jobs (queue.Queue).
type Enqueuer interface {
	// InsertTx enqueues a job in tx (it exists once tx commits).
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, bool, error)
	Cancel(ctx context.Context, id int64) error
	// State reports a job's state (queue.JobGone when it does not exist).
	State(ctx context.Context, id int64) (queue.JobState, error)
}

// Config holds the pipeline's settings.
type Config struct {
	// Instance prefixes Docker object names (BERTH_NAME).
	Instance string
	// ProxyNetwork is the overlay network Traefik reaches services on.
	ProxyNetwork string
	// WorkDir holds checkouts while they build.
	WorkDir string
	// DockerHost is handed to builders.
	DockerHost string
	// PublicURL is berth's address, for commit status links.
	PublicURL string
	// Step timeouts.
	SourceTimeout, BuildTimeout, ReleaseTimeout time.Duration
}

func (c *Config) defaults() {
	if c.SourceTimeout == 0 {
		c.SourceTimeout = 10 * time.Minute
	}
	if c.BuildTimeout == 0 {
		c.BuildTimeout = 30 * time.Minute
	}
	if c.ReleaseTimeout == 0 {
		c.ReleaseTimeout = 10 * time.Minute
	}
}

// Pipeline runs deployments.
type Pipeline struct {
	store   *store.Store
	hub     *deploylog.Hub
	plugins Plugins
	rollout Rollout
	images  Images
	routes  Routes
	events  EventEmitter
	queue   Enqueuer
	guard   OutboundGuard
	cfg     Config
	log     *slog.Logger

	mu       sync.Mutex
	running  map[uuid.UUID]context.CancelCauseFunc
	stopping bool
	// settling counts releases Recover is settling in the background.
	settling sync.WaitGroup
}

// Deps are the pipeline's collaborators.
type Deps struct {
	Store   *store.Store
	Hub     *deploylog.Hub
	Plugins Plugins
	Rollout Rollout
	Images  Images
	Routes  Routes
	// Events receives deploy.succeeded and deploy.failed; optional.
	Events EventEmitter
	// Outbound checks a connection's base URL and the repository address
	// again before each deployment uses them; nil checks nothing.
	Outbound OutboundGuard
	Logger   *slog.Logger
}

// OutboundGuard re-checks addresses tenants aim requests at right before
// they are used (*netguard.Guard implements it).
type OutboundGuard interface {
	RecheckURL(ctx context.Context, field, raw string) error
	RecheckRepository(ctx context.Context, field, repo string) error
}

// New returns a pipeline; SetQueue must be called before Deploy.
func New(d Deps, cfg Config) *Pipeline {
	cfg.defaults()
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Pipeline{store: d.Store, hub: d.Hub, plugins: d.Plugins, rollout: d.Rollout, images: d.Images,
		routes: d.Routes, events: d.Events, guard: d.Outbound, cfg: cfg, log: d.Logger, running: map[uuid.UUID]context.CancelCauseFunc{}}
}

// SetQueue connects the job queue (created after the pipeline, whose worker
// it registers).
func (p *Pipeline) SetQueue(q Enqueuer) { p.queue = q }

// Causes of a deployment's context cancellation.
var (
	errCancelled = errors.New("cancelled by a user")
	errShutdown  = errors.New("berth was stopped during the deployment")
	errBusy      = errors.New("an earlier deployment of this application is still active")
)

// Deploy queues a deployment of a: the deployment record and its job are
// written in one transaction, so both exist or neither does.
func (p *Pipeline) Deploy(ctx context.Context, a store.Application, in store.NewDeployment) (store.Deployment, error) {
	var id uuid.UUID
	err := p.store.WithTx(ctx, func(tx *store.Tx) error {
		d, err := p.DeployTx(ctx, tx, a, in)
		id = d.ID
		return err
	})
	if err != nil {
		return store.Deployment{}, err
	}
	return p.store.GetDeployment(ctx, id)
}

// DeployTx records a queued deployment of a and inserts its job in tx; the
// caller commits (with other records, e.g. a preview's application) or
// rolls everything back.
func (p *Pipeline) DeployTx(ctx context.Context, tx *store.Tx, a store.Application, in store.NewDeployment) (store.Deployment, error) {
	if p.queue == nil {
		return store.Deployment{}, errors.New("deploy: the job queue is not connected")
	}
	d, err := tx.CreateDeployment(ctx, a.ID, in)
	if err != nil {
		return d, err
	}
	job, _, err := p.queue.InsertTx(ctx, tx.Pgx(), Args{DeploymentID: d.ID}, nil)
	if err != nil {
		return d, fmt.Errorf("deploy: queue deployment %s: %w", d.ID, err)
	}
	if err := tx.SetDeploymentJob(ctx, d.ID, job); err != nil {
		return d, err
	}
	d.JobID = &job
	return d, nil
}

// Rollback queues a deployment that releases target's image again (no build).
func (p *Pipeline) Rollback(ctx context.Context, a store.Application, target store.Deployment, by *uuid.UUID) (store.Deployment, error) {
	return p.Deploy(ctx, a, store.NewDeployment{Kind: store.KindRollback, Trigger: "rollback", Image: target.Image,
		CommitSHA: target.CommitSHA, RollbackOf: &target.ID, CreatedBy: by})
}

// Cancel stops a queued or running deployment; the application keeps its
// previous version.
func (p *Pipeline) Cancel(ctx context.Context, d store.Deployment) error {
	now, err := p.store.RequestCancel(ctx, d.ID)
	if err != nil {
		return err
	}
	if now && d.JobID != nil {
		if err := p.queue.Cancel(ctx, *d.JobID); err != nil {
			p.log.Warn("cancelling queued job failed (it will see the cancellation when it starts)", "deployment", d.ID, "err", err)
		}
		return nil
	}
	p.mu.Lock()
	cancel := p.running[d.ID]
	p.mu.Unlock()
	if cancel != nil {
		cancel(errCancelled)
	}
	return nil
}

// Stopping tells running deployments that berth is shutting down, so they
// end as failed (with that reason) rather than cancelled by a user.
func (p *Pipeline) Stopping() {
	p.mu.Lock()
	p.stopping = true
	for _, cancel := range p.running {
		cancel(errShutdown)
	}
	p.mu.Unlock()
}

// Run executes one deployment (called by the queue worker).
func (p *Pipeline) Run(ctx context.Context, id uuid.UUID) error {
	d, err := p.store.GetDeployment(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil // deleted with its application
		}
		return err
	}
	if d.Finished() {
		return nil
	}
	if d.Status == store.DeploymentQueued {
		busy, err := p.store.EarlierActive(ctx, d)
		if err != nil {
			return err
		}
		if busy {
			// An earlier deployment whose job is gone never runs: settle
			// it rather than wait for it forever.
			if n, err := p.settleQueued(ctx, &d.ApplicationID, false); err != nil || n == 0 {
				return errBusy
			}
			if busy, err = p.store.EarlierActive(ctx, d); err != nil || busy {
				return errBusy
			}
		}
		if err := testhook.Pause(ctx, "deploy.queued"); err != nil {
			return err
		}
		started, err := p.store.StartDeployment(ctx, id)
		if err != nil || !started {
			return err
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		cancel(errShutdown)
	} else {
		p.running[id] = cancel
		p.mu.Unlock()
	}
	defer func() {
		p.mu.Lock()
		delete(p.running, id)
		p.mu.Unlock()
	}()

	res := p.execute(ctx, d)
	if res.Status != store.DeploymentSucceeded {
		if cause := context.Cause(ctx); errors.Is(cause, errCancelled) {
			res.Status, res.Error = store.DeploymentCancelled, "cancelled by a user; the previous version keeps serving"
		} else if errors.Is(cause, errShutdown) {
			res.Error = errShutdown.Error() + "; the previous version keeps serving"
		}
	}
	if err := p.finish(context.WithoutCancel(ctx), id, res); err != nil {
		return err
	}
	p.log.Info("deployment finished", "deployment", id, "status", res.Status, "error", res.Error)
	return nil
}

// execute runs the steps and returns the outcome; it never panics out.
func (p *Pipeline) execute(ctx context.Context, d store.Deployment) (res store.DeploymentResult) {
	res.Status = store.DeploymentFailed
	a, err := p.store.GetApplication(ctx, d.ApplicationID)
	if err != nil {
		res.Error = "load application: " + err.Error()
		return res
	}
	if a.PreviewOf != nil {
		parent, err := p.store.GetApplication(ctx, *a.PreviewOf)
		if err != nil {
			res.Error = "load the preview's parent application: " + err.Error()
			return res
		}
		a = store.InheritPreview(parent, a)
	}
	access, err := p.gitAccess(ctx, a)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	env, secretValues, err := p.environment(ctx, a)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	secretValues = append(secretValues, access.secrets()...)
	w := p.hub.Writer(ctx, d.ID, secretValues)
	defer w.Close()
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("deployment panicked", "deployment", d.ID, "panic", r)
			res.Status, res.Error = store.DeploymentFailed, fmt.Sprintf("internal error: %v", r)
		}
		if res.Error != "" {
			w.Info("deployment " + res.Status + ": " + res.Error)
		}
		p.reportFinished(context.WithoutCancel(ctx), a, d, access, res, w)
	}()
	p.reportStatus(ctx, a, d, access, sdk.CommitPending, "deploying", "", w)
	w.Info(fmt.Sprintf("deployment %s of %s (%s)", d.ID, a.Name, d.Kind))

	image := d.Image
	switch {
	case d.Kind == store.KindRollback:
		w.Info("rolling back to " + image)
	case a.SourceType == "image":
		image = a.Image
		if d.Image != "" {
			image = d.Image // pinned by an image webhook
		}
		if ok, err := p.images.ImageExists(ctx, image); err == nil && !ok {
			w.Info("image " + image + " is not present locally; Swarm will pull it on the nodes")
		}
	default:
		built, commit, subject, err := p.sourceAndBuild(ctx, d, a, access, env, w)
		res.CommitSHA, res.CommitSubject = commit, subject
		if err != nil {
			res.Error = err.Error()
			return res
		}
		image = built
	}
	res.Image = image

	if err := p.step(ctx, d.ID, "release", w); err != nil {
		res.Error = err.Error()
		return res
	}
	rctx, cancel := context.WithTimeout(ctx, p.cfg.ReleaseTimeout)
	defer cancel()
	network := EnvironmentNetwork(p.cfg.Instance, a)
	if err := p.rollout.EnsureNetwork(rctx, network, map[string]string{"dev.berth.environment": a.EnvironmentID.String()}); err != nil {
		res.Error = "release: " + err.Error()
		return res
	}
	if err := p.currentVolumes(rctx, &a); err != nil {
		res.Error = err.Error()
		return res
	}
	spec := ServiceSpec(p.cfg.Instance, p.cfg.ProxyNetwork, a, d, image, env)
	// Traefik follows the rollout task by task: a new task takes traffic
	// once Swarm runs it (healthy, when it has a health check), an old one
	// stops getting any as soon as Swarm decides to stop it, before Docker
	// signals it; afterwards the routes go back to Swarm's DNS.
	obs := swarm.Observer{Progress: w.Info, Network: p.cfg.ProxyNetwork}
	if p.routes != nil {
		obs.Serving = func(addrs []string) { p.routes.SetServing(spec.Name, addrs) }
	}
	result, err := p.rollout.DeployObserved(rctx, spec, obs)
	if err != nil {
		res.Error = "release: " + err.Error()
		if errors.Is(rctx.Err(), context.DeadlineExceeded) {
			res.Error = fmt.Sprintf("release: timed out after %s; %v", p.cfg.ReleaseTimeout, err)
		}
		return res
	}
	w.Info(fmt.Sprintf("released %s (%d replica(s)) in %s", image, a.Replicas, result.Duration.Round(time.Millisecond)))

	if err := p.step(ctx, d.ID, "route", w); err != nil {
		res.Error = err.Error()
		return res
	}
	if err := p.routes.Sync(ctx); err != nil {
		w.Info("warning: publishing routes failed: " + err.Error())
	}
	res.Status, res.Error = store.DeploymentSucceeded, ""
	w.Info("deployment succeeded")
	p.pruneReleases(context.WithoutCancel(ctx), a, image, w)
	return res
}

// sourceAndBuild fetches the repository and builds the image.
func (p *Pipeline) sourceAndBuild(ctx context.Context, d store.Deployment, a store.Application, access gitAccess, env map[string]string, w *deploylog.Writer) (image, commit, subject string, err error) {
	if err := p.step(ctx, d.ID, "source", w); err != nil {
		return "", "", "", err
	}
	dir := filepath.Join(p.cfg.WorkDir, d.ID.String())
	if err := os.MkdirAll(p.cfg.WorkDir, 0o700); err != nil {
		return "", "", "", fmt.Errorf("source: %w", err)
	}
	defer os.RemoveAll(dir)
	gp, err := p.plugins.GitProvider(ctx, access.provider)
	if err != nil {
		return "", "", "", fmt.Errorf("source: %w", err)
	}
	ref := a.GitRef
	if d.GitRef != "" {
		ref = d.GitRef
	}
	sctx, cancel := context.WithTimeout(ctx, p.cfg.SourceTimeout)
	defer cancel()
	w.Info(fmt.Sprintf("fetching %s at %s", a.GitRepository, refOrDefault(ref)))
	req := &sdk.FetchRequest{Repository: a.GitRepository, Ref: ref, Dir: dir, Depth: 1,
		Log: func(l sdk.LogLine) { w.Line("git", l.Text) }, Credentials: access.credentials}
	fetched, err := gp.Fetch(sctx, req)
	if err != nil {
		return "", "", "", timeoutErr("source", sctx, p.cfg.SourceTimeout, err)
	}
	w.Info(fmt.Sprintf("commit %s %s", short(fetched.Commit), fetched.Subject))

	if err := p.step(ctx, d.ID, "build", w); err != nil {
		return "", fetched.Commit, fetched.Subject, err
	}
	builderID := "builder." + a.BuildType
	b, err := p.plugins.Builder(ctx, builderID)
	if err != nil {
		return "", fetched.Commit, fetched.Subject, fmt.Errorf("build: %w", err)
	}
	tag := ImageTag(a, d)
	bctx, cancel := context.WithTimeout(ctx, p.cfg.BuildTimeout)
	defer cancel()
	w.Info(fmt.Sprintf("building %s with %s", tag, builderID))
	built, err := b.Build(bctx, &sdk.BuildRequest{SourceDir: dir, Settings: a.BuildSettings, Image: tag, Env: env,
		DockerHost: p.cfg.DockerHost, Log: func(l sdk.LogLine) { w.Line("build", l.Text) }})
	if err != nil {
		return "", fetched.Commit, fetched.Subject, timeoutErr("build", bctx, p.cfg.BuildTimeout, err)
	}
	image = built.Image
	if image == "" {
		image = tag
	}
	return image, fetched.Commit, fetched.Subject, nil
}

// ImageTag is the local image name of a deployment's build.
func ImageTag(a store.Application, d store.Deployment) string {
	id := strings.ReplaceAll(d.ID.String(), "-", "")
	return "berth/" + a.ServiceName + ":" + id[len(id)-12:]
}

func (p *Pipeline) step(ctx context.Context, id uuid.UUID, name string, w *deploylog.Writer) error {
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := p.store.BeginStep(context.WithoutCancel(ctx), id, name); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	w.Info("== " + name)
	if err := testhook.Pause(ctx, "deploy."+name); err != nil {
		return fmt.Errorf("%s: %w", name, context.Cause(ctx))
	}
	return nil
}

// environment resolves the application's variables.
func (p *Pipeline) environment(ctx context.Context, a store.Application) (env map[string]string, secrets []string, err error) {
	var l vars.Layers
	if l.Project, err = p.store.VariableMap(ctx, store.ScopeProject, a.ProjectID); err != nil {
		return nil, nil, err
	}
	if l.Environment, err = p.store.VariableMap(ctx, store.ScopeEnvironment, a.EnvironmentID); err != nil {
		return nil, nil, err
	}
	// A preview resolves its parent's variables at deploy time, so a
	// changed secret reaches the previews on their next deployment.
	owner := a.ID
	if a.PreviewOf != nil {
		owner = *a.PreviewOf
	}
	if l.Application, err = p.store.VariableMap(ctx, store.ScopeApplication, owner); err != nil {
		return nil, nil, err
	}
	env, err = vars.Resolve(l)
	if err != nil {
		return nil, nil, fmt.Errorf("variables: %w", err)
	}
	for _, v := range env {
		secrets = append(secrets, v)
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) }) // mask longest first
	return env, secrets, nil
}

// pruneReleases removes images of berth-built releases beyond the
// application's KeepReleases; images in use by a service are kept by Docker.
func (p *Pipeline) pruneReleases(ctx context.Context, a store.Application, current string, w *deploylog.Writer) {
	releases, err := p.store.Releases(ctx, a.ID, 1000)
	if err != nil {
		return
	}
	keep := map[string]bool{current: true}
	kept := 1
	for _, r := range releases {
		if keep[r.Image] {
			continue
		}
		if kept < a.KeepReleases {
			keep[r.Image] = true
			kept++
			continue
		}
		if !strings.HasPrefix(r.Image, "berth/") {
			continue // never remove images berth did not build
		}
		if err := p.images.RemoveImage(ctx, r.Image); err == nil {
			w.Info("removed old release image " + r.Image)
		}
	}
}

func refOrDefault(ref string) string {
	if ref == "" {
		return "the default branch"
	}
	return ref
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func timeoutErr(step string, ctx context.Context, limit time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: timed out after %s: %w", step, limit, err)
	}
	return fmt.Errorf("%s: %w", step, err)
}

// RemoveApplications removes the Swarm services of applications about to be
// deleted, then republishes routes.
func (p *Pipeline) RemoveApplications(ctx context.Context, apps []store.Application) error {
	for _, a := range apps {
		if err := p.rollout.Remove(ctx, a.ServiceName); err != nil {
			return fmt.Errorf("remove service of %s: %w", a.Name, err)
		}
	}
	return nil
}

// RemoveReleaseImages removes the images berth built for an application's
// releases (before the application itself is deleted).
func (p *Pipeline) RemoveReleaseImages(ctx context.Context, a store.Application) error {
	releases, err := p.store.Releases(ctx, a.ID, 1000)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range releases {
		if !strings.HasPrefix(r.Image, "berth/") {
			continue // never remove images berth did not build
		}
		if err := p.images.RemoveImage(ctx, r.Image); err != nil && !strings.Contains(err.Error(), "No such image") {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
