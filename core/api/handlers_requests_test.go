package api_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/accesslog"
	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// TestRequestAnalytics: the stats and latest-requests routes answer what
// the access log follower stored for the application, filtered, and name
// the bad query parameter in a 422.
func TestRequestAnalytics(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	app := uuid.MustParse(f.appID)
	now := time.Now().UTC().Truncate(time.Minute)
	hist := func(fast, slow int64) []int64 {
		h := make([]int64, accesslog.Buckets)
		h[1], h[8] = fast, slow // (1,2] ms and (200,500] ms
		return h
	}
	err := h.store.FlushRequests(context.Background(), store.RequestFlush{Source: "t", Through: now, KeepPerApp: 10,
		Stats: []store.RequestStat{
			{ApplicationID: app, Host: "a.test", Minute: now.Add(-10 * time.Minute), Requests: 20, Status: [5]int64{0, 18, 0, 1, 1}, Latency: hist(18, 2)},
			{ApplicationID: app, Host: "b.test", Minute: now.Add(-5 * time.Minute), Requests: 10, Status: [5]int64{0, 10, 0, 0, 0}, Latency: hist(10, 0)},
		},
		Requests: []store.RequestRecord{
			{ApplicationID: app, At: now.Add(-2 * time.Second), Method: "GET", Host: "a.test", Path: "/x", Status: 200, DurationMs: 1},
			{ApplicationID: app, At: now.Add(-time.Second), Method: "POST", Host: "a.test", Path: "/y", Status: 502, DurationMs: 300},
		}})
	if err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/applications/" + f.appID + "/requests"

	var s accesslog.Series
	h.must(200, h.do("GET", base+"/stats", f.key, nil)).json(t, &s)
	if s.Total.Requests != 30 || s.Total.Status5xx != 1 || s.Total.Status4xx != 1 || len(s.Points) < 60 || len(s.Points) > 61 {
		t.Errorf("last hour: total %+v, %d points", s.Total, len(s.Points))
	}
	if s.Total.P95Ms <= 2 || s.Total.P95Ms > 500 || s.Total.P50Ms > 2 {
		t.Errorf("p50 %v p95 %v", s.Total.P50Ms, s.Total.P95Ms)
	}
	q := url.Values{"from": {now.Add(-30 * time.Minute).Format(time.RFC3339)}, "to": {now.Format(time.RFC3339)},
		"step": {"10m"}, "domain": {"b.test"}}
	h.must(200, h.do("GET", base+"/stats?"+q.Encode(), f.key, nil)).json(t, &s)
	if s.Total.Requests != 10 || len(s.Points) != 3 || s.Points[2].Requests != 10 {
		t.Errorf("b.test by 10m: total %+v points %+v", s.Total, s.Points)
	}

	var l api.List[store.RequestRecord]
	h.must(200, h.do("GET", base, f.key, nil)).json(t, &l)
	if len(l.Items) != 2 || l.Items[0].Path != "/y" {
		t.Errorf("latest = %+v, want /y then /x", l.Items)
	}
	h.must(200, h.do("GET", base+"?status=5xx&method=post&path=/y&host=a.test&limit=5", f.key, nil)).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].Status != 502 {
		t.Errorf("5xx POST = %+v", l.Items)
	}
	h.must(200, h.do("GET", base+"?status=404", f.key, nil)).json(t, &l)
	if len(l.Items) != 0 {
		t.Errorf("404 = %+v", l.Items)
	}

	tests := []struct{ name, query, field string }{
		{"bad from", "/stats?from=yesterday", "from"},
		{"bad to", "/stats?to=1", "to"},
		{"from after to", "/stats?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from"},
		{"range too long", "/stats?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"},
		{"step not a duration", "/stats?step=often", "step"},
		{"step below a minute", "/stats?step=30s", "step"},
		{"too many points", "/stats?step=1m&from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z", "step"},
		{"domain too long", "/stats?domain=" + strings.Repeat("a", 254), "domain"},
		{"bad status", "?status=6xx", "status"},
		{"bad method", "?method=G-T", "method"},
		{"bad path", "?path=nope", "path"},
		{"bad host", "?host=a%20b", "host"},
		{"limit too big", "?limit=1001", "limit"},
		{"limit not a number", "?limit=x", "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("GET", base+tt.query, f.key, nil)
			if r.Status != 422 {
				t.Fatalf("status %d, want 422: %s", r.Status, r.Body)
			}
			var e api.ErrorBody
			r.json(t, &e)
			if e.Error.Field != tt.field {
				t.Errorf("error %+v does not name %q", e.Error, tt.field)
			}
		})
	}
	// Another application's id is not found, not leaked.
	h.must(404, h.do("GET", "/api/v1/applications/"+uuid.NewString()+"/requests", f.key, nil))
}
