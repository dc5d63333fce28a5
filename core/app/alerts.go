package app

import (
	"context"

	"github.com/berth-dev/berth/core/alerts"
	"github.com/berth-dev/berth/core/metrics"
	"github.com/berth-dev/berth/core/store"
)

// startAlerts judges the threshold alert rules (core/alerts) after every
// metrics round; events go to the notification channels.
func (s *Server) startAlerts() {
	if s.metrics == nil {
		return
	}
	o := alerts.Options{Store: s.store, Interval: s.metrics.Interval(), PublicURL: s.cfg.PublicURL,
		Log: s.log.With("component", "alerts")}
	if s.events != nil {
		o.Events = s.events
	}
	ev := alerts.New(o)
	s.metrics.OnRound(func(ctx context.Context, r metrics.Round) {
		ev.SetInterval(s.metrics.Interval())
		ev.Observe(ctx, observations(r))
	})
}

// observations are the figures of a round that alert rules judge: a
// server's CPU, memory and each mount's disk use in percent; an
// application's or a database's CPU (docker stats percent: 100 per busy
// core), memory in percent of its limit (of the host's memory without
// one) and failed tasks in the last hour.
func observations(r metrics.Round) []alerts.Observation {
	out := make([]alerts.Observation, 0, 3*len(r.Servers)+3*len(r.Workloads))
	for _, sv := range r.Servers {
		obs := func(metric, subject string, v float64) {
			out = append(out, alerts.Observation{Scope: store.AlertScopeServer, TargetID: sv.NodeID, Name: sv.Name,
				Metric: metric, Subject: subject, Value: v, At: r.At})
		}
		obs(alerts.CPUPercent, "", sv.CPUPercent)
		if sv.MemTotalBytes > 0 {
			obs(alerts.MemoryPercent, "", percent(sv.MemUsedBytes, sv.MemTotalBytes))
		}
		for _, d := range sv.Disks {
			if d.TotalBytes > 0 {
				obs(alerts.DiskPercent, d.Mount, percent(d.UsedBytes, d.TotalBytes))
			}
		}
	}
	for _, w := range r.Workloads {
		scope := store.AlertScopeApplication
		if w.Kind == metrics.KindDatabase {
			scope = store.AlertScopeDatabase
		}
		obs := func(metric string, v float64) {
			out = append(out, alerts.Observation{Scope: scope, TargetID: w.ID.String(), Metric: metric, Value: v, At: r.At})
		}
		obs(alerts.CPUPercent, w.CPUPercent)
		if w.MemLimitBytes > 0 {
			obs(alerts.MemoryPercent, percent(w.MemUsedBytes, w.MemLimitBytes))
		}
		obs(alerts.RestartsPerHour, float64(w.Restarts))
	}
	return out
}

func percent(part, whole uint64) float64 { return float64(part) / float64(whole) * 100 }
