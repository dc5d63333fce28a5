package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Metric target kinds (core/metrics).
const (
	MetricKindServer      = "server"
	MetricKindApplication = "application"
	MetricKindDatabase    = "database"
)

// RawMetricsKept is how long raw metric points are kept before they are
// folded into MetricRollupStep rows.
const RawMetricsKept = 24 * time.Hour

// MetricRollupStep is the resolution of metric points older than
// RawMetricsKept.
const MetricRollupStep = 5 * time.Minute

// MetricPoint is one target's figures at one time: a raw round, a
// 5-minute rollup or an average over a query's step. Rates are per second.
type MetricPoint struct {
	Kind   string
	Target string
	At     time.Time
	// Samples is how many rounds the point averages (1 for a raw one).
	Samples                     int
	Tasks                       int
	CPUPercent, CPUMaxPercent   float64
	MemUsedBytes, MemMaxBytes   uint64
	MemLimitBytes               uint64
	NetRxBps, NetTxBps          float64
	BlockReadBps, BlockWriteBps float64
	Load1, Load5, Load15        float64
	Restarts                    int
	Disks                       []MetricDisk
}

// MetricDisk is one mount's use on a server.
type MetricDisk struct {
	Mount      string `json:"mount"`
	UsedBytes  uint64 `json:"used"`
	TotalBytes uint64 `json:"total"`
}

// MetricServer is a server (Swarm node) berth measured.
type MetricServer struct {
	NodeID string
	Name   string
	SeenAt time.Time
}

func metricKind(kind string) (int16, error) {
	switch kind {
	case MetricKindServer:
		return 1, nil
	case MetricKindApplication:
		return 2, nil
	case MetricKindDatabase:
		return 3, nil
	}
	return 0, fmt.Errorf("metrics: unknown kind %q", kind)
}

// WriteMetrics stores one round in one statement: every point, and the
// servers measured (name and time last seen).
func (s *Store) WriteMetrics(ctx context.Context, points []MetricPoint, servers []MetricServer) error {
	n := len(points)
	var (
		kinds                            = make([]int16, n)
		targets                          = make([]string, n)
		ats                              = make([]time.Time, n)
		tasks, restarts                  = make([]int16, n), make([]int16, n)
		cpu, rx, tx, br, bw, l1, l5, l15 = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		memUsed, memLimit                = make([]int64, n), make([]int64, n)
		disks                            = make([]*string, n)
	)
	for i, p := range points {
		k, err := metricKind(p.Kind)
		if err != nil {
			return err
		}
		kinds[i], targets[i], ats[i] = k, p.Target, p.At
		tasks[i], restarts[i] = int16(min(p.Tasks, 32767)), int16(min(p.Restarts, 32767))
		cpu[i], rx[i], tx[i], br[i], bw[i] = float32(p.CPUPercent), float32(p.NetRxBps), float32(p.NetTxBps), float32(p.BlockReadBps), float32(p.BlockWriteBps)
		l1[i], l5[i], l15[i] = float32(p.Load1), float32(p.Load5), float32(p.Load15)
		memUsed[i], memLimit[i] = int64(p.MemUsedBytes), int64(p.MemLimitBytes)
		if p.Disks != nil {
			b, err := json.Marshal(p.Disks)
			if err != nil {
				return fmt.Errorf("metrics: encode disks: %w", err)
			}
			d := string(b)
			disks[i] = &d
		}
	}
	nodes, names, seen := make([]string, len(servers)), make([]string, len(servers)), make([]time.Time, len(servers))
	for i, sv := range servers {
		nodes[i], names[i], seen[i] = sv.NodeID, sv.Name, sv.SeenAt
	}
	if n == 0 && len(servers) == 0 {
		return nil
	}
	// One statement: the servers upserted in a CTE, the points inserted.
	_, err := s.pool.Exec(ctx, `WITH servers AS (INSERT INTO metric_servers (node_id, name, seen_at)
			SELECT * FROM unnest($17::text[], $18::text[], $19::timestamptz[])
			ON CONFLICT (node_id) DO UPDATE SET name = EXCLUDED.name, seen_at = EXCLUDED.seen_at)
		INSERT INTO metric_points (kind, target, at, tasks, cpu, mem_used, mem_limit, net_rx, net_tx,
			blk_read, blk_write, load1, load5, load15, restarts, disks)
		SELECT k, t, a, ts, c, mu, ml, r, x, br, bw, l1, l5, l15, rs, d::jsonb
		FROM unnest($1::smallint[], $2::text[], $3::timestamptz[], $4::smallint[], $5::real[], $6::bigint[], $7::bigint[],
			$8::real[], $9::real[], $10::real[], $11::real[], $12::real[], $13::real[], $14::real[], $15::smallint[], $16::text[])
			AS u(k, t, a, ts, c, mu, ml, r, x, br, bw, l1, l5, l15, rs, d)`,
		kinds, targets, ats, tasks, cpu, memUsed, memLimit, rx, tx, br, bw, l1, l5, l15, restarts, disks, nodes, names, seen)
	return mapErr(err, "metrics")
}

// MetricsPruned reports what a retention pass did.
type MetricsPruned struct {
	// Folded is the raw points folded into rollups, Rollups the rollup
	// rows written, Expired the rollup rows deleted.
	Folded, Rollups, Expired int64
}

// PruneMetrics folds the raw points older than now − RawMetricsKept (whole
// 5-minute buckets) into rollups and deletes the rollups older than now −
// retention, in one transaction.
func (s *Store) PruneMetrics(ctx context.Context, now time.Time, retention time.Duration) (MetricsPruned, error) {
	var out MetricsPruned
	cutoff := now.Add(-RawMetricsKept).Truncate(MetricRollupStep)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `WITH moved AS (DELETE FROM metric_points WHERE at < $1 RETURNING *),
			ins AS (INSERT INTO metric_rollups (kind, target, at, samples, tasks, cpu, cpu_max, mem_used, mem_max, mem_limit,
				net_rx, net_tx, blk_read, blk_write, load1, load5, load15, restarts, disks)
			SELECT kind, target, date_bin($2, at, timestamptz '2000-01-01 00:00:00+00') AS bucket, count(*), max(tasks),
				avg(cpu), max(cpu), avg(mem_used)::bigint, max(mem_used), max(mem_limit), avg(net_rx), avg(net_tx),
				avg(blk_read), avg(blk_write), avg(load1), avg(load5), avg(load15), max(restarts),
				(array_agg(disks ORDER BY at DESC))[1]
			FROM moved GROUP BY kind, target, bucket
			ON CONFLICT (kind, target, at) DO NOTHING RETURNING 1)
			SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM ins)`, cutoff, MetricRollupStep).Scan(&out.Folded, &out.Rollups)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM metric_rollups WHERE at < $1`, now.Add(-retention))
		out.Expired = tag.RowsAffected()
		return err
	})
	return out, mapErr(err, "metrics")
}

// MetricSeries returns a target's points in [from, to), averaged over
// step (maxima kept): raw points where they are kept, 5-minute rollups
// before. A step below the resolution of the points returns them as they
// are stored.
func (s *Store) MetricSeries(ctx context.Context, kind, target string, from, to time.Time, step time.Duration) ([]MetricPoint, error) {
	k, err := metricKind(kind)
	if err != nil {
		return nil, err
	}
	if step <= 0 {
		step = time.Second
	}
	rows, err := s.pool.Query(ctx, `SELECT date_bin($5, at, timestamptz '2000-01-01 00:00:00+00') AS t,
			sum(n)::int, max(tasks), sum(cpu * n) / sum(n), max(cpu_max), (sum(mem_used * n) / sum(n))::bigint, max(mem_max),
			max(mem_limit), sum(net_rx * n) / sum(n), sum(net_tx * n) / sum(n), sum(blk_read * n) / sum(n),
			sum(blk_write * n) / sum(n), sum(load1 * n) / sum(n), sum(load5 * n) / sum(n), sum(load15 * n) / sum(n),
			max(restarts), (array_agg(disks ORDER BY at DESC))[1]
		FROM (SELECT at, 1 AS n, tasks, cpu, cpu AS cpu_max, mem_used, mem_used AS mem_max, mem_limit, net_rx, net_tx,
				blk_read, blk_write, load1, load5, load15, restarts, disks
			FROM metric_points WHERE kind = $1 AND target = $2 AND at >= $3 AND at < $4
			UNION ALL
			SELECT at, samples, tasks, cpu, cpu_max, mem_used, mem_max, mem_limit, net_rx, net_tx,
				blk_read, blk_write, load1, load5, load15, restarts, disks
			FROM metric_rollups WHERE kind = $1 AND target = $2 AND at >= $3 AND at < $4) x
		GROUP BY t ORDER BY t`, k, target, from, to, step)
	if err != nil {
		return nil, mapErr(err, "metrics")
	}
	defer rows.Close()
	out := []MetricPoint{}
	for rows.Next() {
		p := MetricPoint{Kind: kind, Target: target}
		var cpu, cpuMax, rx, tx, br, bw, l1, l5, l15 float64
		var memUsed, memMax, memLimit int64
		var tasks, restarts int16
		var disks []byte
		if err := rows.Scan(&p.At, &p.Samples, &tasks, &cpu, &cpuMax, &memUsed, &memMax, &memLimit, &rx, &tx, &br, &bw,
			&l1, &l5, &l15, &restarts, &disks); err != nil {
			return nil, mapErr(err, "metrics")
		}
		p.Tasks, p.Restarts = int(tasks), int(restarts)
		p.CPUPercent, p.CPUMaxPercent, p.NetRxBps, p.NetTxBps, p.BlockReadBps, p.BlockWriteBps = cpu, cpuMax, rx, tx, br, bw
		p.Load1, p.Load5, p.Load15 = l1, l5, l15
		p.MemUsedBytes, p.MemMaxBytes, p.MemLimitBytes = uint64(max(memUsed, 0)), uint64(max(memMax, 0)), uint64(max(memLimit, 0))
		if len(disks) > 0 {
			if err := json.Unmarshal(disks, &p.Disks); err != nil {
				return nil, fmt.Errorf("metrics: decode disks: %w", err)
			}
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err(), "metrics")
}

// MetricServers lists the servers berth measured, by name.
func (s *Store) MetricServers(ctx context.Context) ([]MetricServer, error) {
	rows, err := s.pool.Query(ctx, `SELECT node_id, name, seen_at FROM metric_servers ORDER BY name, node_id`)
	if err != nil {
		return nil, mapErr(err, "servers")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MetricServer, error) {
		var m MetricServer
		return m, r.Scan(&m.NodeID, &m.Name, &m.SeenAt)
	})
	if out == nil {
		out = []MetricServer{}
	}
	return out, mapErr(err, "servers")
}

// MetricServer returns one measured server.
func (s *Store) MetricServer(ctx context.Context, nodeID string) (MetricServer, error) {
	var m MetricServer
	err := s.pool.QueryRow(ctx, `SELECT node_id, name, seen_at FROM metric_servers WHERE node_id = $1`, nodeID).Scan(&m.NodeID, &m.Name, &m.SeenAt)
	return m, mapErr(err, "server")
}

// WorkloadName is what the Prometheus export labels a workload with.
type WorkloadName struct {
	Name, Project, Environment string
}

// WorkloadNames returns the names of the applications and databases among
// ids (unknown ids are left out).
func (s *Store) WorkloadNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]WorkloadName, error) {
	out := make(map[uuid.UUID]WorkloadName, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT a.id, a.name, p.name, e.name FROM applications a
			JOIN environments e ON e.id = a.environment_id JOIN projects p ON p.id = e.project_id WHERE a.id = ANY($1)
		UNION ALL
		SELECT d.id, d.name, p.name, e.name FROM databases d
			JOIN environments e ON e.id = d.environment_id JOIN projects p ON p.id = e.project_id WHERE d.id = ANY($1)`, ids)
	if err != nil {
		return nil, mapErr(err, "workloads")
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var n WorkloadName
		if err := rows.Scan(&id, &n.Name, &n.Project, &n.Environment); err != nil {
			return nil, mapErr(err, "workloads")
		}
		out[id] = n
	}
	return out, mapErr(rows.Err(), "workloads")
}

// MaxSeriesPoints is about how many points MetricStep aims a series at.
const MaxSeriesPoints = 300

// MetricStep picks the step of a series over [from, to) seen at now: the
// range over about MaxSeriesPoints, no finer than interval (the sampling
// interval) and, when the range reaches past the raw points kept, no finer
// than MetricRollupStep. Steps are whole seconds.
func MetricStep(from, to, now time.Time, interval time.Duration) time.Duration {
	step := max(to.Sub(from)/MaxSeriesPoints, interval, time.Second)
	if from.Before(now.Add(-RawMetricsKept)) {
		step = max(step, MetricRollupStep)
	}
	return step.Round(time.Second)
}
