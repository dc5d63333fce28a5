package canary

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/proxystats"
	"github.com/berth-dev/berth/core/store"
)

// fakeStore holds canaries and their domains and keeps what was recorded.
type fakeStore struct {
	mu       sync.Mutex
	canaries []store.Deployment
	domains  map[uuid.UUID][]store.Domain
	recorded map[uuid.UUID][]store.ReleaseReport
}

func (s *fakeStore) Canaries(ctx context.Context) ([]store.Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.Deployment(nil), s.canaries...), nil
}

func (s *fakeStore) ListDomains(ctx context.Context, app uuid.UUID, p store.Page) ([]store.Domain, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.domains[app], false, nil
}

func (s *fakeStore) RecordCanary(ctx context.Context, id uuid.UUID, r store.ReleaseReport) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recorded[id] = append(s.recorded[id], r)
	return nil
}

func (s *fakeStore) last(id uuid.UUID) store.CanaryReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.recorded[id]
	if len(r) == 0 || r[len(r)-1].Canary == nil {
		return store.CanaryReport{}
	}
	return *r[len(r)-1].Canary
}

// fakeScraper returns the readings it is given, one per Scrape.
type fakeScraper struct {
	calls int
	next  proxystats.Scrape
}

func (s *fakeScraper) Scrape(ctx context.Context) (proxystats.Scrape, error) {
	s.calls++
	return s.next, nil
}

// world is one application with two domains and a canary deployment.
type world struct {
	w        *Watcher
	st       *fakeStore
	sc       *fakeScraper
	promoted []uuid.UUID
	dep      store.Deployment
	doms     []string // the canary metrics services of the domains
	t0       time.Time
}

func newWorld(rule *store.AutoPromote) *world {
	app := uuid.New()
	d1, d2 := uuid.New(), uuid.New()
	dep := store.Deployment{ID: uuid.New(), ApplicationID: app, Status: store.DeploymentCanary,
		Canary: &store.CanaryRequest{Weight: 10, AutoPromote: rule}}
	wd := &world{
		st: &fakeStore{canaries: []store.Deployment{dep},
			domains:  map[uuid.UUID][]store.Domain{app: {{ID: d1, ApplicationID: app}, {ID: d2, ApplicationID: app}}},
			recorded: map[uuid.UUID][]store.ReleaseReport{}},
		sc:   &fakeScraper{},
		dep:  dep,
		doms: []string{proxy.CanaryMetricsService(d1.String()), proxy.CanaryMetricsService(d2.String())},
		t0:   time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC),
	}
	wd.w = New(wd.st, wd.sc, func(ctx context.Context, d store.Deployment) error {
		wd.promoted = append(wd.promoted, d.ID)
		return nil
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return wd
}

// sample takes a reading at t0+at where the canary's two routes counted
// req requests and errs errors in all (split between them), next to
// stable counters that must not count.
func (wd *world) sample(t *testing.T, at time.Duration, req, errs uint64) {
	t.Helper()
	wd.sc.next = proxystats.Scrape{At: wd.t0.Add(at), Services: map[string]proxystats.Counts{
		wd.doms[0]:                      {Requests: req / 2, Errors: errs / 2},
		wd.doms[1]:                      {Requests: req - req/2, Errors: errs - errs/2},
		"blog@file":                     {Requests: 99999, Errors: 999},
		proxy.StableMetricsService("x"): {Requests: 5000, Errors: 50},
	}}
	if err := wd.w.Sample(context.Background()); err != nil {
		t.Fatalf("Sample: %v", err)
	}
}

// TestNoCanaries: without canaries nothing is scraped.
func TestNoCanaries(t *testing.T) {
	wd := newWorld(nil)
	wd.st.canaries = nil
	for range 3 {
		if err := wd.w.Sample(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if wd.sc.calls != 0 {
		t.Errorf("scraped %d times without a canary", wd.sc.calls)
	}
}

// TestCounts: the recorded requests and errors are those since the first
// reading, summed over the application's domains.
func TestCounts(t *testing.T) {
	wd := newWorld(nil)
	steps := []struct {
		at              time.Duration
		req, errs       uint64
		wantReq, wantEr int64
	}{
		{0, 1000, 40, 0, 0},
		{5 * time.Second, 1030, 41, 30, 1},
		{10 * time.Second, 1100, 45, 100, 5},
	}
	for _, s := range steps {
		wd.sample(t, s.at, s.req, s.errs)
		got := wd.st.last(wd.dep.ID)
		if got.Requests != s.wantReq || got.Errors != s.wantEr || got.Weight != 10 {
			t.Errorf("at %s: recorded %+v, want %d requests, %d errors, weight 10", s.at, got, s.wantReq, s.wantEr)
		}
	}
	if n := len(wd.st.recorded[wd.dep.ID]); n != len(steps) {
		t.Errorf("recorded %d times, want once per sample (%d)", n, len(steps))
	}
	if len(wd.promoted) != 0 {
		t.Error("promoted a canary without an auto-promotion rule")
	}
}

// TestAutoPromote: a canary is promoted once its rule held over the whole
// window with enough requests, and not before.
func TestAutoPromote(t *testing.T) {
	rule := &store.AutoPromote{MaxErrorRate: 0.05, WindowSeconds: 10}
	type step struct {
		at        time.Duration
		req, errs uint64
		promoted  int
	}
	tests := []struct {
		name  string
		rule  *store.AutoPromote
		steps []step
	}{
		{"promoted once the window is full", rule, []step{
			{0, 0, 0, 0},
			{5 * time.Second, 50, 0, 0},   // window not full yet
			{10 * time.Second, 100, 1, 1}, // 100 requests, 1% errors over 10s
		}},
		{"not before enough requests", rule, []step{
			{0, 0, 0, 0},
			{10 * time.Second, 10, 0, 0}, // 10 < 20 (default minimum)
			{15 * time.Second, 19, 0, 0}, // 19 over the last 10s
			{20 * time.Second, 40, 0, 1}, // 30 over the last 10s
		}},
		{"its own minimum", &store.AutoPromote{MaxErrorRate: 0.05, WindowSeconds: 10, MinRequests: 200}, []step{
			{0, 0, 0, 0},
			{10 * time.Second, 150, 0, 0},
			{20 * time.Second, 400, 0, 1},
		}},
		{"error rate above the rule", rule, []step{
			{0, 0, 0, 0},
			{10 * time.Second, 100, 6, 0},
			{20 * time.Second, 200, 12, 0},
			{30 * time.Second, 300, 30, 0},
		}},
		{"exactly at the rule", rule, []step{
			{0, 0, 0, 0},
			{10 * time.Second, 100, 5, 1},
		}},
		{"promoted once errors stopped for a window", rule, []step{
			{0, 0, 0, 0},
			{10 * time.Second, 100, 50, 0},
			{20 * time.Second, 200, 50, 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wd := newWorld(tt.rule)
			for _, s := range tt.steps {
				wd.sample(t, s.at, s.req, s.errs)
				if len(wd.promoted) != s.promoted {
					t.Fatalf("at %s (%d requests, %d errors): promoted %d times, want %d", s.at, s.req, s.errs, len(wd.promoted), s.promoted)
				}
			}
			for _, id := range wd.promoted {
				if id != wd.dep.ID {
					t.Errorf("promoted %s, want %s", id, wd.dep.ID)
				}
			}
		})
	}
}

// TestAfterPromotion: while a promoted canary is still listed (its
// promotion is queued), it is not promoted again before a new window, and
// its counts keep counting from its first reading.
func TestAfterPromotion(t *testing.T) {
	wd := newWorld(&store.AutoPromote{MaxErrorRate: 0.05, WindowSeconds: 10})
	wd.sample(t, 0, 1000, 0)
	wd.sample(t, 10*time.Second, 1100, 0)
	if len(wd.promoted) != 1 {
		t.Fatalf("promoted %d times, want 1", len(wd.promoted))
	}
	wd.sample(t, 15*time.Second, 1150, 1)
	if len(wd.promoted) != 1 {
		t.Errorf("promoted again %s after the first promotion", 5*time.Second)
	}
	if got := wd.st.last(wd.dep.ID); got.Requests != 150 || got.Errors != 1 {
		t.Errorf("recorded %+v after the promotion, want 150 requests and 1 error since the first reading", got)
	}
}

// TestCanaryGone: a canary that is no longer listed loses its window, and
// the watcher forgets it.
func TestCanaryGone(t *testing.T) {
	wd := newWorld(&store.AutoPromote{MaxErrorRate: 0.05, WindowSeconds: 10})
	wd.sample(t, 0, 1000, 0)
	wd.sample(t, 5*time.Second, 1050, 0)
	if len(wd.w.windows) != 1 || len(wd.w.last) != 1 || len(wd.w.seen) != 1 {
		t.Fatalf("watching %d windows, %d readings; want 1", len(wd.w.windows), len(wd.w.last))
	}
	wd.st.canaries = nil
	if err := wd.w.Sample(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(wd.w.windows) != 0 || len(wd.w.last) != 0 || len(wd.w.seen) != 0 {
		t.Errorf("still watching %d windows, %d readings after the canary went", len(wd.w.windows), len(wd.w.last))
	}
	if wd.sc.calls != 2 {
		t.Errorf("scraped %d times, want 2 (none once no canary is left)", wd.sc.calls)
	}
	// Listed again (e.g. a store hiccup): it starts over from a new
	// reading and needs a whole window again.
	wd.st.canaries = []store.Deployment{wd.dep}
	wd.sample(t, 10*time.Second, 1100, 0)
	if got := wd.st.last(wd.dep.ID); got.Requests != 0 {
		t.Errorf("recorded %+v, want counting anew", got)
	}
	if len(wd.promoted) != 0 {
		t.Error("promoted on a window that was dropped")
	}
}

// TestReportKept: the recorded report keeps what the release recorded
// before (readiness, outcome fields).
func TestReportKept(t *testing.T) {
	wd := newWorld(nil)
	wd.dep.Release = &store.ReleaseReport{Strategy: "candidate", Soak: "skipped",
		Readiness: []store.TaskReadiness{{Task: "c1", Attempts: 2}}}
	wd.st.canaries = []store.Deployment{wd.dep}
	wd.sample(t, 0, 10, 0)
	wd.sample(t, time.Second, 20, 1)
	r := wd.st.recorded[wd.dep.ID]
	got := r[len(r)-1]
	if got.Soak != "skipped" || len(got.Readiness) != 1 || got.Canary == nil || got.Canary.Requests != 10 || got.Canary.Errors != 1 {
		t.Errorf("recorded %+v, want the release's report with the canary's counts", got)
	}
}

// TestCounterReset: counters lower than before (Traefik restarted, or
// dropped and added back a service) count as restarted: the recorded
// counts never go back nor below zero.
func TestCounterReset(t *testing.T) {
	wd := newWorld(nil)
	steps := []struct {
		at              time.Duration
		req, errs       uint64
		wantReq, wantEr int64
	}{
		{0, 1000, 10, 0, 0},
		{5 * time.Second, 1100, 12, 100, 2},
		{10 * time.Second, 50, 1, 150, 3},    // restarted
		{15 * time.Second, 1200, 5, 1300, 7}, // more requests than the first reading, fewer errors
	}
	for _, s := range steps {
		wd.sample(t, s.at, s.req, s.errs)
		got := wd.st.last(wd.dep.ID)
		if got.Requests != s.wantReq || got.Errors != s.wantEr {
			t.Errorf("at %s: recorded %d requests, %d errors; want %d, %d", s.at, got.Requests, got.Errors, s.wantReq, s.wantEr)
		}
	}
}
