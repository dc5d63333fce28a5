package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// TestRequestStats: flushes add up per (application, minute, domain),
// histograms element by element; the cursor moves only forward; the latest
// requests are trimmed per application and filtered; figures of unknown
// applications are dropped; retention deletes old minutes.
func TestRequestStats(t *testing.T) {
	st, app := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	hist := func(v ...int64) []int64 { return append(v, make([]int64, 15-len(v))...) }
	stat := func(host string, minute int, reqs int64, status [5]int64, h []int64) store.RequestStat {
		return store.RequestStat{ApplicationID: app.ID, Host: host, Minute: t0.Add(time.Duration(minute) * time.Minute),
			Requests: reqs, Status: status, DurationMsSum: float64(reqs) * 10, Latency: h}
	}
	rec := func(sec int, method, path string, status int) store.RequestRecord {
		return store.RequestRecord{ApplicationID: app.ID, At: t0.Add(time.Duration(sec) * time.Second), Method: method,
			Host: "a.test", Path: path, Status: status, DurationMs: 1.5, Client: "10.0.0.1"}
	}
	if c, err := st.RequestCursor(ctx, "traefik"); err != nil || !c.IsZero() {
		t.Fatalf("cursor before any flush = %v, %v", c, err)
	}
	first := store.RequestFlush{Source: "traefik", Through: t0.Add(time.Minute + time.Nanosecond), KeepPerApp: 3,
		Stats: []store.RequestStat{
			stat("a.test", 0, 3, [5]int64{0, 2, 0, 1, 0}, hist(1, 2)),
			stat("b.test", 0, 1, [5]int64{0, 0, 1, 0, 0}, hist(1)),
			{ApplicationID: uuid.New(), Host: "gone.test", Minute: t0, Requests: 9, Latency: hist(9)},
		},
		Requests: []store.RequestRecord{rec(1, "GET", "/a", 200), rec(2, "POST", "/b", 404),
			{ApplicationID: uuid.New(), At: t0, Method: "GET", Host: "gone.test", Path: "/", Status: 200}},
	}
	if err := st.FlushRequests(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := store.RequestFlush{Source: "traefik", Through: t0.Add(2*time.Minute + 7*time.Nanosecond), KeepPerApp: 3,
		Stats: []store.RequestStat{
			stat("a.test", 0, 2, [5]int64{0, 1, 0, 0, 1}, hist(0, 1, 1)),
			stat("a.test", 1, 1, [5]int64{0, 1, 0, 0, 0}, hist(1)),
		},
		Requests: []store.RequestRecord{rec(3, "GET", "/a/x", 500), rec(4, "GET", "/c_d", 503), rec(5, "GET", "/a%", 200)},
	}
	if err := st.FlushRequests(ctx, second); err != nil {
		t.Fatal(err)
	}
	// A stale flush does not move the cursor back.
	if err := st.FlushRequests(ctx, store.RequestFlush{Source: "traefik", Through: t0}); err != nil {
		t.Fatal(err)
	}
	// Docker's timestamps have nanoseconds; the cursor keeps them.
	if c, err := st.RequestCursor(ctx, "traefik"); err != nil || !c.Equal(t0.Add(2*time.Minute+7*time.Nanosecond)) {
		t.Errorf("cursor = %v, %v; want %v", c, err, t0.Add(2*time.Minute+7*time.Nanosecond))
	}

	rows, err := st.RequestStats(ctx, app.ID, t0, t0.Add(time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3: %+v", len(rows), rows)
	}
	a0 := rows[0]
	if a0.Host != "a.test" || a0.Requests != 5 || a0.Status != [5]int64{0, 3, 0, 1, 1} || a0.DurationMsSum != 50 ||
		!slices.Equal(a0.Latency, hist(1, 3, 1)) {
		t.Errorf("a.test minute 0 = %+v", a0)
	}
	if rows, err := st.RequestStats(ctx, app.ID, t0, t0.Add(time.Hour), "b.test"); err != nil || len(rows) != 1 || rows[0].Requests != 1 {
		t.Errorf("b.test rows = %+v, %v", rows, err)
	}
	if rows, err := st.RequestStats(ctx, app.ID, t0.Add(time.Minute), t0.Add(2*time.Minute), ""); err != nil || len(rows) != 1 {
		t.Errorf("minute 1 rows = %+v, %v", rows, err)
	}

	paths := func(f store.RequestFilter) []string {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 100
		}
		recs, err := st.LatestRequests(ctx, app.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.Path)
		}
		return out
	}
	tests := []struct {
		name   string
		filter store.RequestFilter
		want   []string
	}{
		{"trimmed to 3, newest first", store.RequestFilter{}, []string{"/a%", "/c_d", "/a/x"}},
		{"5xx", store.RequestFilter{Class: 5}, []string{"/c_d", "/a/x"}},
		{"exact status", store.RequestFilter{Status: 503}, []string{"/c_d"}},
		{"path prefix, wildcards literal", store.RequestFilter{PathPrefix: "/a%"}, []string{"/a%"}},
		{"path prefix", store.RequestFilter{PathPrefix: "/a"}, []string{"/a%", "/a/x"}},
		{"underscore literal", store.RequestFilter{PathPrefix: "/c_"}, []string{"/c_d"}},
		{"method", store.RequestFilter{Method: "POST"}, nil},
		{"host", store.RequestFilter{Host: "other.test"}, nil},
		{"limit", store.RequestFilter{Limit: 1}, []string{"/a%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := paths(tt.filter); !slices.Equal(got, tt.want) {
				t.Errorf("paths %q, want %q", got, tt.want)
			}
		})
	}

	n, err := st.DeleteRequestStatsBefore(ctx, t0.Add(time.Minute))
	if err != nil || n != 2 {
		t.Errorf("retention deleted %d rows (%v), want 2", n, err)
	}
	ds, err := st.DomainRoutes(ctx)
	if err != nil || len(ds) != 0 {
		t.Errorf("domain routes = %v, %v", ds, err)
	}
}
