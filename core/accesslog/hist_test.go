package accesslog

import (
	"math"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

func TestBucketOf(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{0, 0}, {time.Millisecond, 0}, {1500 * time.Microsecond, 1}, {3 * time.Millisecond, 2},
		{150 * time.Millisecond, 7}, {300 * time.Millisecond, 8}, {30 * time.Second, 13}, {time.Minute, 14},
	}
	for _, tt := range tests {
		if got := bucketOf(tt.d); got != tt.want {
			t.Errorf("bucketOf(%s) = %d, want %d", tt.d, got, tt.want)
		}
	}
	if len(Bounds)+1 != Buckets {
		t.Errorf("Buckets = %d, want len(Bounds)+1 = %d", Buckets, len(Bounds)+1)
	}
}

// histOf returns the histogram of durations given in milliseconds.
func histOf(ms ...float64) []int64 {
	h := make([]int64, Buckets)
	for _, m := range ms {
		h[bucketOf(time.Duration(m*float64(time.Millisecond)))]++
	}
	return h
}

func TestQuantile(t *testing.T) {
	many := func(n int, ms float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = ms
		}
		return out
	}
	tests := []struct {
		name     string
		hist     []int64
		q        float64
		min, max float64 // the estimate lies in the bucket of the true value
	}{
		{"empty", make([]int64, Buckets), 0.5, 0, 0},
		{"all 30ms", histOf(many(100, 30)...), 0.5, 20, 50},
		{"90 fast 10 slow: p50 fast", histOf(append(many(90, 3), many(10, 300)...)...), 0.5, 2, 5},
		{"90 fast 10 slow: p95 slow", histOf(append(many(90, 3), many(10, 300)...)...), 0.95, 200, 500},
		{"beyond the last bound", histOf(many(10, 60000)...), 0.95, 30000, 30000},
		{"uniform 1..100", histOf(func() []float64 {
			var v []float64
			for i := 1; i <= 100; i++ {
				v = append(v, float64(i))
			}
			return v
		}()...), 0.5, 20, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Quantile(tt.hist, tt.q)
			if got < tt.min || got > tt.max || math.IsNaN(got) {
				t.Errorf("Quantile(%v) = %v, want in [%v, %v]", tt.q, got, tt.min, tt.max)
			}
		})
	}
}

func TestAggregatorAndSeries(t *testing.T) {
	app, other := uuid.New(), uuid.New()
	t0 := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	entry := func(at time.Duration, status int, ms float64) Entry {
		return Entry{StartUTC: t0.Add(at), Duration: time.Duration(ms * float64(time.Millisecond)), RequestMethod: "GET",
			RequestHost: "a.test", RequestPath: "/", DownstreamStatus: status, ClientHost: "10.0.0.1"}
	}
	a := NewAggregator()
	// Minute 0: 3 requests on a.test (200, 404, 500), 1 on b.test; minute 2: 2 on a.test.
	a.Add(app, "a.test", entry(10*time.Second, 200, 3))
	a.Add(app, "a.test", entry(20*time.Second, 404, 3))
	a.Add(app, "a.test", entry(59*time.Second, 500, 300))
	a.Add(app, "b.test", entry(30*time.Second, 301, 1))
	a.Add(app, "a.test", entry(2*time.Minute+time.Second, 200, 40))
	a.Add(app, "a.test", entry(2*time.Minute+2*time.Second, 102, 40))
	a.Add(other, "o.test", entry(0, 200, 1))
	if a.Full() {
		t.Fatal("full after 7 requests")
	}
	stats, recent := a.Take()
	if len(stats) != 4 || len(recent) != 7 {
		t.Fatalf("took %d stats, %d requests, want 4 and 7", len(stats), len(recent))
	}
	if s, r := a.Take(); len(s)+len(r) != 0 {
		t.Fatal("Take did not empty the aggregator")
	}
	var mine []store.RequestStat
	for _, s := range stats {
		if s.ApplicationID == app {
			mine = append(mine, s)
		}
	}

	tests := []struct {
		name   string
		host   string
		step   time.Duration
		points int
		total  Point
		first  Point
	}{
		{name: "per minute", step: time.Minute, points: 3,
			total: Point{Requests: 6, Status1xx: 1, Status2xx: 2, Status3xx: 1, Status4xx: 1, Status5xx: 1},
			first: Point{Requests: 4, Status2xx: 1, Status3xx: 1, Status4xx: 1, Status5xx: 1}},
		{name: "one step", step: 3 * time.Minute, points: 1,
			total: Point{Requests: 6, Status1xx: 1, Status2xx: 2, Status3xx: 1, Status4xx: 1, Status5xx: 1},
			first: Point{Requests: 6, Status1xx: 1, Status2xx: 2, Status3xx: 1, Status4xx: 1, Status5xx: 1}},
		{name: "one domain", host: "a.test", step: time.Minute, points: 3,
			total: Point{Requests: 5, Status1xx: 1, Status2xx: 2, Status4xx: 1, Status5xx: 1},
			first: Point{Requests: 3, Status2xx: 1, Status4xx: 1, Status5xx: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rows []store.RequestStat
			for _, s := range mine {
				if tt.host == "" || s.Host == tt.host {
					rows = append(rows, s)
				}
			}
			s := BuildSeries(rows, t0, t0.Add(3*time.Minute), tt.step)
			if len(s.Points) != tt.points {
				t.Fatalf("%d points, want %d", len(s.Points), tt.points)
			}
			counts := func(p Point) Point {
				return Point{Requests: p.Requests, Status1xx: p.Status1xx, Status2xx: p.Status2xx, Status3xx: p.Status3xx,
					Status4xx: p.Status4xx, Status5xx: p.Status5xx}
			}
			if got := counts(s.Total); got != tt.total {
				t.Errorf("total %+v, want %+v", got, tt.total)
			}
			if got := counts(s.Points[0]); got != tt.first {
				t.Errorf("first point %+v, want %+v", got, tt.first)
			}
			if want := float64(tt.first.Requests) / tt.step.Seconds(); math.Abs(s.Points[0].RPS-want) > 1e-9 {
				t.Errorf("rps %v, want %v", s.Points[0].RPS, want)
			}
			if !s.Points[0].At.Equal(t0) {
				t.Errorf("first point at %v", s.Points[0].At)
			}
		})
	}
	// Latency: minute 0 of a.test holds 3, 3 and 300 ms: p50 in (2,5], p95 in (200,500].
	s := BuildSeries(mine, t0, t0.Add(time.Minute), time.Minute)
	if p := s.Points[0]; p.P50Ms <= 2 || p.P50Ms > 5 || p.P95Ms <= 200 || p.P95Ms > 500 {
		t.Errorf("p50 %v p95 %v, want (2,5] and (200,500]", p.P50Ms, p.P95Ms)
	}
	if s.Points[1-1].MeanMs < 70 || s.Points[0].MeanMs > 80 { // (3+3+300+1)/4 = 76.75
		t.Errorf("mean %v, want 76.75", s.Points[0].MeanMs)
	}
}

func TestAggregatorBounded(t *testing.T) {
	a := NewAggregator()
	a.MaxBuckets, a.MaxRecent = 3, 100
	app := uuid.New()
	t0 := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	for i := range 3 {
		if a.Full() {
			t.Fatalf("full after %d minutes", i)
		}
		a.Add(app, "a.test", Entry{StartUTC: t0.Add(time.Duration(i) * time.Minute), DownstreamStatus: 200})
	}
	if !a.Full() {
		t.Error("not full with MaxBuckets open buckets")
	}
	a.Take()
	a.MaxRecent = 2
	a.Add(app, "a.test", Entry{StartUTC: t0, DownstreamStatus: 200})
	a.Add(app, "a.test", Entry{StartUTC: t0, DownstreamStatus: 200})
	if !a.Full() {
		t.Error("not full with MaxRecent requests")
	}
}
