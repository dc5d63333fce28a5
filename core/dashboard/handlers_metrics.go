package dashboard

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
)

// Metrics charts (docs/metrics.md): a chart panel on each application and
// database page, loaded and refreshed every sampling interval by app.js
// from the ?fragment=1 form of /apps/:id/metrics and /databases/:id/metrics
// (which are whole pages without JavaScript), and the servers page for
// instance administrators.

// MetricsSource is the running metrics sampler: the interval the charts
// refresh at.
type MetricsSource interface {
	Interval() time.Duration
}

// metricsRanges are the ranges the charts offer.
var metricsRanges = []struct{ Key, Label string }{{"1h", "1 hour"}, {"24h", "24 hours"}, {"7d", "7 days"}}

// rangeLink is one of the range choices above the charts.
type rangeLink struct {
	Key, Label, Href string
	Current          bool
}

// links are the range choices of src, the current one marked.
func (m metricsView) links() []rangeLink {
	sep := "?"
	if strings.Contains(m.Src, "?") {
		sep = "&"
	}
	out := make([]rangeLink, 0, len(metricsRanges))
	for _, r := range metricsRanges {
		out = append(out, rangeLink{Key: r.Key, Label: r.Label, Href: m.Src + sep + "range=" + r.Key, Current: r.Key == m.Range})
	}
	return out
}

// metricsView is what the chart fragment shows.
type metricsView struct {
	// Src is the fragment's URL without query; Range the range shown.
	Src, Range string
	Ranges     []rangeLink
	// RefreshSeconds is the sampling interval.
	RefreshSeconds int
	Charts         []lineChartView
	// Server is set on the servers page: the disks and latest figures.
	Server *serverView
}

// serverView is a server's latest figures.
type serverView struct {
	ID, Name string
	SeenAt   time.Time
	Latest   store.MetricPoint
	Disks    []diskView
}

// diskView is one mount's latest use.
type diskView struct {
	Mount, Used, Total string
	Percent            float64
}

// serversData is the servers page.
type serversData struct {
	// Name is empty: server.html shows a workload's charts when it is set.
	Name     string
	Servers  []store.MetricServer
	Selected string
	Metrics  metricsView
}

// metricsPageData is the whole-page form of a workload's charts.
type metricsPageData struct {
	Name, Back string
	Metrics    metricsView
}

func (d *Dashboard) refreshSeconds() int {
	if d.opts.Metrics != nil {
		return int(d.opts.Metrics.Interval() / time.Second)
	}
	return 15
}

// metricsSpan reads ?range=, 1h unless it is one of metricsRanges.
func metricsSpan(r *request) (string, time.Duration) {
	switch r.c.Query("range") {
	case "24h":
		return "24h", 24 * time.Hour
	case "7d":
		return "7d", 7 * 24 * time.Hour
	}
	return "1h", time.Hour
}

// series returns a target's points over the chosen range.
func (d *Dashboard) series(r *request, kind, target string) (rng string, from, to time.Time, pts []store.MetricPoint, err error) {
	rng, span := metricsSpan(r)
	to = time.Now().UTC()
	from = to.Add(-span)
	step := store.MetricStep(from, to, to, time.Duration(d.refreshSeconds())*time.Second)
	pts, err = d.store.MetricSeries(r.c.UserContext(), kind, target, from, to, step)
	return rng, from, to, pts, err
}

func pick(pts []store.MetricPoint, f func(store.MetricPoint) float64) []chartPoint {
	out := make([]chartPoint, len(pts))
	for i, p := range pts {
		out[i] = chartPoint{At: p.At, Value: f(p)}
	}
	return out
}

// workloadCharts are an application's or a database's charts.
func workloadCharts(from, to time.Time, pts []store.MetricPoint) []lineChartView {
	return []lineChartView{
		lineChart("CPU (100% = one core)", "percent", from, to,
			chartSeries{Name: "average", Class: "c1", Points: pick(pts, func(p store.MetricPoint) float64 { return p.CPUPercent })},
			chartSeries{Name: "peak", Class: "c3", Points: pick(pts, func(p store.MetricPoint) float64 { return p.CPUMaxPercent })}),
		lineChart("Memory", "bytes", from, to,
			chartSeries{Name: "used", Class: "c1", Points: pick(pts, func(p store.MetricPoint) float64 { return float64(p.MemUsedBytes) })},
			chartSeries{Name: "peak", Class: "c3", Points: pick(pts, func(p store.MetricPoint) float64 { return float64(p.MemMaxBytes) })},
			chartSeries{Name: "limit", Class: "c4", Points: pick(pts, func(p store.MetricPoint) float64 { return float64(p.MemLimitBytes) })}),
		lineChart("Network", "bytes/s", from, to,
			chartSeries{Name: "in", Class: "c1", Points: pick(pts, func(p store.MetricPoint) float64 { return p.NetRxBps })},
			chartSeries{Name: "out", Class: "c2", Points: pick(pts, func(p store.MetricPoint) float64 { return p.NetTxBps })}),
		lineChart("Block I/O", "bytes/s", from, to,
			chartSeries{Name: "read", Class: "c1", Points: pick(pts, func(p store.MetricPoint) float64 { return p.BlockReadBps })},
			chartSeries{Name: "write", Class: "c2", Points: pick(pts, func(p store.MetricPoint) float64 { return p.BlockWriteBps })}),
	}
}

func (d *Dashboard) appMetrics(r *request) error {
	a := r.app
	return d.workloadMetricsPage(r, store.MetricKindApplication, a.ID.String(), a.Name, "/apps/"+a.ID.String())
}

func (d *Dashboard) databaseMetrics(r *request) error {
	db := r.database
	return d.workloadMetricsPage(r, store.MetricKindDatabase, db.ID.String(), db.Name, "/databases/"+db.ID.String())
}

func (d *Dashboard) workloadMetricsPage(r *request, kind, id, name, back string) error {
	rng, from, to, pts, err := d.series(r, kind, id)
	if err != nil {
		return err
	}
	mv := metricsView{Src: back + "/metrics", Range: rng, RefreshSeconds: d.refreshSeconds(), Charts: workloadCharts(from, to, pts)}
	mv.Ranges = mv.links()
	if r.c.Query("fragment") != "" {
		return d.renderFragment(r, "metricscharts", mv)
	}
	return r.render(fiber.StatusOK, "server", &view{Title: name + " metrics", Nav: "projects", Data: metricsPageData{Name: name, Back: back, Metrics: mv}})
}

// serversPage shows the measured servers and the charts of one
// (?node=, the first by default): instance administrators only.
func (d *Dashboard) serversPage(r *request) error {
	ctx := r.c.UserContext()
	servers, err := d.store.MetricServers(ctx)
	if err != nil {
		return err
	}
	data := serversData{Servers: servers}
	var sel *store.MetricServer
	for i, s := range servers {
		if s.NodeID == r.c.Query("node") || (sel == nil && i == 0) {
			sel = &servers[i]
		}
	}
	if sel != nil {
		data.Selected = sel.NodeID
		rng, from, to, pts, err := d.series(r, store.MetricKindServer, sel.NodeID)
		if err != nil {
			return err
		}
		sv := &serverView{ID: sel.NodeID, Name: sel.Name, SeenAt: sel.SeenAt}
		if len(pts) > 0 {
			sv.Latest = pts[len(pts)-1]
			for _, dk := range sv.Latest.Disks {
				dv := diskView{Mount: dk.Mount, Used: formatBytes(int64(dk.UsedBytes)), Total: formatBytes(int64(dk.TotalBytes))}
				if dk.TotalBytes > 0 {
					dv.Percent = float64(dk.UsedBytes) / float64(dk.TotalBytes) * 100
				}
				sv.Disks = append(sv.Disks, dv)
			}
		}
		data.Metrics = metricsView{Src: "/servers?node=" + url.QueryEscape(sel.NodeID), Range: rng, RefreshSeconds: d.refreshSeconds(), Server: sv,
			Charts: []lineChartView{
				lineChart("CPU (of the whole host)", "percent", from, to,
					chartSeries{Name: "average", Class: "c1", Points: pick(pts, func(p store.MetricPoint) float64 { return p.CPUPercent })},
					chartSeries{Name: "peak", Class: "c3", Points: pick(pts, func(p store.MetricPoint) float64 { return p.CPUMaxPercent })}),
				lineChart("Memory", "bytes", from, to,
					chartSeries{Name: "used", Class: "c1", Points: pick(pts, func(p store.MetricPoint) float64 { return float64(p.MemUsedBytes) })},
					chartSeries{Name: "total", Class: "c4", Points: pick(pts, func(p store.MetricPoint) float64 { return float64(p.MemLimitBytes) })}),
				lineChart("Load", "count", from, to,
					chartSeries{Name: "1 min", Class: "c1", Points: pick(pts, func(p store.MetricPoint) float64 { return p.Load1 })},
					chartSeries{Name: "5 min", Class: "c2", Points: pick(pts, func(p store.MetricPoint) float64 { return p.Load5 })},
					chartSeries{Name: "15 min", Class: "c3", Points: pick(pts, func(p store.MetricPoint) float64 { return p.Load15 })}),
				lineChart("Network", "bytes/s", from, to,
					chartSeries{Name: "in", Class: "c1", Points: pick(pts, func(p store.MetricPoint) float64 { return p.NetRxBps })},
					chartSeries{Name: "out", Class: "c2", Points: pick(pts, func(p store.MetricPoint) float64 { return p.NetTxBps })}),
			}}
		data.Metrics.Ranges = data.Metrics.links()
		if r.c.Query("fragment") != "" {
			return d.renderFragment(r, "metricscharts", data.Metrics)
		}
	}
	return r.render(fiber.StatusOK, "server", &view{Title: "Servers", Nav: "instance", Data: data})
}

// renderFragment executes one partial template (no layout) for app.js to
// put into the page.
func (d *Dashboard) renderFragment(r *request, name string, data any) error {
	var buf bytes.Buffer
	if err := d.pages.byName["server"].ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	r.c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	r.c.Set(fiber.HeaderCacheControl, "no-store")
	return r.c.Send(buf.Bytes())
}
