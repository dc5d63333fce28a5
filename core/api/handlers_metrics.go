package api

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
)

// MetricsSource is the running sampler (core/metrics): the sampling
// interval in force and the latest round's Prometheus figures.
type MetricsSource interface {
	Interval() time.Duration
	WritePrometheus(w io.Writer)
}

// MetricsStore answers the metric queries (core/store).
type MetricsStore interface {
	MetricSeries(ctx context.Context, kind, target string, from, to time.Time, step time.Duration) ([]store.MetricPoint, error)
	MetricServers(ctx context.Context) ([]store.MetricServer, error)
	MetricServer(ctx context.Context, nodeID string) (store.MetricServer, error)
}

// WorkloadMetrics is an application's or a database's series.
type WorkloadMetrics struct {
	// Kind is application or database; ID its id.
	Kind string    `json:"kind"`
	ID   string    `json:"id"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// StepSeconds is the resolution: each point averages the rounds of
	// one step (maxima kept in the *_max fields).
	StepSeconds int             `json:"step_seconds"`
	Points      []WorkloadPoint `json:"points"`
}

// WorkloadPoint is a workload's figures over one step, summed over its
// running tasks; rates are per second.
type WorkloadPoint struct {
	At time.Time `json:"at"`
	// Tasks is the most running containers measured in the step.
	Tasks int `json:"tasks"`
	// CPUPercent follows docker stats: 100 = one core.
	CPUPercent    float64 `json:"cpu_percent"`
	CPUMaxPercent float64 `json:"cpu_max_percent"`
	MemUsedBytes  uint64  `json:"mem_used_bytes"`
	MemMaxBytes   uint64  `json:"mem_max_bytes"`
	MemLimitBytes uint64  `json:"mem_limit_bytes"`
	NetRxBps      float64 `json:"net_rx_bps"`
	NetTxBps      float64 `json:"net_tx_bps"`
	BlockReadBps  float64 `json:"block_read_bps"`
	BlockWriteBps float64 `json:"block_write_bps"`
	// Restarts counts the tasks that failed or were rejected in the hour
	// before the point.
	Restarts int `json:"restarts"`
}

// ServerMetrics is a server's host series.
type ServerMetrics struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	From        time.Time     `json:"from"`
	To          time.Time     `json:"to"`
	StepSeconds int           `json:"step_seconds"`
	Points      []ServerPoint `json:"points"`
}

// ServerPoint is a server's host figures over one step.
type ServerPoint struct {
	At time.Time `json:"at"`
	// CPUPercent is 0–100 of the whole host.
	CPUPercent    float64     `json:"cpu_percent"`
	CPUMaxPercent float64     `json:"cpu_max_percent"`
	MemUsedBytes  uint64      `json:"mem_used_bytes"`
	MemMaxBytes   uint64      `json:"mem_max_bytes"`
	MemTotalBytes uint64      `json:"mem_total_bytes"`
	Load1         float64     `json:"load1"`
	Load5         float64     `json:"load5"`
	Load15        float64     `json:"load15"`
	NetRxBps      float64     `json:"net_rx_bps"`
	NetTxBps      float64     `json:"net_tx_bps"`
	Disks         []DiskPoint `json:"disks"`
}

// DiskPoint is one mount's use at the end of a step.
type DiskPoint struct {
	Mount      string `json:"mount"`
	UsedBytes  uint64 `json:"used_bytes"`
	TotalBytes uint64 `json:"total_bytes"`
}

// ServerInfo is a server berth measures, with its latest figures.
type ServerInfo struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	SeenAt time.Time    `json:"seen_at"`
	Latest *ServerPoint `json:"latest"`
}

// metricsQuery documents ?from=&to=&step= of the metric routes.
var metricsQuery = []QueryParam{
	{"from", "start of the range, RFC 3339 or a duration before to such as 1h or 7d (default 1h)", "string"},
	{"to", "end of the range, RFC 3339 (default now)", "string"},
	{"step", "resolution such as 15s, 5m or 1h (default: the range over about 300 points, at least the sampling interval, 5m beyond the last 24 hours)", "string"},
}

// maxMetricsRange and maxMetricsPoints bound one query.
const (
	maxMetricsRange  = 92 * 24 * time.Hour
	maxMetricsPoints = 5000
)

// metricsRange reads ?from=&to=&step=, naming the bad parameter.
func (s *Server) metricsRange(c *fiber.Ctx) (from, to time.Time, step time.Duration, err error) {
	now := time.Now().UTC()
	to = now
	if v := c.Query("to"); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			return from, to, 0, invalid("to", "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
		}
	}
	from = to.Add(-time.Hour)
	if v := c.Query("from"); v != "" {
		if d, ok := parseSpan(v); ok {
			from = to.Add(-d)
		} else if from, err = time.Parse(time.RFC3339, v); err != nil {
			return from, to, 0, invalid("from", "must be an RFC 3339 time or a duration such as 1h or 7d")
		}
	}
	if !from.Before(to) {
		return from, to, 0, invalid("from", "must be before to")
	}
	if to.Sub(from) > maxMetricsRange {
		return from, to, 0, invalid("from", "the range must be at most 92 days")
	}
	interval := 15 * time.Second
	if s.opts.Metrics != nil {
		interval = s.opts.Metrics.Interval()
	}
	step = store.MetricStep(from, to, now, interval)
	if v := c.Query("step"); v != "" {
		d, ok := parseSpan(v)
		if !ok || d < time.Second {
			return from, to, 0, invalid("step", "must be a duration of at least 1s such as 15s, 5m or 1h")
		}
		if to.Sub(from)/d > maxMetricsPoints {
			return from, to, 0, invalid("step", "gives more than %d points over the range", maxMetricsPoints)
		}
		step = d
	}
	return from, to, step, nil
}

// parseSpan reads a positive Go duration or a number of days ("7d").
func parseSpan(v string) (time.Duration, bool) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		return time.Duration(days) * 24 * time.Hour, err == nil && days > 0
	}
	d, err := time.ParseDuration(v)
	return d, err == nil && d > 0
}

func (s *Server) metricsStore() MetricsStore { return s.store }

func (s *Server) applicationMetrics(c *fiber.Ctx) (WorkloadMetrics, error) {
	return s.workloadMetrics(c, store.MetricKindApplication, resolved(c).Application.ID.String())
}

func (s *Server) databaseMetrics(c *fiber.Ctx) (WorkloadMetrics, error) {
	return s.workloadMetrics(c, store.MetricKindDatabase, resolved(c).Database.ID.String())
}

func (s *Server) workloadMetrics(c *fiber.Ctx, kind, id string) (WorkloadMetrics, error) {
	from, to, step, err := s.metricsRange(c)
	if err != nil {
		return WorkloadMetrics{}, err
	}
	pts, err := s.metricsStore().MetricSeries(c.UserContext(), kind, id, from, to, step)
	if err != nil {
		return WorkloadMetrics{}, err
	}
	out := WorkloadMetrics{Kind: kind, ID: id, From: from, To: to, StepSeconds: int(step / time.Second), Points: make([]WorkloadPoint, 0, len(pts))}
	for _, p := range pts {
		out.Points = append(out.Points, WorkloadPoint{At: p.At, Tasks: p.Tasks, CPUPercent: p.CPUPercent, CPUMaxPercent: p.CPUMaxPercent,
			MemUsedBytes: p.MemUsedBytes, MemMaxBytes: p.MemMaxBytes, MemLimitBytes: p.MemLimitBytes, NetRxBps: p.NetRxBps,
			NetTxBps: p.NetTxBps, BlockReadBps: p.BlockReadBps, BlockWriteBps: p.BlockWriteBps, Restarts: p.Restarts})
	}
	return out, nil
}

// ServerPointOf converts a stored server point.
func ServerPointOf(p store.MetricPoint) ServerPoint {
	out := ServerPoint{At: p.At, CPUPercent: p.CPUPercent, CPUMaxPercent: p.CPUMaxPercent, MemUsedBytes: p.MemUsedBytes,
		MemMaxBytes: p.MemMaxBytes, MemTotalBytes: p.MemLimitBytes, Load1: p.Load1, Load5: p.Load5, Load15: p.Load15,
		NetRxBps: p.NetRxBps, NetTxBps: p.NetTxBps, Disks: make([]DiskPoint, 0, len(p.Disks))}
	for _, d := range p.Disks {
		out.Disks = append(out.Disks, DiskPoint{Mount: d.Mount, UsedBytes: d.UsedBytes, TotalBytes: d.TotalBytes})
	}
	return out
}

// listServers is for instance administrators: host figures are the
// whole instance's.
func (s *Server) listServers(c *fiber.Ctx) (List[ServerInfo], error) {
	if err := s.requireInstanceAdmin(c); err != nil {
		return List[ServerInfo]{}, err
	}
	ctx := c.UserContext()
	servers, err := s.metricsStore().MetricServers(ctx)
	if err != nil {
		return List[ServerInfo]{}, err
	}
	out := List[ServerInfo]{Items: make([]ServerInfo, 0, len(servers))}
	now := time.Now()
	for _, sv := range servers {
		info := ServerInfo{ID: sv.NodeID, Name: sv.Name, SeenAt: sv.SeenAt}
		pts, err := s.metricsStore().MetricSeries(ctx, store.MetricKindServer, sv.NodeID, sv.SeenAt, now.Add(time.Second), time.Second)
		if err != nil {
			return out, err
		}
		if len(pts) > 0 {
			p := ServerPointOf(pts[len(pts)-1])
			info.Latest = &p
		}
		out.Items = append(out.Items, info)
	}
	return out, nil
}

func (s *Server) serverMetrics(c *fiber.Ctx) (ServerMetrics, error) {
	if err := s.requireInstanceAdmin(c); err != nil {
		return ServerMetrics{}, err
	}
	sv, err := s.metricsStore().MetricServer(c.UserContext(), c.Params("id"))
	if err != nil {
		return ServerMetrics{}, err
	}
	from, to, step, err := s.metricsRange(c)
	if err != nil {
		return ServerMetrics{}, err
	}
	pts, err := s.metricsStore().MetricSeries(c.UserContext(), store.MetricKindServer, sv.NodeID, from, to, step)
	if err != nil {
		return ServerMetrics{}, err
	}
	out := ServerMetrics{ID: sv.NodeID, Name: sv.Name, From: from, To: to, StepSeconds: int(step / time.Second), Points: make([]ServerPoint, 0, len(pts))}
	for _, p := range pts {
		out.Points = append(out.Points, ServerPointOf(p))
	}
	return out, nil
}
