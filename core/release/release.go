// Package release hands an application's traffic from its running version
// to a new one without dropping a request, whatever the app does at start:
//
//  1. The new version starts as a candidate Swarm service next to the
//     running one, which is not touched.
//  2. berth checks each candidate task's readiness itself (core/readiness)
//     through Traefik; a task that exits before it is ready, or is not
//     ready in time, fails the release: the candidate is removed and the
//     previous version never stopped serving.
//  3. Soak: the ready tasks serve next to the old ones for a window; one
//     that stops meanwhile is taken out of the routes at once and fails
//     the release the same way.
//  4. The new version takes all the traffic (or, for a canary, a share):
//     the deployment is done.
//  5. Retire, in the background of the deployment: the application's own
//     service is updated to the new spec while the candidate serves, its
//     new tasks are checked, traffic goes back to Swarm's DNS for it, and
//     the candidate is removed (drained first: Traefik stops sending it
//     requests before Docker signals it, and it keeps its stop grace
//     period to finish in-flight and long-lived requests).
//
// While tasks are being replaced the routes list exact task addresses
// (core/routing's serving lists); at rest they use tasks.<service>.
package release

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/readiness"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// Swarm runs and follows services.
type Swarm interface {
	Create(ctx context.Context, spec swarm.ServiceSpec) error
	ServiceTasks(ctx context.Context, name, network string) ([]swarm.TaskView, error)
	ExplainTask(ctx context.Context, service, id string) string
	Remove(ctx context.Context, name string) error
	DeployObserved(ctx context.Context, spec swarm.ServiceSpec, obs swarm.Observer) (swarm.Result, error)
}

// Routes steers Traefik.
type Routes interface {
	// SetServing lists the task addresses a service's routes send to (nil:
	// Swarm's DNS).
	SetServing(service string, addrs []string)
	SetProbes(owner string, probes []proxy.Probe)
	// Sync publishes the configuration now.
	Sync(ctx context.Context) error
}

// Checker checks a task's readiness.
type Checker interface {
	Wait(ctx context.Context, t readiness.Target, r store.Readiness, alive func() error) (store.TaskReadiness, error)
}

// Engine runs releases.
type Engine struct {
	swarm   Swarm
	routes  Routes
	checker Checker
	// network is the proxy network, where task addresses are read.
	network string
	log     *slog.Logger
	// poll is how often tasks are looked at; settle is how long Traefik
	// takes to apply a published configuration (its file watch and
	// providersThrottleDuration), waited before counting on a change.
	poll, settle time.Duration
}

// New returns an Engine.
func New(sw Swarm, routes Routes, checker Checker, network string, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.Default()
	}
	return &Engine{swarm: sw, routes: routes, checker: checker, network: network, log: log,
		poll: 250 * time.Millisecond, settle: 700 * time.Millisecond}
}

// failureLimit is how many times candidate tasks may exit before they are
// ready before the release fails; pendingLimit how long one may stay
// unschedulable.
const (
	failureLimit = 3
	pendingLimit = 30 * time.Second
)

// Plan is one release.
type Plan struct {
	// Owner names the release (the deployment id), for its probes.
	Owner string
	// Spec is the application's service as it must run after the release.
	Spec swarm.ServiceSpec
	// Port is the application's HTTP port.
	Port int
	// Readiness is the check of each new task.
	Readiness store.Readiness
	// Soak is how long new tasks serve next to the old ones first.
	Soak time.Duration
	// Canary, when set, stops once the new version holds a share of the
	// traffic (see Canary).
	Canary *store.CanaryRequest
	// Progress receives human-readable lines (nil discards them).
	Progress func(string)
	// Record receives the report whenever it changes (nil discards it).
	Record func(store.ReleaseReport)
}

// Handoff is a release that took the traffic and still has old tasks to
// retire.
type Handoff struct {
	e      *Engine
	plan   Plan
	report store.ReleaseReport
	mu     sync.Mutex
}

// Report returns what the release did so far.
func (h *Handoff) Report() store.ReleaseReport {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.report
}

// FailedError is a release that failed while the previous version kept
// serving.
type FailedError struct {
	// Reason is for humans, e.g. "task x exited with code 1 during the soak".
	Reason string
}

// Error implements error.
func (e *FailedError) Error() string { return e.Reason + " (the previous version keeps serving)" }

// CandidateRelease runs the plan's new version as a candidate next to the
// running service and hands it the traffic (steps 1-4 of the package
// documentation). It returns once the new version serves all the traffic
// (or, with plan.Canary, its share), with the Handoff to retire the old
// version. On failure or when ctx ends the candidate is removed and the
// previous version, never stopped, keeps serving.
func (e *Engine) CandidateRelease(ctx context.Context, plan Plan) (*Handoff, error) {
	h := &Handoff{e: e, plan: plan, report: store.ReleaseReport{Strategy: "candidate"}}
	primary := plan.Spec.Name
	cand := plan.Spec
	cand.Name = store.CandidateServiceName(primary)
	cand.Labels = with(cand.Labels, LabelRole, RoleCandidate)
	h.emit(fmt.Sprintf("starting the new version as %s next to %s (%d replica(s), image %s)", cand.Name, primary, cand.Replicas, cand.Image))
	if err := e.swarm.Create(ctx, cand); err != nil {
		return nil, err
	}
	fail := func(err error) (*Handoff, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		e.routes.SetProbes(plan.Owner, nil)
		e.routes.SetServing(primary, nil)
		_ = e.routes.Sync(rctx)
		e.sleep(rctx, e.settle)
		if rerr := e.swarm.Remove(rctx, cand.Name); rerr != nil {
			e.log.Error("removing a failed release's candidate service", "service", cand.Name, "err", rerr)
		}
		h.mu.Lock()
		h.report.Serving = "previous"
		h.mu.Unlock()
		h.record()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("release cancelled: %w", context.Cause(ctx))
		}
		return nil, err
	}

	ready, err := e.awaitReady(ctx, h, cand.Name, cand.Replicas)
	if err != nil {
		return fail(err)
	}
	e.routes.SetProbes(plan.Owner, nil)
	if plan.Canary != nil {
		// The canary share comes from the stored canary state (weighted
		// DNS routes); the caller records it.
		h.emit(fmt.Sprintf("new version ready; the canary takes %d%% of the traffic", plan.Canary.Weight))
		return h, nil
	}
	if plan.Soak > 0 {
		if err := e.soak(ctx, h, primary, cand.Name, ready); err != nil {
			h.mu.Lock()
			h.report.Soak = "failed: " + err.Error()
			h.mu.Unlock()
			return fail(&FailedError{Reason: err.Error()})
		}
		h.mu.Lock()
		h.report.Soak = "passed"
		h.mu.Unlock()
	} else {
		h.mu.Lock()
		h.report.Soak = "skipped"
		h.mu.Unlock()
	}
	// All the traffic to the new version.
	tasks, err := e.swarm.ServiceTasks(ctx, cand.Name, e.network)
	if err != nil {
		return fail(err)
	}
	addrs := runningAddrs(tasks)
	if len(addrs) < len(ready) {
		return fail(&FailedError{Reason: "new tasks stopped as they took over"})
	}
	e.routes.SetServing(primary, addrs)
	if err := e.routes.Sync(ctx); err != nil {
		return fail(err)
	}
	e.sleep(ctx, e.settle)
	now := time.Now()
	h.mu.Lock()
	h.report.Serving, h.report.ServingAt = "new", &now
	h.mu.Unlock()
	h.record()
	h.emit("the new version serves all the traffic")
	return h, nil
}

// awaitReady waits until replicas candidate tasks run and passed the
// readiness check, and returns them (id -> address).
func (e *Engine) awaitReady(ctx context.Context, h *Handoff, service string, replicas uint64) (map[string]string, error) {
	type result struct {
		rep store.TaskReadiness
		err error
	}
	check := h.plan.Readiness.Effective()
	probing := map[string]readiness.Target{}
	ready := map[string]string{}
	failed := map[string]bool{}
	var failedMu sync.Mutex
	isFailed := func(id string) bool {
		failedMu.Lock()
		defer failedMu.Unlock()
		return failed[id]
	}
	results := make(chan result, 64)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	started := time.Now()
	deadline := started.Add(time.Duration(check.TimeoutSeconds)*time.Second + pendingLimit)
	tick := time.NewTicker(e.poll)
	defer tick.Stop()
	var lastFailed string
	// history holds the tasks that had ended before the wait began (an
	// existing service's past tasks): their failures are not this
	// release's.
	var history map[string]bool
	for {
		tasks, err := e.swarm.ServiceTasks(ctx, service, e.network)
		if err != nil {
			return nil, err
		}
		if history == nil {
			history = map[string]bool{}
			for _, t := range tasks {
				if t.Stopped {
					history[t.ID] = true
				}
			}
		}
		byID := map[string]swarm.TaskView{}
		for _, t := range tasks {
			if history[t.ID] {
				continue
			}
			byID[t.ID] = t
			switch {
			case t.Failed && !isFailed(t.ID):
				failedMu.Lock()
				failed[t.ID] = true
				failedMu.Unlock()
				lastFailed = t.ID
				delete(ready, t.ID)
				h.emit(fmt.Sprintf("new task %s stopped: %s", short(t.ID), e.swarm.ExplainTask(ctx, service, t.ID)))
			case t.Pending != "" && time.Since(t.CreatedAt) > pendingLimit:
				return nil, &FailedError{Reason: fmt.Sprintf("new task %s cannot be scheduled: %s", short(t.ID), t.Pending)}
			case t.Running && t.Address != "" && check.Mode == store.ReadinessNone && ready[t.ID] == "":
				ready[t.ID] = t.Address
				h.addReadiness(store.TaskReadiness{Task: t.ID, Address: t.Address, ReadyMS: max(time.Since(started).Milliseconds(), 1)})
				h.emit(fmt.Sprintf("new task %s runs", short(t.ID)))
			case t.Running && t.Address != "" && check.Mode != store.ReadinessNone:
				if _, ok := probing[t.ID]; ok {
					break
				}
				target := readiness.Target{Task: t.ID, Address: t.Address, Port: h.plan.Port}
				probing[t.ID] = target
				e.routes.SetProbes(h.plan.Owner, probesOf(probing))
				h.emit(fmt.Sprintf("new task %s runs at %s; checking readiness (%s)", short(t.ID), t.Address, describe(check)))
				id := t.ID
				wg.Add(1)
				go func() {
					defer wg.Done()
					rep, err := e.checker.Wait(cctx, target, check, func() error {
						if isFailed(id) {
							return errors.New("the task stopped")
						}
						return nil
					})
					results <- result{rep, err}
				}()
			}
		}
		if len(failed) >= failureLimit || (len(failed) > 0 && check.Mode == store.ReadinessNone) {
			return nil, &FailedError{Reason: "new version failed: " + e.swarm.ExplainTask(ctx, service, lastFailed)}
		}
		for drained := false; !drained; {
			select {
			case r := <-results:
				h.addReadiness(r.rep)
				if r.err != nil {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					if !isFailed(r.rep.Task) {
						return nil, &FailedError{Reason: "new version never became ready: " + r.err.Error()}
					}
					continue
				}
				if t, ok := byID[r.rep.Task]; ok && t.Running {
					ready[r.rep.Task] = t.Address
					h.emit(fmt.Sprintf("new task %s ready after %d check(s) (%s)", short(r.rep.Task), r.rep.Attempts, r.rep.Last))
				}
			default:
				drained = true
			}
		}
		// Only tasks still running count.
		for id := range ready {
			if t, ok := byID[id]; !ok || !t.Running {
				delete(ready, id)
			}
		}
		if uint64(len(ready)) >= replicas {
			return ready, nil
		}
		if time.Now().After(deadline) {
			return nil, &FailedError{Reason: fmt.Sprintf("new version not ready after %s (%d of %d task(s) ready)", time.Since(started).Round(time.Second), len(ready), replicas)}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// soak serves old and new tasks together for the plan's window; a new task
// that stops meanwhile is taken out of the routes at once and fails it.
func (e *Engine) soak(ctx context.Context, h *Handoff, primary, cand string, ready map[string]string) error {
	h.emit(fmt.Sprintf("soak: old and new tasks serve together for %s", h.plan.Soak))
	var last []string
	publish := func() ([]swarm.TaskView, error) {
		old, err := e.swarm.ServiceTasks(ctx, primary, e.network)
		if err != nil {
			return nil, err
		}
		now, err := e.swarm.ServiceTasks(ctx, cand, e.network)
		if err != nil {
			return nil, err
		}
		addrs := append(runningAddrs(old), runningAddrs(now)...)
		slices.Sort(addrs)
		if !slices.Equal(addrs, last) {
			last = addrs
			e.routes.SetServing(primary, addrs)
			if err := e.routes.Sync(ctx); err != nil {
				return nil, err
			}
		}
		return now, nil
	}
	end := time.Now().Add(e.settle + h.plan.Soak)
	tick := time.NewTicker(e.poll)
	defer tick.Stop()
	for {
		tasks, err := publish()
		if err != nil {
			return err
		}
		for id := range ready {
			t, ok := find(tasks, id)
			if !ok || !t.Running {
				// Out of the routes before anything else.
				e.routes.SetServing(primary, runningAddrsOf(ctx, e, primary))
				_ = e.routes.Sync(ctx)
				return fmt.Errorf("new task %s stopped during the soak: %s", short(id), e.swarm.ExplainTask(ctx, cand, id))
			}
		}
		if time.Now().After(end) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Retire finishes a release that took the traffic (step 5 of the package
// documentation): the application's service is updated to the new spec
// while the candidate serves, its tasks are checked, the routes go back
// to Swarm's DNS, and the candidate is drained and removed. Until it
// returns, the candidate serves.
func (h *Handoff) Retire(ctx context.Context) error {
	e, plan := h.e, h.plan
	primary := plan.Spec.Name
	cand := store.CandidateServiceName(primary)
	h.emit("retiring the old version: updating " + primary + " to the new version while " + cand + " serves")
	obs := swarm.Observer{Progress: func(line string) { h.emit(primary + ": " + line) }}
	if _, err := e.swarm.DeployObserved(ctx, plan.Spec, obs); err != nil {
		return h.retired(fmt.Errorf("updating %s failed; %s keeps serving the new version: %w", primary, cand, err))
	}
	// The updated service's tasks are checked like the candidate's before
	// they take traffic.
	subPlan := plan
	subPlan.Owner, subPlan.Record = plan.Owner+"-p", nil
	sub := &Handoff{e: e, plan: subPlan}
	if _, err := e.awaitReady(ctx, sub, primary, plan.Spec.Replicas); err != nil {
		e.routes.SetProbes(sub.plan.Owner, nil)
		return h.retired(fmt.Errorf("the updated %s is not ready; %s keeps serving the new version: %w", primary, cand, err))
	}
	e.routes.SetProbes(sub.plan.Owner, nil)
	// Back to DNS: tasks.<primary> now lists only the updated tasks.
	e.routes.SetServing(primary, nil)
	if err := e.routes.Sync(ctx); err != nil {
		return h.retired(err)
	}
	e.sleep(ctx, e.settle)
	h.emit("draining " + cand + " (stop grace " + plan.Spec.StopGracePeriod.String() + ")")
	if err := e.swarm.Remove(ctx, cand); err != nil {
		return h.retired(err)
	}
	return h.retired(nil)
}

func (h *Handoff) retired(err error) error {
	now := time.Now()
	h.mu.Lock()
	h.report.RetiredAt = &now
	if err != nil {
		h.report.Retire = "failed: " + err.Error()
	} else {
		h.report.Retire = "done"
	}
	h.mu.Unlock()
	h.record()
	if err != nil {
		h.emit("retiring the old version failed: " + err.Error())
		return err
	}
	h.emit("old version retired")
	return nil
}

// Abandon removes the candidate of a release that holds a canary share,
// sending all the traffic back to the running version.
func (e *Engine) Abandon(ctx context.Context, primary string) error {
	e.routes.SetServing(primary, nil)
	if err := e.routes.Sync(ctx); err != nil {
		return err
	}
	e.sleep(ctx, e.settle)
	return e.swarm.Remove(ctx, store.CandidateServiceName(primary))
}

// Promote sends all the traffic of a canary's application to its
// candidate; Retire (of the returned Handoff) finishes.
func (e *Engine) Promote(ctx context.Context, plan Plan) (*Handoff, error) {
	h := &Handoff{e: e, plan: plan, report: store.ReleaseReport{Strategy: "candidate"}}
	cand := store.CandidateServiceName(plan.Spec.Name)
	tasks, err := e.swarm.ServiceTasks(ctx, cand, e.network)
	if err != nil {
		return nil, err
	}
	addrs := runningAddrs(tasks)
	if len(addrs) == 0 {
		return nil, &FailedError{Reason: "the canary runs no task"}
	}
	e.routes.SetServing(plan.Spec.Name, addrs)
	if err := e.routes.Sync(ctx); err != nil {
		return nil, err
	}
	e.sleep(ctx, e.settle)
	now := time.Now()
	h.report.Serving, h.report.ServingAt = "new", &now
	h.emit("the canary serves all the traffic")
	return h, nil
}

func (h *Handoff) emit(line string) {
	if h.plan.Progress != nil {
		h.plan.Progress(line)
	}
}

func (h *Handoff) addReadiness(r store.TaskReadiness) {
	h.mu.Lock()
	i := slices.IndexFunc(h.report.Readiness, func(x store.TaskReadiness) bool { return x.Task == r.Task })
	if i >= 0 {
		h.report.Readiness[i] = r
	} else {
		h.report.Readiness = append(h.report.Readiness, r)
	}
	h.mu.Unlock()
	h.record()
}

func (h *Handoff) record() {
	if h.plan.Record != nil {
		h.plan.Record(h.Report())
	}
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Labels berth puts on a candidate service.
const (
	// LabelRole says what a service is to its application.
	LabelRole = "dev.berth.role"
	// RoleCandidate marks a new release running next to the application's
	// own service.
	RoleCandidate = "candidate"
)

func with(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

func probesOf(targets map[string]readiness.Target) []proxy.Probe {
	out := make([]proxy.Probe, 0, len(targets))
	for _, t := range targets {
		out = append(out, t.Probe())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func runningAddrs(tasks []swarm.TaskView) []string {
	var out []string
	for _, t := range tasks {
		if t.Running && t.Address != "" {
			out = append(out, t.Address)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func runningAddrsOf(ctx context.Context, e *Engine, service string) []string {
	tasks, err := e.swarm.ServiceTasks(ctx, service, e.network)
	if err != nil {
		return nil
	}
	return runningAddrs(tasks)
}

func find(tasks []swarm.TaskView, id string) (swarm.TaskView, bool) {
	for _, t := range tasks {
		if t.ID == id {
			return t, true
		}
	}
	return swarm.TaskView{}, false
}

func describe(r store.Readiness) string {
	if r.Mode == store.ReadinessHTTP {
		return fmt.Sprintf("GET %s answers %d-%d", r.Path, r.StatusMin, r.StatusMax)
	}
	return "the port answers HTTP"
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// CheckReady checks the readiness of the tasks of the plan's service after
// Swarm started them itself (a first release, or a version that cannot
// run next to the old one), recording each check in the report.
func (e *Engine) CheckReady(ctx context.Context, plan Plan, rep *store.ReleaseReport) error {
	h := &Handoff{e: e, plan: plan}
	h.plan.Record = nil
	defer e.routes.SetProbes(plan.Owner, nil)
	_, err := e.awaitReady(ctx, h, plan.Spec.Name, plan.Spec.Replicas)
	rep.Readiness = h.Report().Readiness
	return err
}
