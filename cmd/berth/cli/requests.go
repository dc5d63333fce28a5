package cli

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"
)

// requestStats is the API's request series (core/accesslog.Series).
type requestStats struct {
	From  time.Time     `json:"from"`
	To    time.Time     `json:"to"`
	Total requestsPoint `json:"total"`
}

type requestsPoint struct {
	Requests  int64   `json:"requests"`
	RPS       float64 `json:"rps"`
	Status1xx int64   `json:"status_1xx"`
	Status2xx int64   `json:"status_2xx"`
	Status3xx int64   `json:"status_3xx"`
	Status4xx int64   `json:"status_4xx"`
	Status5xx int64   `json:"status_5xx"`
	P50Ms     float64 `json:"p50_ms"`
	P95Ms     float64 `json:"p95_ms"`
}

type requestEntry struct {
	At         time.Time `json:"at"`
	Method     string    `json:"method"`
	Host       string    `json:"host"`
	Path       string    `json:"path"`
	Status     int       `json:"status"`
	DurationMs float64   `json:"duration_ms"`
	Client     string    `json:"client"`
}

// requestsCmd prints an application's request summary and latest requests
// from the proxy's access log.
func requestsCmd() command {
	return simple("", "APP_ID", "Show an application's requests from the proxy's access log: totals, status classes and p50/p95 latency over --since, then the latest requests (--status 5xx or 404, --limit N).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
		since := fs.Duration("since", time.Hour, "summarize this far back (at most 744h)")
		status := fs.String("status", "", "latest requests with this status class (5xx) or code (404)")
		limit := fs.Int("limit", 20, "how many latest requests (1 to 1000)")
		return func(ctx context.Context, e *Env, c *Client, args []string) error {
			if len(args) != 1 {
				return usageErr("berth requests: want one APP_ID")
			}
			base := api + "/applications/" + url.PathEscape(args[0]) + "/requests"
			to := time.Now().UTC()
			var stats requestStats
			q := url.Values{"from": {to.Add(-*since).Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
			if err := c.Do(ctx, "GET", base+"/stats", q, nil, &stats); err != nil {
				return err
			}
			var latest page[requestEntry]
			lq := url.Values{"limit": {strconv.Itoa(*limit)}}
			if *status != "" {
				lq.Set("status", *status)
			}
			if err := c.Do(ctx, "GET", base, lq, nil, &latest); err != nil {
				return err
			}
			if e.output == "json" {
				return e.printObject(map[string]any{"total": stats.Total, "from": stats.From, "to": stats.To, "latest": latest.Items})
			}
			t := stats.Total
			tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "since\t%s (%s)\n", stats.From.Local().Format(time.DateTime), *since)
			fmt.Fprintf(tw, "requests\t%d (%.2f/s)\n", t.Requests, t.RPS)
			fmt.Fprintf(tw, "status\t1xx %d  2xx %d  3xx %d  4xx %d  5xx %d\n", t.Status1xx, t.Status2xx, t.Status3xx, t.Status4xx, t.Status5xx)
			fmt.Fprintf(tw, "latency\tp50 %.1f ms  p95 %.1f ms\n", t.P50Ms, t.P95Ms)
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(e.Stdout)
			items := latest.Items
			return e.print(latest, []string{"TIME", "STATUS", "METHOD", "HOST", "PATH", "MS", "CLIENT"}, func(i int) []string {
				r := items[i]
				return []string{r.At.Local().Format(time.DateTime), strconv.Itoa(r.Status), r.Method, r.Host, r.Path,
					strconv.FormatFloat(r.DurationMs, 'f', 1, 64), r.Client}
			}, len(items))
		}
	})
}
