package metrics

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// Defaults of the instance settings.
const (
	DefaultInterval  = 15 * time.Second
	DefaultRetention = 7 * 24 * time.Hour
	// pruneEvery is how often the retention pass runs.
	pruneEvery = time.Hour
)

// Store is what the Sampler keeps rounds in and reads its settings from.
type Store interface {
	WriteMetrics(ctx context.Context, points []store.MetricPoint, servers []store.MetricServer) error
	PruneMetrics(ctx context.Context, now time.Time, retention time.Duration) (store.MetricsPruned, error)
	InstanceSettings(ctx context.Context) (store.InstanceSettings, error)
	WorkloadNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]store.WorkloadName, error)
}

// Options configure a Sampler.
type Options struct {
	Store Store
	// Host reads the local server's figures; nil measures no server.
	Host *Host
	// Workloads reads the containers' figures; nil measures none.
	Workloads *Workloads
	// NodeID and NodeName identify the local server (the Swarm node).
	NodeID, NodeName string
	Logger           *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Sampler takes a Round every interval (the instance setting, read
// before each round so a change applies at the next one), stores it,
// keeps it as the latest for the Prometheus export and the server list, and
// runs the OnRound callbacks. Once an hour it runs the retention pass.
type Sampler struct {
	o Options

	mu        sync.Mutex
	latest    Round
	names     map[uuid.UUID]store.WorkloadName
	callbacks []func(ctx context.Context, r Round)
	interval  time.Duration
	lastPrune time.Time
}

// New makes a Sampler; call Run to start it.
func New(o Options) *Sampler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Sampler{o: o, interval: DefaultInterval, names: map[uuid.UUID]store.WorkloadName{}}
}

// SetNode names the local server (its Swarm node id and host name);
// call it before Run.
func (s *Sampler) SetNode(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.o.NodeID, s.o.NodeName = id, name
}

// OnRound registers a callback run after each round, in the sampling
// goroutine: keep it short.
func (s *Sampler) OnRound(f func(ctx context.Context, r Round)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callbacks = append(s.callbacks, f)
}

// Latest returns the last round, and false before the first.
func (s *Sampler) Latest() (Round, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest, !s.latest.At.IsZero()
}

// Interval is the sampling interval in force.
func (s *Sampler) Interval() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.interval
}

// Run samples until ctx ends.
func (s *Sampler) Run(ctx context.Context) {
	var lastErr string // a failure is logged once, not every round
	for {
		retention := s.settings(ctx)
		_, err := s.Sample(ctx)
		switch {
		case err != nil && ctx.Err() == nil && err.Error() != lastErr:
			s.o.Logger.Warn("metrics round failed", "err", err)
			lastErr = err.Error()
		case err == nil && lastErr != "":
			s.o.Logger.Info("metrics rounds succeed again")
			lastErr = ""
		}
		if now := s.o.Now(); now.Sub(s.lastPrune) >= pruneEvery {
			s.lastPrune = now
			if res, err := s.o.Store.PruneMetrics(ctx, now, retention); err != nil && ctx.Err() == nil {
				s.o.Logger.Warn("metrics retention pass failed", "err", err)
			} else if err == nil && (res.Folded > 0 || res.Expired > 0) {
				s.o.Logger.Debug("metrics retention pass", "folded", res.Folded, "rollups", res.Rollups, "expired", res.Expired)
			}
		}
		t := time.NewTimer(s.Interval())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// settings reads the interval and retention from the instance settings,
// keeping the defaults when they cannot be read.
func (s *Sampler) settings(ctx context.Context) time.Duration {
	retention := DefaultRetention
	in, err := s.o.Store.InstanceSettings(ctx)
	if err != nil {
		return retention
	}
	s.mu.Lock()
	if in.MetricsIntervalSeconds > 0 {
		s.interval = time.Duration(in.MetricsIntervalSeconds) * time.Second
	}
	s.mu.Unlock()
	if in.MetricsRetentionDays > 0 {
		retention = time.Duration(in.MetricsRetentionDays) * 24 * time.Hour
	}
	return retention
}

// Sample takes one round now: reads, stores, exports and hands it to the
// callbacks. A target that cannot be read is left out of the round; the
// errors are returned joined.
func (s *Sampler) Sample(ctx context.Context) (Round, error) {
	now := s.o.Now().UTC()
	r := Round{At: now}
	var errs []error
	if s.o.Host != nil {
		hs, err := s.o.Host.Read(now)
		if err != nil {
			errs = append(errs, err)
		} else {
			s.mu.Lock()
			hs.NodeID, hs.Name = s.o.NodeID, s.o.NodeName
			s.mu.Unlock()
			r.Servers = append(r.Servers, hs)
		}
	}
	if s.o.Workloads != nil {
		ws, err := s.o.Workloads.Read(ctx, now)
		if err != nil {
			errs = append(errs, err)
		}
		r.Workloads = ws
	}
	if err := s.o.Store.WriteMetrics(ctx, Points(r), servers(r)); err != nil {
		errs = append(errs, err)
	}
	s.refreshNames(ctx, r)
	s.mu.Lock()
	s.latest = r
	callbacks := append([]func(context.Context, Round){}, s.callbacks...)
	s.mu.Unlock()
	for _, f := range callbacks {
		f(ctx, r)
	}
	return r, errors.Join(errs...)
}

// refreshNames looks up the names of workloads not seen before and forgets
// those gone, for the Prometheus labels.
func (s *Sampler) refreshNames(ctx context.Context, r Round) {
	s.mu.Lock()
	var missing []uuid.UUID
	seen := make(map[uuid.UUID]bool, len(r.Workloads))
	for _, w := range r.Workloads {
		seen[w.ID] = true
		if _, ok := s.names[w.ID]; !ok {
			missing = append(missing, w.ID)
		}
	}
	for id := range s.names {
		if !seen[id] {
			delete(s.names, id)
		}
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return
	}
	names, err := s.o.Store.WorkloadNames(ctx, missing)
	if err != nil {
		return
	}
	s.mu.Lock()
	for id, n := range names {
		s.names[id] = n
	}
	s.mu.Unlock()
}

// Points converts a round into the rows stored.
func Points(r Round) []store.MetricPoint {
	out := make([]store.MetricPoint, 0, len(r.Servers)+len(r.Workloads))
	for _, h := range r.Servers {
		p := store.MetricPoint{Kind: store.MetricKindServer, Target: h.NodeID, At: r.At, Samples: 1,
			CPUPercent: h.CPUPercent, CPUMaxPercent: h.CPUPercent, MemUsedBytes: h.MemUsedBytes, MemMaxBytes: h.MemUsedBytes,
			MemLimitBytes: h.MemTotalBytes, NetRxBps: h.NetRxBps, NetTxBps: h.NetTxBps,
			Load1: h.Load1, Load5: h.Load5, Load15: h.Load15, Disks: []store.MetricDisk{}}
		for _, d := range h.Disks {
			p.Disks = append(p.Disks, store.MetricDisk{Mount: d.Mount, UsedBytes: d.UsedBytes, TotalBytes: d.TotalBytes})
		}
		out = append(out, p)
	}
	for _, w := range r.Workloads {
		out = append(out, store.MetricPoint{Kind: w.Kind, Target: w.ID.String(), At: r.At, Samples: 1, Tasks: w.Tasks,
			CPUPercent: w.CPUPercent, CPUMaxPercent: w.CPUPercent, MemUsedBytes: w.MemUsedBytes, MemMaxBytes: w.MemUsedBytes,
			MemLimitBytes: w.MemLimitBytes, NetRxBps: w.NetRxBps, NetTxBps: w.NetTxBps,
			BlockReadBps: w.BlockReadBps, BlockWriteBps: w.BlockWriteBps, Restarts: w.Restarts})
	}
	return out
}

func servers(r Round) []store.MetricServer {
	out := make([]store.MetricServer, 0, len(r.Servers))
	for _, h := range r.Servers {
		out = append(out, store.MetricServer{NodeID: h.NodeID, Name: h.Name, SeenAt: r.At})
	}
	return out
}
