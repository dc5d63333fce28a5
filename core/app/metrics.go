package app

import (
	"context"
	"os"
	"time"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/metrics"
)

// startMetrics starts the metrics sampler (core/metrics): host figures of
// this server from /proc, workload figures from the Docker Engine, stored
// every interval. The sampler is shared with the API and the dashboard
// through opts.Metrics; it starts sampling once the engine told which
// Swarm node this is.
func (s *Server) startMetrics(ctx context.Context, opts *api.Options) {
	log := s.log.With("component", "metrics")
	host, err := metrics.NewHost("/proc")
	if err != nil {
		log.Warn("host metrics unavailable", "err", err)
		host = nil
	}
	workloads := metrics.NewWorkloads(s.docker)
	workloads.Instance = s.cfg.Name // tests and staging may share an engine
	s.metrics = metrics.New(metrics.Options{Store: s.store, Host: host, Workloads: workloads, Logger: log})
	opts.Metrics = s.metrics
	go func() {
		for wait := time.Second; ; wait = min(2*wait, time.Minute) {
			info, err := s.docker.Info(ctx)
			if err == nil {
				id, name := info.Swarm.NodeID, info.Name
				if id == "" { // not a Swarm node: the host is still measured
					id = "local"
				}
				if name == "" {
					name, _ = os.Hostname()
				}
				s.metrics.SetNode(id, name)
				s.metrics.Run(ctx)
				return
			}
			log.Debug("metrics wait for the Docker Engine", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}()
}
