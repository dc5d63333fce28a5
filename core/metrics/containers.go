package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/google/uuid"
)

// Labels that tie a Swarm service to what berth runs in it (core/swarm,
// core/dbservice).
const (
	labelManaged    = "dev.berth.managed"
	labelAppID      = "dev.berth.app-id"
	labelDatabaseID = "dev.berth.database-id"
	labelServiceID  = "com.docker.swarm.service.id"
	labelInstance   = "dev.berth.instance"
)

// Engine is the part of the Docker Engine API the workload reader uses.
type Engine interface {
	ServiceList(ctx context.Context, options swarm.ServiceListOptions) ([]swarm.Service, error)
	TaskList(ctx context.Context, options swarm.TaskListOptions) ([]swarm.Task, error)
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerStatsOneShot(ctx context.Context, containerID string) (container.StatsResponseReader, error)
}

// Workloads reads the figures of berth's task containers on this node from
// the Docker Engine. Rates (CPU, network, block I/O) are deltas since the
// container's previous reading, so a container seen for the first time
// counts with its memory only. State is a handful of counters per running
// container, dropped once the container is gone.
type Workloads struct {
	engine Engine
	// Concurrency bounds the stats requests in flight (default 8: a loaded
	// engine may take a second per one-shot stats call).
	Concurrency int
	// Instance, when set, keeps to the services of this berth instance
	// (label dev.berth.instance; services without the label, deployed by
	// an older berth, count too): several instances may share an engine.
	Instance string
	// RestartsEvery is how often the task history is read for the
	// restart counts (default one minute); rounds in between reuse it.
	RestartsEvery time.Duration

	prev         map[string]containerCounters
	restarts     map[string]int // by service id
	restartsRead time.Time
}

// containerCounters are a container's cumulative counters at one reading.
type containerCounters struct {
	read                      time.Time
	cpu, system               uint64
	rx, tx, blkRead, blkWrite uint64
}

// NewWorkloads reads workloads through engine.
func NewWorkloads(engine Engine) *Workloads {
	return &Workloads{engine: engine, Concurrency: 8, RestartsEvery: time.Minute,
		prev: map[string]containerCounters{}, restarts: map[string]int{}}
}

type target struct {
	kind string
	id   uuid.UUID
}

// targets maps the services to measure (this instance's applications and
// databases) by service id.
func (w *Workloads) targets(services []swarm.Service) map[string]target {
	out := make(map[string]target, len(services))
	for _, s := range services {
		if owner, ok := s.Spec.Labels[labelInstance]; ok && w.Instance != "" && owner != w.Instance {
			continue
		}
		if t, ok := serviceTarget(s.Spec.Labels); ok {
			out[s.ID] = t
		}
	}
	return out
}

// Read measures every application's and database's running containers.
func (w *Workloads) Read(ctx context.Context, now time.Time) ([]WorkloadSample, error) {
	services, err := w.engine.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", labelManaged+"=true"))})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	targets := w.targets(services)
	if err := w.readRestarts(ctx, now, targets); err != nil {
		return nil, err
	}
	list, err := w.engine.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", labelServiceID))})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	type job struct {
		id, service string
	}
	var jobs []job
	for _, c := range list {
		if _, ok := targets[c.Labels[labelServiceID]]; ok && c.State == "running" {
			jobs = append(jobs, job{c.ID, c.Labels[labelServiceID]})
		}
	}
	stats := make([]*container.StatsResponse, len(jobs))
	sem := make(chan struct{}, max(1, w.Concurrency))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			stats[i], _ = w.stats(ctx, j.id) // a container that stopped meanwhile is left out
		}()
	}
	wg.Wait()

	byTarget := map[target]*WorkloadSample{}
	var order []target
	sample := func(t target) *WorkloadSample {
		ws, ok := byTarget[t]
		if !ok {
			ws = &WorkloadSample{Kind: t.kind, ID: t.id}
			byTarget[t] = ws
			order = append(order, t)
		}
		return ws
	}
	next := make(map[string]containerCounters, len(jobs))
	for i, j := range jobs {
		st := stats[i]
		if st == nil {
			continue
		}
		ws := sample(targets[j.service])
		cur := countersOf(st)
		ws.Tasks++
		ws.MemUsedBytes += MemoryUsed(st.MemoryStats)
		ws.MemLimitBytes += st.MemoryStats.Limit
		if p, ok := w.prev[j.id]; ok {
			ws.CPUPercent += CPUPercent(p.cpu, cur.cpu, p.system, cur.system, st.CPUStats.OnlineCPUs)
			if secs := cur.read.Sub(p.read).Seconds(); secs > 0 {
				ws.NetRxBps += counterRate(p.rx, cur.rx, secs)
				ws.NetTxBps += counterRate(p.tx, cur.tx, secs)
				ws.BlockReadBps += counterRate(p.blkRead, cur.blkRead, secs)
				ws.BlockWriteBps += counterRate(p.blkWrite, cur.blkWrite, secs)
			}
		}
		next[j.id] = cur
	}
	w.prev = next
	// Services without a running container still report their restarts.
	for sid, n := range w.restarts {
		if t, ok := targets[sid]; ok && n > 0 {
			sample(t).Restarts += n
		}
	}
	out := make([]WorkloadSample, 0, len(order))
	for _, t := range order {
		out = append(out, *byTarget[t])
	}
	return out, nil
}

// serviceTarget tells which application or database a service runs.
func serviceTarget(labels map[string]string) (target, bool) {
	if v, ok := labels[labelAppID]; ok {
		if id, err := uuid.Parse(v); err == nil {
			return target{KindApplication, id}, true
		}
	}
	if v, ok := labels[labelDatabaseID]; ok {
		if id, err := uuid.Parse(v); err == nil {
			return target{KindDatabase, id}, true
		}
	}
	return target{}, false
}

func (w *Workloads) stats(ctx context.Context, id string) (*container.StatsResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := w.engine.ContainerStatsOneShot(ctx, id)
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(r.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("decode stats of %s: %w", id, err)
	}
	return &st, nil
}

// readRestarts counts, per service, the tasks that failed or were
// rejected within the last hour; the task history is read at most every
// RestartsEvery.
func (w *Workloads) readRestarts(ctx context.Context, now time.Time, targets map[string]target) error {
	if !w.restartsRead.IsZero() && now.Sub(w.restartsRead) < w.RestartsEvery {
		return nil
	}
	tasks, err := w.engine.TaskList(ctx, swarm.TaskListOptions{})
	if err != nil {
		return fmt.Errorf("list tasks: %w", err)
	}
	w.restarts = RestartCounts(tasks, targets, now)
	w.restartsRead = now
	return nil
}

// RestartCounts counts per service the tasks of known services that
// failed or were rejected after now − 1 h.
func RestartCounts(tasks []swarm.Task, targets map[string]target, now time.Time) map[string]int {
	out := map[string]int{}
	since := now.Add(-time.Hour)
	for _, t := range tasks {
		if _, ok := targets[t.ServiceID]; !ok {
			continue
		}
		if t.Status.State != swarm.TaskStateFailed && t.Status.State != swarm.TaskStateRejected {
			continue
		}
		if t.Status.Timestamp.After(since) {
			out[t.ServiceID]++
		}
	}
	return out
}

func countersOf(st *container.StatsResponse) containerCounters {
	c := containerCounters{read: st.Read, cpu: st.CPUStats.CPUUsage.TotalUsage, system: st.CPUStats.SystemUsage}
	for _, n := range st.Networks {
		c.rx += n.RxBytes
		c.tx += n.TxBytes
	}
	for _, e := range st.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			c.blkRead += e.Value
		case "write":
			c.blkWrite += e.Value
		}
	}
	return c
}

// CPUPercent is the docker stats figure between two readings of a
// container: its CPU time over the host's, times the online CPUs, so 100
// is one core busy.
func CPUPercent(prevCPU, cpu, prevSystem, system uint64, onlineCPUs uint32) float64 {
	if cpu < prevCPU || system <= prevSystem {
		return 0
	}
	return float64(cpu-prevCPU) / float64(system-prevSystem) * float64(max(onlineCPUs, 1)) * 100
}

// MemoryUsed is memory use as docker stats shows it: usage minus the
// inactive file cache (total_inactive_file on cgroup v1, inactive_file on
// v2).
func MemoryUsed(m container.MemoryStats) uint64 {
	inactive, v1 := m.Stats["total_inactive_file"]
	if !v1 {
		inactive = m.Stats["inactive_file"]
	}
	if inactive < m.Usage {
		return m.Usage - inactive
	}
	return m.Usage
}
