package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// backend answers like test/backend: "<version> <path>" with X-Version;
// while failing is set, every third answer is a 502.
type backend struct {
	version atomic.Value
	failing atomic.Bool
	n       atomic.Int64
	posts   atomic.Int64
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		b.posts.Add(1)
	}
	if b.failing.Load() && b.n.Add(1)%3 == 0 {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	v := b.version.Load().(string)
	w.Header().Set("X-Version", v)
	w.Write([]byte(v + " " + r.URL.Path))
}

func newBackend(t *testing.T, version string) (*backend, string) {
	b := &backend{}
	b.version.Store(version)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return b, strings.TrimPrefix(srv.URL, "http://")
}

func TestLoadCountsVersionsAndFailures(t *testing.T) {
	b, addr := newBackend(t, "v1")
	l := Start(Config{Addr: addr, Host: "app.test", Rate: 200, Clients: 4})
	defer l.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.WaitOnly(ctx, "v1", 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := l.Result().Err(); err != nil {
		t.Fatalf("failures with a healthy backend: %v", err)
	}

	before := l.Counts()
	b.version.Store("v2")
	b.failing.Store(true)
	time.Sleep(300 * time.Millisecond)
	b.failing.Store(false)
	if _, err := l.WaitOnly(ctx, "v2", 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	l.Stop()
	r := l.Result()
	d := r.Counts.Sub(before)
	if d.BadStatus == 0 || d.Failures["GET status 502"] == 0 || d.Versions["v2"] == 0 {
		t.Fatalf("counts during the failing window: %+v", d)
	}
	if d.Versions["v1"] > 4 { // the switch is instant: at most the requests in flight
		t.Fatalf("v1 answers after the switch: %+v", d)
	}
	if r.Rate < 100 || r.Sent != r.OK+r.Failed() || b.posts.Load() == 0 {
		t.Fatalf("rate %.0f, sent %d ok %d failed %d, posts %d", r.Rate, r.Sent, r.OK, r.Failed(), b.posts.Load())
	}
	err := r.Err()
	if err == nil || !strings.Contains(err.Error(), "status 502") || !strings.Contains(err.Error(), `"bad gateway"`) {
		t.Fatalf("Err() = %v", err)
	}
	if first, _ := l.FirstSeen("v2"); !l.LastSeenExcept("v2").Before(first.Add(time.Second)) {
		t.Fatalf("v1 last seen %s, after v2 first seen %s", l.LastSeenExcept("v2"), first)
	}
	rec := &recorder{}
	r.AssertNoFailures(rec)
	if !rec.failed {
		t.Fatal("AssertNoFailures passed with failures")
	}
}

func TestLoadTransportErrors(t *testing.T) {
	_, addr := newBackend(t, "v1")
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := strings.TrimPrefix(srv.URL, "http://")
	srv.Close() // nothing listens there now
	l := Start(Config{Addr: dead, Host: "app.test", Rate: 100, Clients: 2})
	time.Sleep(300 * time.Millisecond)
	l.Stop()
	r := l.Result()
	if r.TransportErrors == 0 || r.OK != 0 || r.Failures["GET connection refused"] == 0 {
		t.Fatalf("against a closed port: %s", r.Summary())
	}
	if len(r.First) == 0 || r.First[0].Status != 0 || r.First[0].At.IsZero() {
		t.Fatalf("first failures: %+v", r.First)
	}
	ok := Start(Config{Addr: addr, Host: "app.test", Rate: 100, Clients: 2, PostEvery: -1})
	time.Sleep(300 * time.Millisecond)
	ok.Stop()
	rec := &recorder{}
	ok.Result().AssertNoFailures(rec)
	if rec.failed || !strings.Contains(rec.logs, "0 failed") {
		t.Fatalf("a clean load: failed %v, logged %q", rec.failed, rec.logs)
	}
}

func TestCounts(t *testing.T) {
	a := Counts{Sent: 10, OK: 8, BadStatus: 2, Versions: map[string]int{"v1": 8}, Failures: map[string]int{"GET status 502": 2}}
	b := Counts{Sent: 30, OK: 26, BadStatus: 2, TransportErrors: 2, Versions: map[string]int{"v1": 10, "v2": 16},
		Failures: map[string]int{"GET status 502": 2, "POST connection reset": 2}}
	d := b.Sub(a)
	if d.Sent != 20 || d.OK != 18 || d.Failed() != 2 || d.VersionList() != "v1: 2, v2: 16" || d.FailureList() != "POST connection reset: 2" {
		t.Fatalf("Sub: %+v (%s; %s)", d, d.VersionList(), d.FailureList())
	}
	if s := d.Share("v2"); s < 0.888 || s > 0.889 {
		t.Fatalf("share %f", s)
	}
	if (Counts{}).Share("v") != 0 || (Counts{}).FailureList() != "none" {
		t.Fatal("empty counts")
	}
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(3, 1, 2), 50, 2 * time.Millisecond},
		{ms(3, 1, 2), 100, 3 * time.Millisecond},
		{ms(5, 1, 4, 2, 3, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{ms(5), 0, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(tt.ds, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.ds, tt.p, got, tt.want)
		}
	}
}

type recorder struct {
	failed bool
	logs   string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Errorf(format string, a ...any) { r.failed = true }
func (r *recorder) Logf(format string, a ...any)   { r.logs += fmt.Sprintf(format, a...) }
