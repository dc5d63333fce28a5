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
		// TODO(lead): use the metrics retention instance setting (issue 17,
		// core/metrics) once merged; until then the default, 7 days.
		Retention: func(context.Context) time.Duration { return accesslog.DefaultRetention },
		Logger:    s.log.With("component", "accesslog"),
	})
	go f.Run(ctx)
}
