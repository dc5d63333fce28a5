package cli

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// workloadMetrics is an application's or a database's series as the API
// returns it.
type workloadMetrics struct {
	Kind        string          `json:"kind"`
	ID          string          `json:"id"`
	StepSeconds int             `json:"step_seconds"`
	Points      []workloadPoint `json:"points"`
}

type workloadPoint struct {
	At            string  `json:"at"`
	Tasks         int     `json:"tasks"`
	CPUPercent    float64 `json:"cpu_percent"`
	CPUMaxPercent float64 `json:"cpu_max_percent"`
	MemUsedBytes  uint64  `json:"mem_used_bytes"`
	MemLimitBytes uint64  `json:"mem_limit_bytes"`
	NetRxBps      float64 `json:"net_rx_bps"`
	NetTxBps      float64 `json:"net_tx_bps"`
	BlockReadBps  float64 `json:"block_read_bps"`
	BlockWriteBps float64 `json:"block_write_bps"`
	Restarts      int     `json:"restarts"`
}

type serverPoint struct {
	At            string  `json:"at"`
	CPUPercent    float64 `json:"cpu_percent"`
	MemUsedBytes  uint64  `json:"mem_used_bytes"`
	MemTotalBytes uint64  `json:"mem_total_bytes"`
	Load1         float64 `json:"load1"`
	Load5         float64 `json:"load5"`
	Load15        float64 `json:"load15"`
	NetRxBps      float64 `json:"net_rx_bps"`
	NetTxBps      float64 `json:"net_tx_bps"`
	Disks         []struct {
		Mount      string `json:"mount"`
		UsedBytes  uint64 `json:"used_bytes"`
		TotalBytes uint64 `json:"total_bytes"`
	} `json:"disks"`
}

type serverInfo struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	SeenAt string       `json:"seen_at"`
	Latest *serverPoint `json:"latest"`
}

func metricsCmds() []command {
	return []command{
		simple("", "[APP_ID]", "Show an application's (or with --database a database's) CPU, memory, network, block I/O and restarts over --since.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			db := fs.String("database", "", "a database id instead of an application")
			since := fs.String("since", "1h", "how far back: a duration such as 15m, 1h or 7d")
			step := fs.String("step", "", "resolution such as 1m or 1h (default: about 300 points)")
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				if (len(a) == 1) == (*db != "") {
					return usageErr("give an APP_ID or --database DATABASE_ID")
				}
				path := dbPath(*db, "/metrics")
				if *db == "" {
					path = api + "/applications/" + url.PathEscape(a[0]) + "/metrics"
				}
				q := url.Values{"from": {*since}}
				if *step != "" {
					q.Set("step", *step)
				}
				var m workloadMetrics
				if err := c.Do(ctx, "GET", path, q, nil, &m); err != nil {
					return err
				}
				if m.Points == nil {
					m.Points = []workloadPoint{}
				}
				return e.print(m, []string{"AT", "TASKS", "CPU", "CPU PEAK", "MEMORY", "LIMIT", "NET IN/s", "NET OUT/s", "READ/s", "WRITE/s", "RESTARTS"}, func(i int) []string {
					p := m.Points[i]
					return []string{shortTime(p.At), strconv.Itoa(p.Tasks), percent(p.CPUPercent), percent(p.CPUMaxPercent), humanBytes(float64(p.MemUsedBytes)),
						humanBytes(float64(p.MemLimitBytes)), humanBytes(p.NetRxBps), humanBytes(p.NetTxBps), humanBytes(p.BlockReadBps),
						humanBytes(p.BlockWriteBps), strconv.Itoa(p.Restarts)}
				}, len(m.Points))
			}
		}),
	}
}

func serverCmds() []command {
	return []command{
		simple("", "", "List the servers berth measures with their latest CPU, memory, load, network and disks (instance administrators).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				var l page[serverInfo]
				if err := c.Do(ctx, "GET", api+"/servers", nil, nil, &l); err != nil {
					return err
				}
				items := orEmpty(l.Items)
				return e.print(items, []string{"ID", "NAME", "CPU", "MEMORY", "LOAD", "NET IN/s", "NET OUT/s", "DISKS", "MEASURED"}, func(i int) []string {
					s := items[i]
					p := s.Latest
					if p == nil {
						return []string{s.ID, s.Name, "-", "-", "-", "-", "-", "-", s.SeenAt}
					}
					var disks []string
					for _, d := range p.Disks {
						disks = append(disks, fmt.Sprintf("%s %s/%s", d.Mount, humanBytes(float64(d.UsedBytes)), humanBytes(float64(d.TotalBytes))))
					}
					return []string{s.ID, s.Name, percent(p.CPUPercent), humanBytes(float64(p.MemUsedBytes)) + "/" + humanBytes(float64(p.MemTotalBytes)),
						fmt.Sprintf("%.2f %.2f %.2f", p.Load1, p.Load5, p.Load15), humanBytes(p.NetRxBps), humanBytes(p.NetTxBps),
						strings.Join(disks, ", "), shortTime(p.At)}
				}, len(items))
			}
		}),
	}
}

func percent(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "%" }

// humanBytes formats a byte count (or rate) in binary units.
func humanBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(v, 'f', 0, 64) + " B"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}

// shortTime shows an RFC 3339 time as local HH:MM:SS (with the date when
// not today).
func shortTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	t = t.Local()
	if y, m, d := t.Date(); y == time.Now().Year() && m == time.Now().Month() && d == time.Now().Day() {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}
