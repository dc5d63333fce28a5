package app

import (
	"context"
	"time"

	"github.com/berth-dev/berth/core/accesslog"
)

// startRequests follows the proxy's access log into request analytics
// (core/accesslog) until ctx ends. It needs the proxy: call it after
// startProxy.
func (s *Server) startRequests(ctx context.Context) {
	f := accesslog.New(accesslog.Options{
		Container: s.traefik.Options().Name, Docker: s.docker, Store: s.store,
		// Request figures are kept as long as the metrics (the instance's
		// metrics_retention_days).
		Retention: s.requestRetention,
		Logger:    s.log.With("component", "accesslog"),
	})
	go f.Run(ctx)
}

// requestRetention is the instance's metrics retention, or the default
// when the settings cannot be read.
func (s *Server) requestRetention(ctx context.Context) time.Duration {
	in, err := s.store.InstanceSettings(ctx)
	if err != nil || in.MetricsRetentionDays <= 0 {
		return accesslog.DefaultRetention
	}
	return time.Duration(in.MetricsRetentionDays) * 24 * time.Hour
}
