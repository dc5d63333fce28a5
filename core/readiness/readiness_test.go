package readiness

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/store"
)

// TestJudge: an answer without the probe header is Traefik's own and never
// counts; an answer from the task counts by the mode's rule.
func TestJudge(t *testing.T) {
	port := store.Readiness{Mode: store.ReadinessPort}.Effective()
	httpDefault := store.Readiness{Mode: store.ReadinessHTTP}.Effective()
	httpNarrow := store.Readiness{Mode: store.ReadinessHTTP, StatusMin: 204, StatusMax: 204}.Effective()
	tests := []struct {
		name     string
		r        store.Readiness
		status   int
		fromTask bool
		ok       bool
		result   string
	}{
		{"proxy 404 is not routed yet", port, 404, false, false, "not routed yet"},
		{"proxy 502", port, 502, false, false, "nothing answers on the port yet (proxy: 502)"},
		{"proxy 504", port, 504, false, false, "no answer from the task (proxy: 504)"},
		{"proxy 200 does not count", port, 200, false, false, "proxy answered 200"},
		{"proxy 503 does not count", httpDefault, 503, false, false, "proxy answered 503"},
		{"proxy 404 in http mode", httpDefault, 404, false, false, "not routed yet"},
		{"port: 200", port, 200, true, true, "HTTP 200"},
		{"port: 404 from the task answers HTTP", port, 404, true, true, "HTTP 404"},
		{"port: 500", port, 500, true, true, "HTTP 500"},
		{"port: 301", port, 301, true, true, "HTTP 301"},
		{"port: 502 from the task", port, 502, true, false, "HTTP 502"},
		{"port: 503 from the task", port, 503, true, false, "HTTP 503"},
		{"port: 504 from the task", port, 504, true, false, "HTTP 504"},
		{"empty mode is port", store.Readiness{}.Effective(), 503, true, false, "HTTP 503"},
		{"http: 200 in 200-399", httpDefault, 200, true, true, "HTTP 200"},
		{"http: 399 at the top", httpDefault, 399, true, true, "HTTP 399"},
		{"http: 400 above", httpDefault, 400, true, false, "HTTP 400"},
		{"http: 199 below", httpDefault, 199, true, false, "HTTP 199"},
		{"http: 500", httpDefault, 500, true, false, "HTTP 500"},
		{"http: 204 in 204-204", httpNarrow, 204, true, true, "HTTP 204"},
		{"http: 200 outside 204-204", httpNarrow, 200, true, false, "HTTP 200"},
		{"http: 205 outside 204-204", httpNarrow, 205, true, false, "HTTP 205"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := judge(tt.r, tt.status, tt.fromTask)
			if got.OK != tt.ok || got.Result != tt.result {
				t.Errorf("judge(%s, %d, %v) = %+v, want OK=%v Result=%q", tt.r.Mode, tt.status, tt.fromTask, got, tt.ok, tt.result)
			}
		})
	}
}

// answer is one scripted reply of the fake Traefik.
type answer struct {
	status int
	// fromTask: the reply carries the probe header (it came through the
	// probe router from the task).
	fromTask bool
}

// traefik is an httptest server that plays Traefik's API entry point in
// front of one task: it replies with the scripted answers in order, then
// repeats the last one.
type traefik struct {
	srv     *httptest.Server
	mu      sync.Mutex
	script  []answer
	hits    int
	hosts   []string
	paths   []string
	onHit   func(n int)
	probeID string
}

func newTraefik(t *testing.T, probeID string, script ...answer) *traefik {
	t.Helper()
	tr := &traefik{script: script, probeID: probeID}
	tr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		tr.hits++
		n := tr.hits
		tr.hosts = append(tr.hosts, r.Host)
		tr.paths = append(tr.paths, r.URL.Path)
		a := tr.script[min(n, len(tr.script))-1]
		hook := tr.onHit
		tr.mu.Unlock()
		if hook != nil {
			hook(n)
		}
		if a.fromTask {
			w.Header().Set(proxy.ProbeHeader, tr.probeID)
		}
		w.WriteHeader(a.status)
	}))
	t.Cleanup(tr.srv.Close)
	return tr
}

func (tr *traefik) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.hits
}

var target = Target{Task: "abcdefghijklmnopqrstuvwxyz", Address: "10.0.9.7", Port: 8080}

// fast is a check with short intervals, for tests.
func fast(r store.Readiness) store.Readiness {
	if r.IntervalMS == 0 {
		r.IntervalMS = 1
	}
	if r.TimeoutMS == 0 {
		r.TimeoutMS = 1000
	}
	return r
}

// TestOnce: one check goes to Traefik with the probe's Host, requests / in
// port mode and the path in http mode, and is judged by the probe header.
func TestOnce(t *testing.T) {
	tests := []struct {
		name     string
		r        store.Readiness
		a        answer
		header   string // probe header value; "" means the target's
		wantPath string
		ok       bool
		result   string
	}{
		{"port mode asks /", store.Readiness{Mode: store.ReadinessPort, Path: "/ignored"}, answer{200, true}, "", "/", true, "HTTP 200"},
		{"http mode asks the path", store.Readiness{Mode: store.ReadinessHTTP, Path: "/healthz"}, answer{204, true}, "", "/healthz", true, "HTTP 204"},
		{"http mode out of range", store.Readiness{Mode: store.ReadinessHTTP, Path: "/healthz", StatusMin: 200, StatusMax: 299}, answer{301, true}, "", "/healthz", false, "HTTP 301"},
		{"not routed yet", store.Readiness{Mode: store.ReadinessPort}, answer{404, false}, "", "/", false, "not routed yet"},
		{"traefik 502", store.Readiness{Mode: store.ReadinessPort}, answer{502, false}, "", "/", false, "nothing answers on the port yet (proxy: 502)"},
		{"another probe's header is not the task's", store.Readiness{Mode: store.ReadinessPort}, answer{200, true}, "tother", "/", false, "proxy answered 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.header
			if id == "" {
				id = target.ProbeID()
			}
			tr := newTraefik(t, id, tt.a)
			got := NewChecker(tr.srv.URL).Once(context.Background(), target, fast(tt.r))
			if got.OK != tt.ok || got.Result != tt.result {
				t.Errorf("Once = %+v, want OK=%v Result=%q", got, tt.ok, tt.result)
			}
			if want := proxy.ProbeHost(target.ProbeID()); tr.hosts[0] != want {
				t.Errorf("Host = %q, want %q", tr.hosts[0], want)
			}
			if tr.paths[0] != tt.wantPath {
				t.Errorf("path = %q, want %q", tr.paths[0], tt.wantPath)
			}
		})
	}
}

// TestOnceNoAnswer: an attempt is bounded by timeout_ms; a Traefik that
// cannot be reached is said so.
func TestOnceNoAnswer(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	start := time.Now()
	got := NewChecker(slow.URL).Once(context.Background(), target, store.Readiness{TimeoutMS: 50})
	if got.OK || got.Result != "no answer within 50 ms" {
		t.Errorf("Once = %+v, want a timeout", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Once took %s with timeout_ms 50", d)
	}

	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL
	gone.Close()
	got = NewChecker(url).Once(context.Background(), target, store.Readiness{TimeoutMS: 1000})
	if got.OK || !strings.HasPrefix(got.Result, "proxy unreachable: ") {
		t.Errorf("Once = %+v, want proxy unreachable", got)
	}
}

// TestWait: attempts go on until enough successes in a row; a failure
// resets the streak.
func TestWait(t *testing.T) {
	tests := []struct {
		name     string
		r        store.Readiness
		script   []answer
		attempts int
		last     string
	}{
		{"404 then 502 then 200", store.Readiness{Mode: store.ReadinessPort},
			[]answer{{404, false}, {502, false}, {200, true}}, 3, "HTTP 200"},
		{"port mode: task 503 until it warms up", store.Readiness{Mode: store.ReadinessPort},
			[]answer{{404, false}, {503, true}, {503, true}, {404, true}}, 4, "HTTP 404"},
		{"two in a row", store.Readiness{Mode: store.ReadinessHTTP, Path: "/up", Successes: 2},
			[]answer{{404, false}, {200, true}, {200, true}}, 3, "HTTP 200"},
		{"a failure resets the streak", store.Readiness{Mode: store.ReadinessHTTP, Path: "/up", Successes: 2},
			[]answer{{200, true}, {500, true}, {200, true}, {502, false}, {200, true}, {200, true}}, 6, "HTTP 200"},
		{"three in a row", store.Readiness{Mode: store.ReadinessHTTP, Path: "/up", Successes: 3},
			[]answer{{200, true}, {200, true}, {404, true}, {200, true}, {200, true}, {200, true}}, 6, "HTTP 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTraefik(t, target.ProbeID(), tt.script...)
			alives := 0
			rep, err := NewChecker(tr.srv.URL).Wait(context.Background(), target, fast(tt.r), func() error { alives++; return nil })
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if rep.Attempts != tt.attempts || rep.Last != tt.last || tr.count() != tt.attempts {
				t.Errorf("report %+v after %d requests, want %d attempts, last %q", rep, tr.count(), tt.attempts, tt.last)
			}
			if alives != tt.attempts {
				t.Errorf("alive asked %d times, want once per attempt (%d)", alives, tt.attempts)
			}
			if rep.Task != target.Task || rep.Address != target.Address || rep.ReadyMS < 1 || rep.Error != "" {
				t.Errorf("report %+v: want task, address, ready_ms >= 1 and no error", rep)
			}
		})
	}
}

// TestWaitEnds: the wait ends without success at timeout_seconds, when
// alive says the task stopped, and when ctx ends.
func TestWaitEnds(t *testing.T) {
	t.Run("timeout_seconds", func(t *testing.T) {
		tr := newTraefik(t, target.ProbeID(), answer{404, false}, answer{502, false})
		start := time.Now()
		rep, err := NewChecker(tr.srv.URL).Wait(context.Background(), target, fast(store.Readiness{TimeoutSeconds: 1, IntervalMS: 20}), nil)
		took := time.Since(start)
		if err == nil {
			t.Fatal("Wait succeeded against a task that never answers")
		}
		if took < time.Second || took > 10*time.Second {
			t.Errorf("Wait took %s, want about timeout_seconds (1s)", took)
		}
		for _, want := range []string{"task abcdefghijkl not ready after 1s", "last: nothing answers on the port yet (proxy: 502)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		if rep.Error != err.Error() || rep.Attempts < 2 || rep.ReadyMS != 0 {
			t.Errorf("report %+v: want the error, several attempts, no ready_ms", rep)
		}
	})
	t.Run("alive error", func(t *testing.T) {
		tr := newTraefik(t, target.ProbeID(), answer{502, false})
		stopped := errors.New("the task stopped")
		calls := 0
		rep, err := NewChecker(tr.srv.URL).Wait(context.Background(), target, fast(store.Readiness{}), func() error {
			if calls++; calls == 3 {
				return stopped
			}
			return nil
		})
		if !errors.Is(err, stopped) {
			t.Fatalf("Wait = %v, want the alive error", err)
		}
		if rep.Attempts != 2 || tr.count() != 2 || rep.Error != "the task stopped" {
			t.Errorf("report %+v after %d requests, want 2 attempts and the error", rep, tr.count())
		}
	})
	t.Run("alive error before any attempt", func(t *testing.T) {
		tr := newTraefik(t, target.ProbeID(), answer{200, true})
		_, err := NewChecker(tr.srv.URL).Wait(context.Background(), target, fast(store.Readiness{}), func() error { return errors.New("gone") })
		if err == nil || tr.count() != 0 {
			t.Errorf("Wait = %v after %d requests, want the alive error and no request", err, tr.count())
		}
	})
	t.Run("ctx cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tr := newTraefik(t, target.ProbeID(), answer{404, false})
		tr.onHit = func(n int) {
			if n == 3 {
				cancel()
			}
		}
		rep, err := NewChecker(tr.srv.URL).Wait(ctx, target, fast(store.Readiness{IntervalMS: 1}), nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want context.Canceled", err)
		}
		if rep.Attempts != 3 || rep.Error != context.Canceled.Error() {
			t.Errorf("report %+v, want 3 attempts and the cancellation", rep)
		}
	})
}

// TestTarget: a target's probe is named after its task.
func TestTarget(t *testing.T) {
	p := target.Probe()
	if p.ID != "t"+target.Task || p.Address != target.Address || p.Port != target.Port {
		t.Errorf("Probe() = %+v", p)
	}
}

// TestPause: the next attempt comes sooner while Traefik has not loaded
// the probe router, never later than the interval.
func TestPause(t *testing.T) {
	tests := []struct {
		interval time.Duration
		last     Attempt
		want     time.Duration
	}{
		{time.Second, Attempt{Result: "not routed yet"}, 100 * time.Millisecond},
		{50 * time.Millisecond, Attempt{Result: "not routed yet"}, 50 * time.Millisecond},
		{time.Second, Attempt{Result: "nothing answers on the port yet (proxy: 502)"}, time.Second},
		{time.Second, Attempt{Result: "HTTP 503"}, time.Second},
		{time.Second, Attempt{OK: true, Result: "HTTP 200"}, time.Second},
	}
	for _, tt := range tests {
		if got := pause(tt.interval, tt.last); got != tt.want {
			t.Errorf("pause(%s, %q) = %s, want %s", tt.interval, tt.last.Result, got, tt.want)
		}
	}
	// judge's own result for Traefik's 404 is the one pause knows.
	if a := judge(store.Readiness{}.Effective(), 404, false); pause(time.Second, a) != 100*time.Millisecond {
		t.Errorf("a 404 from Traefik (%q) does not shorten the pause", a.Result)
	}
}
