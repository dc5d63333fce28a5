package dashboard

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/accesslog"
	"github.com/berth-dev/berth/core/store"
)

// TestRequestsPage: the application page links to its Requests page,
// which shows the stored figures as charts and the latest requests,
// filtered, and names a bad filter.
func TestRequestsPage(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	now := time.Now().UTC().Truncate(time.Minute)
	lat := make([]int64, accesslog.Buckets)
	lat[3] = 10
	err := h.store.FlushRequests(context.Background(), store.RequestFlush{Source: "t", Through: now, KeepPerApp: 10,
		Stats: []store.RequestStat{{ApplicationID: f.app.ID, Host: "a.test", Minute: now.Add(-5 * time.Minute), Requests: 10,
			Status: [5]int64{0, 9, 0, 0, 1}, Latency: lat}},
		Requests: []store.RequestRecord{
			{ApplicationID: f.app.ID, At: now, Method: "GET", Host: "a.test", Path: "/<ok>", Status: 200, DurationMs: 7},
			{ApplicationID: f.app.ID, At: now, Method: "POST", Host: "a.test", Path: "/broken", Status: 502, DurationMs: 9},
		}})
	if err != nil {
		t.Fatal(err)
	}
	base := "/apps/" + f.app.ID.String() + "/requests"
	app := admin.must(200, admin.do("GET", appURL(f.app.ID), nil))
	if !strings.Contains(app.Body, `href="`+base+`"`) {
		t.Error("the application page has no link to its requests")
	}
	for _, rg := range []string{"", "?range=24h", "?range=7d"} {
		r := admin.must(200, admin.do("GET", base+rg, nil))
		for _, want := range []string{"10 requests", "5xx 1", "Requests per second", "Latency", "<svg", "/&lt;ok&gt;", "/broken"} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("%s lacks %q", rg, want)
			}
		}
	}
	r := admin.must(200, admin.do("GET", base+"?status=5xx", nil))
	if strings.Contains(r.Body, "/&lt;ok&gt;") || !strings.Contains(r.Body, "/broken") {
		t.Errorf("5xx filter:\n%s", r.Body)
	}
	r = admin.must(422, admin.do("GET", base+"?status=abc", nil))
	if !strings.Contains(r.Body, "neither a status class") {
		t.Errorf("bad status filter not explained:\n%s", r.Body)
	}
}
