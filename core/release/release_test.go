package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/readiness"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// fake plays Swarm, the routes and the readiness checker at once, and
// records what the engine asked of them in one ordered log.
type fake struct {
	mu       sync.Mutex
	events   []string
	services map[string][]swarm.TaskView
	lists    map[string]int
	created  []swarm.ServiceSpec
	deployed []swarm.ServiceSpec
	removed  []string
	checked  []readiness.Target
	// removeCtxErr is ctx.Err() as Remove saw it.
	removeCtxErr []error

	// Hooks, called without the lock held.
	onCreate  func(spec swarm.ServiceSpec) []swarm.TaskView
	onList    func(name string, n int)
	onDeploy  func(spec swarm.ServiceSpec) error
	onServing func(service string, addrs []string)
	onProbes  func(owner string, probes []proxy.Probe)
	check     func(ctx context.Context, t readiness.Target, alive func() error) (store.TaskReadiness, error)
}

func newFake() *fake {
	return &fake{services: map[string][]swarm.TaskView{}, lists: map[string]int{}}
}

func (f *fake) log(format string, args ...any) {
	f.mu.Lock()
	f.events = append(f.events, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func (f *fake) setTasks(name string, tasks ...swarm.TaskView) {
	f.mu.Lock()
	f.services[name] = tasks
	f.mu.Unlock()
}

// stop marks task id of service name as ended on its own.
func (f *fake) stop(name, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, t := range f.services[name] {
		if t.ID == id {
			f.services[name][i] = swarm.TaskView{ID: t.ID, Stopped: true, Failed: true, Address: t.Address}
		}
	}
}

func (f *fake) Create(ctx context.Context, spec swarm.ServiceSpec) error {
	f.log("create %s", spec.Name)
	f.mu.Lock()
	f.created = append(f.created, spec)
	f.mu.Unlock()
	if f.onCreate != nil {
		f.setTasks(spec.Name, f.onCreate(spec)...)
	}
	return nil
}

func (f *fake) ServiceTasks(ctx context.Context, name, network string) ([]swarm.TaskView, error) {
	if network != "proxy" {
		return nil, fmt.Errorf("network %q, want proxy", network)
	}
	f.mu.Lock()
	f.lists[name]++
	n := f.lists[name]
	f.mu.Unlock()
	if f.onList != nil {
		f.onList(name, n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.services[name]), nil
}

func (f *fake) ExplainTask(ctx context.Context, service, id string) string {
	return "task " + id + " exited with code 1"
}

func (f *fake) Remove(ctx context.Context, name string) error {
	f.log("remove %s", name)
	f.mu.Lock()
	f.removed = append(f.removed, name)
	f.removeCtxErr = append(f.removeCtxErr, ctx.Err())
	delete(f.services, name)
	f.mu.Unlock()
	return nil
}

func (f *fake) DeployObserved(ctx context.Context, spec swarm.ServiceSpec, obs swarm.Observer) (swarm.Result, error) {
	f.log("deploy %s", spec.Name)
	f.mu.Lock()
	f.deployed = append(f.deployed, spec)
	f.mu.Unlock()
	if f.onDeploy != nil {
		if err := f.onDeploy(spec); err != nil {
			return swarm.Result{}, err
		}
	}
	return swarm.Result{Image: spec.Image, Replicas: spec.Replicas}, nil
}

func (f *fake) SetServing(service string, addrs []string) {
	if addrs == nil {
		f.log("serving %s dns", service)
	} else {
		f.log("serving %s %s", service, strings.Join(addrs, ","))
	}
	if f.onServing != nil {
		f.onServing(service, addrs)
	}
}

func (f *fake) SetProbes(owner string, probes []proxy.Probe) {
	ids := make([]string, 0, len(probes))
	for _, p := range probes {
		ids = append(ids, p.ID)
	}
	f.log("probes %s [%s]", owner, strings.Join(ids, ","))
	if f.onProbes != nil {
		f.onProbes(owner, probes)
	}
}

func (f *fake) Sync(ctx context.Context) error {
	f.log("sync")
	return nil
}

func (f *fake) Wait(ctx context.Context, t readiness.Target, r store.Readiness, alive func() error) (store.TaskReadiness, error) {
	f.mu.Lock()
	f.checked = append(f.checked, t)
	f.mu.Unlock()
	if f.check != nil {
		return f.check(ctx, t, alive)
	}
	return store.TaskReadiness{Task: t.Task, Address: t.Address, Attempts: 1, Last: "HTTP 200", ReadyMS: 1}, nil
}

// waitStopped is a check that never succeeds: it ends when alive says the
// task stopped or ctx ends.
func waitStopped(ctx context.Context, t readiness.Target, alive func() error) (store.TaskReadiness, error) {
	rep := store.TaskReadiness{Task: t.Task, Address: t.Address}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		if err := alive(); err != nil {
			rep.Error = err.Error()
			return rep, err
		}
		select {
		case <-ctx.Done():
			rep.Error = ctx.Err().Error()
			return rep, ctx.Err()
		case <-tick.C:
		}
	}
}

// snapshot returns the events so far.
func (f *fake) snapshot() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

// matching returns the events starting with prefix, in order.
func matching(events []string, prefix string) []string {
	var out []string
	for _, e := range events {
		if strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func index(events []string, e string) int { return slices.Index(events, e) }

func lastIndex(events []string, e string) int {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i] == e {
			return i
		}
	}
	return -1
}

const (
	primary = "shop-web-1a2b3c4d5"
	owner   = "dep1"
)

var cand = store.CandidateServiceName(primary)

func running(id, addr string) swarm.TaskView {
	return swarm.TaskView{ID: id, Running: true, Address: addr, CreatedAt: time.Now()}
}

// setup returns an engine with fast polls over a fake whose primary runs
// p1 and p2 and whose candidates start c1 and c2.
func setup() (*Engine, *fake) {
	f := newFake()
	f.setTasks(primary, running("p1", "10.0.0.1"), running("p2", "10.0.0.2"))
	f.onCreate = func(spec swarm.ServiceSpec) []swarm.TaskView {
		return []swarm.TaskView{running("c1", "10.0.1.1"), running("c2", "10.0.1.2")}
	}
	e := New(f, f, f, "proxy", slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.poll, e.settle = time.Millisecond, time.Millisecond
	return e, f
}

// recorder collects a plan's progress lines and reports.
type recorder struct {
	mu      sync.Mutex
	lines   []string
	reports []store.ReleaseReport
}

func (r *recorder) plan(p Plan) Plan {
	p.Progress = func(l string) { r.mu.Lock(); r.lines = append(r.lines, l); r.mu.Unlock() }
	p.Record = func(rep store.ReleaseReport) { r.mu.Lock(); r.reports = append(r.reports, rep); r.mu.Unlock() }
	return p
}

func (r *recorder) last() store.ReleaseReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reports) == 0 {
		return store.ReleaseReport{}
	}
	return r.reports[len(r.reports)-1]
}

func basePlan(soak time.Duration, mode string) Plan {
	return Plan{
		Owner: owner,
		Spec: swarm.ServiceSpec{Name: primary, Image: "shop:2", Replicas: 2, Labels: map[string]string{"team": "a"},
			StopGracePeriod: 10 * time.Second},
		Port:      8080,
		Readiness: store.Readiness{Mode: mode},
		Soak:      soak,
	}
}

const (
	both    = "serving " + primary + " 10.0.0.1,10.0.0.2,10.0.1.1,10.0.1.2"
	newOnly = "serving " + primary + " 10.0.1.1,10.0.1.2"
	dns     = "serving " + primary + " dns"
)

// TestCandidateRelease: the new version runs as the candidate, its tasks
// are checked through probes that are cleared before it takes traffic,
// old and new serve together during the soak, then the new alone.
func TestCandidateRelease(t *testing.T) {
	tests := []struct {
		name        string
		mode        string
		soak        time.Duration
		wantServing []string
		wantSoak    string
		wantChecks  int
	}{
		{"port check and soak", store.ReadinessPort, 30 * time.Millisecond, []string{both, newOnly}, "passed", 2},
		{"http check without soak", store.ReadinessHTTP, 0, []string{newOnly}, "skipped", 2},
		{"no check", store.ReadinessNone, 20 * time.Millisecond, []string{both, newOnly}, "passed", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, f := setup()
			var rec recorder
			plan := rec.plan(basePlan(tt.soak, tt.mode))
			start := time.Now()
			h, err := e.CandidateRelease(context.Background(), plan)
			if err != nil {
				t.Fatalf("CandidateRelease: %v", err)
			}
			if took := time.Since(start); took < tt.soak {
				t.Errorf("release took %s, less than the soak %s", took, tt.soak)
			}
			if len(f.created) != 1 {
				t.Fatalf("created %d services, want 1", len(f.created))
			}
			c := f.created[0]
			if c.Name != cand || c.Image != "shop:2" || c.Replicas != 2 || c.Labels[LabelRole] != RoleCandidate || c.Labels["team"] != "a" {
				t.Errorf("candidate spec %+v: want %s, the plan's image and replicas, its labels and the role label", c, cand)
			}
			if _, ok := plan.Spec.Labels[LabelRole]; ok {
				t.Error("the plan's own labels got the role label")
			}
			ev := f.snapshot()
			if got := matching(ev, "serving "); !slices.Equal(got, tt.wantServing) {
				t.Errorf("serving lists %q, want %q", got, tt.wantServing)
			}
			for i, e := range ev {
				if strings.HasPrefix(e, "serving ") && (i+1 >= len(ev) || ev[i+1] != "sync") {
					t.Errorf("%q is not published at once (events %q)", e, ev)
				}
			}
			if len(f.removed) != 0 {
				t.Errorf("removed %q", f.removed)
			}
			if len(f.checked) != tt.wantChecks {
				t.Errorf("checked %d tasks, want %d", len(f.checked), tt.wantChecks)
			}
			for _, c := range f.checked {
				if c.Port != 8080 || (c.Task != "c1" && c.Task != "c2") {
					t.Errorf("checked %+v, want a candidate task on port 8080", c)
				}
			}
			probes := matching(ev, "probes ")
			if tt.wantChecks > 0 {
				if !slices.Contains(probes, "probes dep1 [tc1,tc2]") {
					t.Errorf("probes %q: want both candidate tasks' probes registered", probes)
				}
			}
			if n := len(probes); n == 0 || probes[n-1] != "probes dep1 []" {
				t.Errorf("probes %q: want them cleared at the end", probes)
			}
			if first := slices.IndexFunc(ev, func(e string) bool { return strings.HasPrefix(e, "serving ") }); first < lastIndex(ev, "probes dep1 []") {
				t.Errorf("traffic moved before the probes were cleared: %q", ev)
			}
			rep := h.Report()
			if rep.Strategy != "candidate" || rep.Serving != "new" || rep.Soak != tt.wantSoak || rep.ServingAt == nil || len(rep.Readiness) != 2 {
				t.Errorf("report %+v: want candidate, serving new, soak %s, serving_at and 2 readiness entries", rep, tt.wantSoak)
			}
			for _, r := range rep.Readiness {
				if r.ReadyMS < 1 || r.Error != "" {
					t.Errorf("readiness %+v, want ready", r)
				}
			}
			if last := rec.last(); last.Serving != "new" || len(last.Readiness) != 2 {
				t.Errorf("last recorded report %+v, want serving new", last)
			}
		})
	}
}

// TestCandidateReleaseFails: a release that fails before it took the
// traffic removes the candidate and sends the routes back to DNS; the
// previous version kept serving all along.
func TestCandidateReleaseFails(t *testing.T) {
	tests := []struct {
		name string
		mode string
		// prepare scripts the fake.
		prepare func(f *fake)
		reason  string
	}{
		{"tasks exit before they are ready", store.ReadinessPort, func(f *fake) {
			// Swarm starts a new task each time the last one exited.
			f.onCreate = nil
			f.onList = func(name string, n int) {
				if name != cand {
					return
				}
				var tasks []swarm.TaskView
				for i := 1; i < n; i++ {
					tasks = append(tasks, swarm.TaskView{ID: fmt.Sprintf("f%d", i), Stopped: true, Failed: true})
				}
				tasks = append(tasks, running(fmt.Sprintf("f%d", n), fmt.Sprintf("10.0.2.%d", n)))
				f.setTasks(cand, tasks...)
			}
			f.check = waitStopped
		}, "new version failed: task f3 exited with code 1"},
		{"never ready", store.ReadinessHTTP, func(f *fake) {
			f.check = func(ctx context.Context, t readiness.Target, alive func() error) (store.TaskReadiness, error) {
				err := errors.New("task " + t.Task + " not ready after 300s")
				return store.TaskReadiness{Task: t.Task, Address: t.Address, Attempts: 9, Error: err.Error()}, err
			}
		}, "new version never became ready: task c"},
		{"without a check, a task that exits fails at once", store.ReadinessNone, func(f *fake) {
			f.onCreate = func(spec swarm.ServiceSpec) []swarm.TaskView {
				return []swarm.TaskView{running("c1", "10.0.1.1"), {ID: "c2", Pending: "preparing", CreatedAt: time.Now()}}
			}
			f.onList = func(name string, n int) {
				if name == cand && n == 2 {
					f.stop(cand, "c2")
				}
			}
		}, "new version failed: task c2 exited with code 1"},
		{"cannot be scheduled", store.ReadinessPort, func(f *fake) {
			f.onCreate = func(spec swarm.ServiceSpec) []swarm.TaskView {
				return []swarm.TaskView{running("c1", "10.0.1.1"),
					{ID: "c2", Pending: "no suitable node", CreatedAt: time.Now().Add(-pendingLimit - time.Second)}}
			}
		}, "new task c2 cannot be scheduled: no suitable node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, f := setup()
			tt.prepare(f)
			var rec recorder
			h, err := e.CandidateRelease(context.Background(), rec.plan(basePlan(time.Second, tt.mode)))
			var failed *FailedError
			if !errors.As(err, &failed) {
				t.Fatalf("CandidateRelease = %v, want a *FailedError", err)
			}
			if h != nil {
				t.Error("a failed release returned a Handoff")
			}
			if !strings.Contains(failed.Reason, tt.reason) {
				t.Errorf("reason %q does not say %q", failed.Reason, tt.reason)
			}
			if !strings.HasSuffix(err.Error(), "(the previous version keeps serving)") {
				t.Errorf("error %q does not say the previous version keeps serving", err)
			}
			checkRolledBack(t, f)
			if got := matching(f.snapshot(), "serving "); !slices.Equal(got, []string{dns}) {
				t.Errorf("serving lists %q: the candidate must never have served", got)
			}
			if rep := rec.last(); rep.Serving != "previous" {
				t.Errorf("recorded report %+v, want serving previous", rep)
			}
		})
	}
}

// checkRolledBack checks that the candidate was removed after the routes
// went back to DNS and the probes were cleared, with a live context.
func checkRolledBack(t *testing.T, f *fake) {
	t.Helper()
	ev := f.snapshot()
	if !slices.Equal(f.removed, []string{cand}) {
		t.Errorf("removed %q, want the candidate", f.removed)
	}
	for _, err := range f.removeCtxErr {
		if err != nil {
			t.Errorf("the candidate was removed with a dead context: %v", err)
		}
	}
	rm, back := index(ev, "remove "+cand), lastIndex(ev, dns)
	if back < 0 || rm < back {
		t.Errorf("events %q: want the routes back to DNS before the candidate is removed", ev)
	}
	if probes := matching(ev, "probes "); len(probes) > 0 && probes[len(probes)-1] != "probes dep1 []" {
		t.Errorf("probes %q: want them cleared", probes)
	}
}

// TestSoakTaskStops: a ready task that stops during the soak leaves the
// serving list at once, and the release fails.
func TestSoakTaskStops(t *testing.T) {
	e, f := setup()
	var stopped sync.Once
	f.onServing = func(service string, addrs []string) {
		if slices.Contains(addrs, "10.0.1.2") {
			stopped.Do(func() { f.stop(cand, "c2") })
		}
	}
	var rec recorder
	start := time.Now()
	_, err := e.CandidateRelease(context.Background(), rec.plan(basePlan(10*time.Second, store.ReadinessPort)))
	var failed *FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("CandidateRelease = %v, want a *FailedError", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the failure took %s: the soak was not cut short", took)
	}
	if !strings.Contains(failed.Reason, "new task c2 stopped during the soak: task c2 exited with code 1") {
		t.Errorf("reason %q", failed.Reason)
	}
	ev := f.snapshot()
	serving := matching(ev, "serving ")
	i := index(serving, both)
	if i < 0 || i+1 >= len(serving) {
		t.Fatalf("serving lists %q: want old and new, then more", serving)
	}
	if strings.Contains(serving[i+1], "10.0.1.2") {
		t.Errorf("serving lists %q: the stopped task stayed in the next one", serving)
	}
	if serving[len(serving)-1] != dns {
		t.Errorf("serving lists %q: want DNS at the end", serving)
	}
	if slices.Contains(serving, newOnly) {
		t.Errorf("serving lists %q: the new version took all the traffic", serving)
	}
	checkRolledBack(t, f)
	rep := rec.last()
	if !strings.HasPrefix(rep.Soak, "failed: new task c2 stopped during the soak") || rep.Serving != "previous" {
		t.Errorf("report %+v: want the soak failed and the previous version serving", rep)
	}
}

// TestCandidateReleaseCancelled: when ctx ends, the candidate is removed
// (with a context of its own) and the error wraps the cause.
func TestCandidateReleaseCancelled(t *testing.T) {
	cause := errors.New("server shutting down")
	tests := []struct {
		name string
		// arm cancels at some point of the release.
		arm func(f *fake, cancel func())
	}{
		{"while checking readiness", func(f *fake, cancel func()) {
			f.check = waitStopped
			f.onProbes = func(owner string, probes []proxy.Probe) {
				if len(probes) > 0 {
					cancel()
				}
			}
		}},
		{"during the soak", func(f *fake, cancel func()) {
			f.onServing = func(service string, addrs []string) {
				if slices.Contains(addrs, "10.0.1.1") {
					cancel()
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, f := setup()
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			tt.arm(f, func() { cancel(cause) })
			var rec recorder
			h, err := e.CandidateRelease(ctx, rec.plan(basePlan(10*time.Second, store.ReadinessPort)))
			if !errors.Is(err, cause) || !strings.Contains(err.Error(), "release cancelled") {
				t.Fatalf("CandidateRelease = %v, want a cancelled release wrapping the cause", err)
			}
			if h != nil {
				t.Error("a cancelled release returned a Handoff")
			}
			checkRolledBack(t, f)
			if slices.Contains(matching(f.snapshot(), "serving "), newOnly) {
				t.Error("the new version took all the traffic")
			}
			if rep := rec.last(); rep.Serving != "previous" {
				t.Errorf("recorded report %+v, want serving previous", rep)
			}
		})
	}
}

// TestCandidateReleaseCanary: a canary release returns once its tasks are
// ready, without changing the serving lists.
func TestCandidateReleaseCanary(t *testing.T) {
	e, f := setup()
	plan := basePlan(time.Second, store.ReadinessPort)
	plan.Canary = &store.CanaryRequest{Weight: 10}
	h, err := e.CandidateRelease(context.Background(), plan)
	if err != nil {
		t.Fatalf("CandidateRelease: %v", err)
	}
	ev := f.snapshot()
	if got := matching(ev, "serving "); len(got) != 0 {
		t.Errorf("serving lists %q, want none", got)
	}
	if len(f.removed) != 0 || len(f.checked) != 2 {
		t.Errorf("removed %q, checked %d tasks: want nothing removed and both tasks checked", f.removed, len(f.checked))
	}
	if probes := matching(ev, "probes "); probes[len(probes)-1] != "probes dep1 []" {
		t.Errorf("probes %q: want them cleared", probes)
	}
	if rep := h.Report(); rep.Serving != "" || rep.Soak != "" || len(rep.Readiness) != 2 {
		t.Errorf("report %+v: want two readiness entries and nothing served yet", rep)
	}
}

// released runs a successful release without soak and returns its
// Handoff with the fake's log cleared.
func released(t *testing.T, rec *recorder) (*Engine, *fake, *Handoff) {
	t.Helper()
	e, f := setup()
	h, err := e.CandidateRelease(context.Background(), rec.plan(basePlan(0, store.ReadinessPort)))
	if err != nil {
		t.Fatalf("CandidateRelease: %v", err)
	}
	f.mu.Lock()
	f.events, f.checked = nil, nil
	f.mu.Unlock()
	return e, f, h
}

// TestRetire: the primary is updated to the new spec, its new tasks are
// checked, the routes go back to DNS and only then the candidate is
// removed.
func TestRetire(t *testing.T) {
	var rec recorder
	_, f, h := released(t, &rec)
	f.onDeploy = func(spec swarm.ServiceSpec) error {
		f.setTasks(primary, swarm.TaskView{ID: "p1", Stopped: true}, swarm.TaskView{ID: "p2", Stopped: true},
			running("p3", "10.0.0.3"), running("p4", "10.0.0.4"))
		return nil
	}
	if err := h.Retire(context.Background()); err != nil {
		t.Fatalf("Retire: %v", err)
	}
	if len(f.deployed) != 1 || f.deployed[0].Name != primary || f.deployed[0].Image != "shop:2" || f.deployed[0].Labels[LabelRole] != "" {
		t.Errorf("deployed %+v, want the primary's own spec", f.deployed)
	}
	var checked []string
	for _, c := range f.checked {
		checked = append(checked, c.Task)
	}
	slices.Sort(checked)
	if !slices.Equal(checked, []string{"p3", "p4"}) {
		t.Errorf("checked %q, want the primary's new tasks", checked)
	}
	ev := f.snapshot()
	want := []string{"deploy " + primary, "probes dep1-p [tp3,tp4]", "probes dep1-p []", dns, "sync", "remove " + cand}
	if got := filterOut(ev, "probes dep1-p [tp3]", "probes dep1-p [tp4]"); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	rep := h.Report()
	if rep.Retire != "done" || rep.RetiredAt == nil || rep.Serving != "new" {
		t.Errorf("report %+v: want retire done, retired_at and serving new", rep)
	}
	if last := rec.last(); last.Retire != "done" {
		t.Errorf("recorded report %+v, want retire done", last)
	}
}

func filterOut(events []string, drop ...string) []string {
	var out []string
	for _, e := range events {
		if !slices.Contains(drop, e) {
			out = append(out, e)
		}
	}
	return out
}

// TestRetireFails: when the primary cannot be updated or its new tasks are
// not ready, the candidate keeps serving and the report says why.
func TestRetireFails(t *testing.T) {
	boom := errors.New("update paused")
	tests := []struct {
		name    string
		prepare func(f *fake)
		is      error
		says    string
	}{
		{"update fails", func(f *fake) {
			f.onDeploy = func(swarm.ServiceSpec) error { return boom }
		}, boom, "updating " + primary + " failed; " + cand + " keeps serving the new version: update paused"},
		{"updated tasks never ready", func(f *fake) {
			f.check = func(ctx context.Context, t readiness.Target, alive func() error) (store.TaskReadiness, error) {
				return store.TaskReadiness{Task: t.Task}, errors.New("not ready after 300s")
			}
		}, nil, "the updated " + primary + " is not ready; " + cand + " keeps serving the new version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			_, f, h := released(t, &rec)
			tt.prepare(f)
			err := h.Retire(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.says) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("Retire = %v, want an error saying %q", err, tt.says)
			}
			ev := f.snapshot()
			if len(f.removed) != 0 || len(matching(ev, "serving ")) != 0 {
				t.Errorf("events %q: the candidate must keep serving", ev)
			}
			if probes := matching(ev, "probes "); len(probes) > 0 && probes[len(probes)-1] != "probes dep1-p []" {
				t.Errorf("probes %q: want them cleared", probes)
			}
			rep := h.Report()
			if rep.Retire != "failed: "+err.Error() || rep.RetiredAt == nil || rep.Serving != "new" {
				t.Errorf("report %+v: want the failure recorded", rep)
			}
		})
	}
}

// TestPromote: a canary with running tasks takes all the traffic; one
// without fails.
func TestPromote(t *testing.T) {
	t.Run("no running canary task", func(t *testing.T) {
		e, f := setup()
		f.setTasks(cand, swarm.TaskView{ID: "c1", Stopped: true, Failed: true})
		h, err := e.Promote(context.Background(), basePlan(0, store.ReadinessPort))
		var failed *FailedError
		if !errors.As(err, &failed) || h != nil {
			t.Fatalf("Promote = %v, %v; want a *FailedError", h, err)
		}
		if got := matching(f.snapshot(), "serving "); len(got) != 0 {
			t.Errorf("serving lists %q, want none", got)
		}
	})
	t.Run("running canary", func(t *testing.T) {
		e, f := setup()
		f.setTasks(cand, running("c1", "10.0.1.1"), running("c2", "10.0.1.2"))
		h, err := e.Promote(context.Background(), basePlan(0, store.ReadinessPort))
		if err != nil {
			t.Fatalf("Promote: %v", err)
		}
		if got := matching(f.snapshot(), "serving "); !slices.Equal(got, []string{newOnly}) {
			t.Errorf("serving lists %q, want the canary's tasks", got)
		}
		if rep := h.Report(); rep.Serving != "new" || rep.ServingAt == nil {
			t.Errorf("report %+v, want serving new", rep)
		}
	})
}

// TestAbandon: traffic goes back to DNS before the candidate is removed.
func TestAbandon(t *testing.T) {
	e, f := setup()
	if err := e.Abandon(context.Background(), primary); err != nil {
		t.Fatalf("Abandon: %v", err)
	}
	if got, want := f.snapshot(), []string{dns, "sync", "remove " + cand}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// TestCheckReady: the tasks Swarm started itself are checked in place;
// nothing is created, removed or re-routed, and the probes are cleared.
func TestCheckReady(t *testing.T) {
	tests := []struct {
		name    string
		check   func(ctx context.Context, t readiness.Target, alive func() error) (store.TaskReadiness, error)
		wantErr bool
	}{
		{"ready", nil, false},
		{"not ready", func(ctx context.Context, t readiness.Target, alive func() error) (store.TaskReadiness, error) {
			err := errors.New("not ready after 300s")
			return store.TaskReadiness{Task: t.Task, Address: t.Address, Attempts: 7, Error: err.Error()}, err
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, f := setup()
			f.check = tt.check
			var rec recorder
			var rep store.ReleaseReport
			err := e.CheckReady(context.Background(), rec.plan(basePlan(time.Second, store.ReadinessPort)), &rep)
			var failed *FailedError
			if tt.wantErr != (err != nil) || (err != nil && !errors.As(err, &failed)) {
				t.Fatalf("CheckReady = %v, want error %v (a *FailedError)", err, tt.wantErr)
			}
			var checked []string
			for _, c := range f.checked {
				checked = append(checked, c.Task)
			}
			slices.Sort(checked)
			if !slices.Equal(checked, []string{"p1", "p2"}) && !(tt.wantErr && len(checked) > 0) {
				t.Errorf("checked %q, want the service's own tasks", checked)
			}
			ev := f.snapshot()
			if len(f.created)+len(f.removed)+len(f.deployed) != 0 || len(matching(ev, "serving ")) != 0 {
				t.Errorf("events %q: want only checks", ev)
			}
			if probes := matching(ev, "probes "); len(probes) == 0 || probes[len(probes)-1] != "probes dep1 []" {
				t.Errorf("probes %q: want them cleared", probes)
			}
			if len(rep.Readiness) == 0 || (!tt.wantErr && len(rep.Readiness) != 2) {
				t.Errorf("report readiness %+v, want the checks", rep.Readiness)
			}
			if tt.wantErr && rep.Readiness[0].Error == "" {
				t.Errorf("report readiness %+v, want the failure", rep.Readiness)
			}
			if len(rec.reports) != 0 {
				t.Errorf("recorded %d reports: CheckReady's caller records", len(rec.reports))
			}
		})
	}
}

// TestTaskHistory: tasks of the service that had ended before the wait
// began (its past failures) count neither as failures nor as ready.
func TestTaskHistory(t *testing.T) {
	for _, mode := range []string{store.ReadinessPort, store.ReadinessNone} {
		t.Run(mode, func(t *testing.T) {
			e, f := setup()
			f.setTasks(primary, swarm.TaskView{ID: "old1", Stopped: true, Failed: true},
				swarm.TaskView{ID: "old2", Stopped: true, Failed: true}, swarm.TaskView{ID: "old3", Stopped: true, Failed: true},
				running("p1", "10.0.0.1"), running("p2", "10.0.0.2"))
			var rep store.ReleaseReport
			if err := e.CheckReady(context.Background(), basePlan(0, mode), &rep); err != nil {
				t.Fatalf("CheckReady: %v", err)
			}
			for _, r := range rep.Readiness {
				if r.Task != "p1" && r.Task != "p2" {
					t.Errorf("readiness of %s, a past task", r.Task)
				}
			}
		})
	}
}
