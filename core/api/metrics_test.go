package api_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/store"
)

// fakeMetrics is a sampler whose latest round is one line.
type fakeMetrics struct{}

func (fakeMetrics) Interval() time.Duration { return 15 * time.Second }
func (fakeMetrics) WritePrometheus(w io.Writer) {
	io.WriteString(w, "berth_server_cpu_percent{server=\"n1\",name=\"vm\"} 12.5\n")
}

// TestMetricsAPI: the range queries answer the stored series at the
// resolution asked, bad parameters are 422 naming them, servers are for
// instance administrators, and /metrics carries the sampler's figures.
func TestMetricsAPI(t *testing.T) {
	h := newHarness(t, func(o *api.Options) { o.Metrics = fakeMetrics{} })
	f := h.fixture()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	var points []store.MetricPoint
	for i := range 40 { // the last 10 minutes, every 15 s
		at := now.Add(-time.Duration(i) * 15 * time.Second)
		points = append(points,
			store.MetricPoint{Kind: store.MetricKindApplication, Target: f.appID, At: at, Tasks: 2, CPUPercent: 40, MemUsedBytes: 64 << 20,
				MemLimitBytes: 256 << 20, NetRxBps: 1000, NetTxBps: 500, BlockReadBps: 10, BlockWriteBps: 20, Restarts: 1},
			store.MetricPoint{Kind: store.MetricKindServer, Target: "n1", At: at, CPUPercent: 30, MemUsedBytes: 1 << 30, MemLimitBytes: 4 << 30,
				Load1: 0.5, Disks: []store.MetricDisk{{Mount: "/", UsedBytes: 10 << 30, TotalBytes: 100 << 30}}})
	}
	if err := h.store.WriteMetrics(ctx, points, []store.MetricServer{{NodeID: "n1", Name: "vm", SeenAt: now}}); err != nil {
		t.Fatal(err)
	}

	var m api.WorkloadMetrics
	h.must(200, h.do("GET", "/api/v1/applications/"+f.appID+"/metrics?from=10m", f.key, nil)).json(t, &m)
	if m.Kind != "application" || m.StepSeconds != 15 || len(m.Points) != 40 {
		t.Fatalf("series kind %s step %d with %d points, want application, 15 s, 40", m.Kind, m.StepSeconds, len(m.Points))
	}
	p := m.Points[len(m.Points)-1]
	if p.CPUPercent != 40 || p.MemUsedBytes != 64<<20 || p.MemLimitBytes != 256<<20 || p.NetRxBps != 1000 || p.BlockWriteBps != 20 || p.Tasks != 2 || p.Restarts != 1 {
		t.Fatalf("point %+v", p)
	}
	h.must(200, h.do("GET", "/api/v1/applications/"+f.appID+"/metrics?from="+now.Add(-time.Hour).Format(time.RFC3339)+"&step=5m", f.key, nil)).json(t, &m)
	if m.StepSeconds != 300 || len(m.Points) < 2 || len(m.Points) > 3 {
		t.Fatalf("5-minute series: step %d, %d points", m.StepSeconds, len(m.Points))
	}
	for _, tt := range []struct{ query, field string }{
		{"from=yesterday", "from"}, {"to=now", "to"}, {"step=0s", "step"}, {"step=fast", "step"},
		{"from=1h&step=100ms", "step"}, {"from=30d&step=1s", "step"}, {"from=100d", "from"},
		{"from=" + now.Format(time.RFC3339) + "&to=" + now.Add(-time.Hour).Format(time.RFC3339), "from"},
	} {
		r := h.must(422, h.do("GET", "/api/v1/applications/"+f.appID+"/metrics?"+tt.query, f.key, nil))
		if !strings.Contains(string(r.Body), `"`+tt.field+`"`) {
			t.Errorf("?%s: %s, want the error to name %s", tt.query, r.Body, tt.field)
		}
	}

	var servers api.List[api.ServerInfo]
	h.must(200, h.do("GET", "/api/v1/servers", f.key, nil)).json(t, &servers)
	if len(servers.Items) != 1 || servers.Items[0].Name != "vm" || servers.Items[0].Latest == nil || servers.Items[0].Latest.Disks[0].Mount != "/" {
		t.Fatalf("servers %+v", servers)
	}
	var sm api.ServerMetrics
	h.must(200, h.do("GET", "/api/v1/servers/n1/metrics?from=10m", f.key, nil)).json(t, &sm)
	if len(sm.Points) != 40 || sm.Points[0].MemTotalBytes != 4<<30 || sm.Points[0].Load1 != 0.5 {
		t.Fatalf("server series %d points, first %+v", len(sm.Points), sm.Points)
	}
	h.must(404, h.do("GET", "/api/v1/servers/nope/metrics", f.key, nil))

	r := h.must(200, h.do("GET", "/metrics", f.key, nil))
	if !strings.Contains(string(r.Body), `berth_server_cpu_percent{server="n1",name="vm"} 12.5`) {
		t.Fatalf("/metrics lacks the sampler's figures:\n%s", r.Body)
	}

	// The settings: validated, 422 naming the field.
	for _, body := range []map[string]any{{"metrics_interval_seconds": 1}, {"metrics_interval_seconds": 4000}, {"metrics_retention_days": 0}, {"metrics_retention_days": 91}} {
		r := h.must(422, h.do("PUT", "/api/v1/instance/settings", f.key, body))
		for k := range body {
			if !strings.Contains(string(r.Body), k) {
				t.Errorf("%v: %s, want the error to name %s", body, r.Body, k)
			}
		}
	}
	var in store.InstanceSettings
	h.must(200, h.do("GET", "/api/v1/instance/settings", f.key, nil)).json(t, &in)
	if in.MetricsIntervalSeconds != 15 || in.MetricsRetentionDays != 7 {
		t.Fatalf("default settings %+v", in)
	}
	h.must(200, h.do("PUT", "/api/v1/instance/settings", f.key, map[string]any{"metrics_interval_seconds": 30, "metrics_retention_days": 14})).json(t, &in)
	if in.MetricsIntervalSeconds != 30 || in.MetricsRetentionDays != 14 || in.DefaultBuilder == "" {
		t.Fatalf("saved settings %+v", in)
	}
}
