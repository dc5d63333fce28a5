// Package deploy is berth's deployment pipeline: one straight line from a
// queued deployment to a new version answering behind Traefik, as an
// ordered list of named steps (steps.go):
//
//	source (git provider plugin) -> build (builder plugin) -> release (Swarm,
//	start-first, health-gated, rolled back on failure; Traefik follows the
//	handoff task by task) -> route (proxy) -> report (commit status, old
//	release images)
//
// The enqueue side (Enqueuer: deploy, rollback, cancel) writes a
// deployment and its durable job (core/queue) in one transaction and needs
// only the store and a job writer; the worker side (Pipeline, run by
// Worker) runs the steps. One application deploys one at a time, in order;
// every step can have a timeout; a step's error is wrapped with its name
// and becomes the deployment's error text in one place (outcome);
// cancelling stops the build or rolls the release back, and the previous
// version keeps serving.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// JobControl inspects and cancels jobs (queue.Jobs); the pipeline uses it
// to settle deployments whose jobs will never run.
type JobControl interface {
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
	// Step timeouts (see steps).
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

// Pipeline is the worker side of deployments: it runs the jobs the
// Enqueuer queued, step by step.
type Pipeline struct {
	store   *store.Store
	hub     *deploylog.Hub
	plugins Plugins
	rollout Rollout
	images  Images
	routes  Routes
	events  EventEmitter
	queue   JobControl
	guard   OutboundGuard
	cfg     Config
	log     *slog.Logger

	releaser Releaser

	mu      sync.Mutex
	running map[uuid.UUID]context.CancelCauseFunc
	// retiring counts background retirements per application.
	retiring map[uuid.UUID]int
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
	// Releaser runs releases next to the running version with readiness
	// checks and a soak (core/release); nil uses Swarm's rolling update.
	Releaser Releaser
	// Jobs settles deployments whose jobs will never run (Recover); nil
	// leaves them queued.
	Jobs JobControl
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

// New returns the worker side of deployments; deployments are queued with
// an Enqueuer.
func New(d Deps, cfg Config) *Pipeline {
	cfg.defaults()
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Pipeline{store: d.Store, hub: d.Hub, plugins: d.Plugins, rollout: d.Rollout, images: d.Images,
		routes: d.Routes, events: d.Events, queue: d.Jobs, guard: d.Outbound, cfg: cfg, log: d.Logger,
		releaser: d.Releaser, running: map[uuid.UUID]context.CancelCauseFunc{}, retiring: map[uuid.UUID]int{}}
}

// Causes of a deployment's context cancellation (a user's cancellation
// arrives as river.ErrJobCancelledRemotely, see Enqueuer.CancelTx).
var (
	errShutdown = errors.New("berth was stopped during the deployment")
	errBusy     = errors.New("an earlier deployment of this application is still active")
)

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
	if d.Status == store.DeploymentCanary {
		return nil // promoted or aborted by its own jobs (Args.Op)
	}
	if d.Status == store.DeploymentQueued {
		if p.isRetiring(d.ApplicationID) {
			return errBusy
		}
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
		started, err := p.startDeployment(ctx, id)
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

	res, handoff := p.execute(ctx, d)
	if res.Status == store.DeploymentCanary {
		p.log.Info("canary release holds its share", "deployment", id)
		return nil
	}
	if err := p.finish(context.WithoutCancel(ctx), id, res); err != nil {
		return err
	}
	p.log.Info("deployment finished", "deployment", id, "status", res.Status, "error", res.Error)
	if handoff != nil {
		// Reported done: the new version serves; the old one is retired
		// now, recorded in the deployment's log and release report.
		p.retire(ctx, d.ApplicationID, handoff)
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

// RemoveApplications removes the Swarm services of applications about to be
// deleted, then republishes routes.
func (p *Pipeline) RemoveApplications(ctx context.Context, apps []store.Application) error {
	for _, a := range apps {
		for _, name := range []string{store.CandidateServiceName(a.ServiceName), a.ServiceName} {
			if err := p.rollout.Remove(ctx, name); err != nil {
				return fmt.Errorf("remove service of %s: %w", a.Name, err)
			}
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
