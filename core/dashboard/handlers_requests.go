package dashboard

import (
	"errors"
	"strconv"
	"time"

	"github.com/berth-dev/berth/core/accesslog"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
)

func init() { pageNames = append(pageNames, "requests") } // issue 17, request analytics

// requestRanges are the ranges the Requests page offers.
var requestRanges = []struct {
	Key  string
	Span time.Duration
}{{"1h", time.Hour}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}}

// requestsData is an application's Requests page.
type requestsData struct {
	App     store.Application
	Project store.Project
	Env     store.Environment
	// Range is the chosen range key; Ranges the offered ones.
	Range  string
	Ranges []string
	// Total sums the range.
	Total accesslog.Point
	// Charts: requests per second, status classes, latency.
	Charts []lineChartView
	// Filters are the submitted filters of the latest requests; Errors
	// their messages.
	Filters map[string]string
	Errors  map[string]string
	Latest  []store.RequestRecord
}

// requestsPage shows an application's traffic from the proxy's access log.
func (d *Dashboard) requestsPage(r *request) error {
	ctx := r.c.UserContext()
	a := r.app
	data := requestsData{App: a, Range: "1h", Filters: map[string]string{}, Errors: map[string]string{}}
	var err error
	if data.Project, err = d.store.GetProject(ctx, a.ProjectID); err != nil {
		return err
	}
	if data.Env, err = d.store.GetEnvironment(ctx, a.EnvironmentID); err != nil {
		return err
	}
	span := time.Hour
	for _, rg := range requestRanges {
		data.Ranges = append(data.Ranges, rg.Key)
		if r.c.Query("range") == rg.Key {
			data.Range, span = rg.Key, rg.Span
		}
	}
	from, to := accesslog.AlignRange(time.Now().Add(-span), time.Now())
	rows, err := d.store.RequestStats(ctx, a.ID, from, to, "")
	if err != nil {
		return err
	}
	s := accesslog.BuildSeries(rows, from, to, accesslog.AutoStep(to.Sub(from)))
	data.Total = s.Total
	series := func(name, class string, v func(accesslog.Point) float64, keep func(accesslog.Point) bool) chartSeries {
		cs := chartSeries{Name: name, Class: class}
		for _, p := range s.Points {
			if keep == nil || keep(p) {
				cs.Points = append(cs.Points, chartPoint{At: p.At, Value: v(p)})
			}
		}
		return cs
	}
	withRequests := func(p accesslog.Point) bool { return p.Requests > 0 }
	perSec := func(n func(accesslog.Point) int64) func(accesslog.Point) float64 {
		return func(p accesslog.Point) float64 { return float64(n(p)) / time.Duration(s.Step).Seconds() }
	}
	data.Charts = []lineChartView{
		lineChart("Requests per second", "req/s", from, to, series("all", "c1", func(p accesslog.Point) float64 { return p.RPS }, nil)),
		lineChart("Status classes", "req/s", from, to,
			series("2xx", "c1", perSec(func(p accesslog.Point) int64 { return p.Status2xx }), nil),
			series("3xx", "c2", perSec(func(p accesslog.Point) int64 { return p.Status3xx }), nil),
			series("4xx", "c3", perSec(func(p accesslog.Point) int64 { return p.Status4xx }), nil),
			series("5xx", "c4", perSec(func(p accesslog.Point) int64 { return p.Status5xx }), nil)),
		lineChart("Latency", "ms", from, to,
			series("p50", "c1", func(p accesslog.Point) float64 { return p.P50Ms }, withRequests),
			series("p95", "c2", func(p accesslog.Point) float64 { return p.P95Ms }, withRequests)),
	}

	status := fiber.StatusOK
	for _, name := range []string{"status", "method", "host", "path", "limit"} {
		data.Filters[name] = r.c.Query(name)
	}
	limit := 0
	if v := data.Filters["limit"]; v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			limit = -1
		}
	}
	f, err := accesslog.LatestFilter(data.Filters["status"], data.Filters["method"], data.Filters["host"], data.Filters["path"], limit)
	if fe := (*accesslog.FieldError)(nil); errors.As(err, &fe) {
		data.Errors[fe.Field] = fe.Message
		status = fiber.StatusUnprocessableEntity
	} else if data.Latest, err = d.store.LatestRequests(ctx, a.ID, f); err != nil {
		return err
	}
	return r.render(status, "requests", &view{Title: "Requests of " + a.Name, Data: data})
}
