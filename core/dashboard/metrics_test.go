package dashboard

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/store"
)

// TestMetricsPages: an application's page carries the chart panel, the
// charts render (whole page and fragment) with the stored figures, the
// servers page is for instance administrators only, and the metrics
// settings are validated on the instance form.
func TestMetricsPages(t *testing.T) {
	h := newHarness(t)
	tn := h.dashTenancy()
	ctx := context.Background()
	now := time.Now().UTC()
	var pts []store.MetricPoint
	for i := range 20 {
		at := now.Add(-time.Duration(i) * 15 * time.Second)
		pts = append(pts,
			store.MetricPoint{Kind: store.MetricKindApplication, Target: tn.tenApp.ID.String(), At: at, Tasks: 1, CPUPercent: 42, MemUsedBytes: 64 << 20, MemLimitBytes: 256 << 20},
			store.MetricPoint{Kind: store.MetricKindServer, Target: "n1", At: at, CPUPercent: 30, MemUsedBytes: 1 << 30, MemLimitBytes: 4 << 30, Load1: 0.7,
				Disks: []store.MetricDisk{{Mount: "/", UsedBytes: 25 << 30, TotalBytes: 100 << 30}}})
	}
	if err := h.store.WriteMetrics(ctx, pts, []store.MetricServer{{NodeID: "n1", Name: "vm-one", SeenAt: now}}); err != nil {
		t.Fatal(err)
	}
	app := "/apps/" + tn.tenApp.ID.String()
	page := tn.tenant.must(200, tn.tenant.do("GET", app, nil)).Body
	if !strings.Contains(page, `data-metrics-src="`+app+`/metrics"`) {
		t.Fatal("the application page lacks the metrics panel")
	}
	for _, path := range []string{app + "/metrics", app + "/metrics?fragment=1&range=24h", app + "/metrics?range=7d"} {
		body := tn.tenant.must(200, tn.tenant.do("GET", path, nil)).Body
		for _, want := range []string{"CPU (100% = one core)", "Memory", "Network", "Block I/O", "<svg", "42 %", `data-refresh="15"`} {
			if !strings.Contains(body, want) {
				t.Fatalf("%s lacks %q:\n%.3000s", path, want, body)
			}
		}
	}
	if frag := tn.tenant.do("GET", app+"/metrics?fragment=1", nil).Body; strings.Contains(frag, "<html") {
		t.Fatal("the fragment is a whole page")
	}
	// Another organization's application is not found.
	tn.tenant.must(404, tn.tenant.do("GET", "/apps/"+tn.adminApp.ID.String()+"/metrics", nil))

	servers := tn.admin.must(200, tn.admin.do("GET", "/servers", nil)).Body
	for _, want := range []string{"vm-one", "Load", "25%", "<svg", `data-metrics-src="/servers?node=n1"`} {
		if !strings.Contains(servers, want) {
			t.Fatalf("/servers lacks %q:\n%.3000s", want, servers)
		}
	}
	tn.admin.must(200, tn.admin.do("GET", "/servers?node=n1&fragment=1&range=24h", nil))
	if r := tn.tenant.do("GET", "/servers", nil); r.Status != 403 {
		t.Fatalf("a tenant on /servers: status %d", r.Status)
	}

	for _, b := range []struct{ field, value string }{{"metrics_interval_seconds", "2"}, {"metrics_retention_days", "365"}, {"metrics_interval_seconds", "soon"}} {
		r := tn.admin.post("/instance/settings", url.Values{b.field: {b.value}})
		if r.Status != 422 || fieldBefore(r.Body, `class="field-error"`) != b.field {
			t.Fatalf("%s=%s: status %d, error after %q", b.field, b.value, r.Status, fieldBefore(r.Body, `class="field-error"`))
		}
	}
	tn.admin.must(303, tn.admin.post("/instance/settings", url.Values{"metrics_interval_seconds": {"30"}, "metrics_retention_days": {"3"}}))
	in, err := h.store.InstanceSettings(ctx)
	if err != nil || in.MetricsIntervalSeconds != 30 || in.MetricsRetentionDays != 3 {
		t.Fatalf("saved settings %+v %v", in, err)
	}
}
