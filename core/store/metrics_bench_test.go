package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/store"
)

// BenchmarkMetricSeries times the range queries of the dashboard charts
// and the API on a full history: 100 applications sampled every 15 s, 24 h
// of raw points (576,000 rows) and 6 more days of 5-minute rollups
// (172,800 rows), as after a week at the default settings.
func BenchmarkMetricSeries(b *testing.B) {
	st, app := newStore(b)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Minute)
	// The other 99 targets' rows make the indexes as large as they are.
	_, err := st.Pool().Exec(ctx, `INSERT INTO metric_points (kind, target, at, tasks, cpu, mem_used, mem_limit, net_rx, net_tx)
		SELECT 2, CASE WHEN t = 0 THEN $2 ELSE 'app-' || t END, $1::timestamptz - make_interval(secs => s * 15), 1,
			random() * 100, (random() * 1e9)::bigint, 1073741824, random() * 1e6, random() * 1e6
		FROM generate_series(0, 99) t, generate_series(0, 5759) s`, now, app.ID.String())
	if err != nil {
		b.Fatal(err)
	}
	_, err = st.Pool().Exec(ctx, `INSERT INTO metric_rollups (kind, target, at, samples, tasks, cpu, cpu_max, mem_used, mem_max, mem_limit, net_rx, net_tx)
		SELECT 2, CASE WHEN t = 0 THEN $2 ELSE 'app-' || t END, $1::timestamptz - make_interval(secs => 86400 + s * 300), 20, 1,
			random() * 50, 50 + random() * 50, (random() * 1e9)::bigint, 1e9::bigint, 1073741824, random() * 1e6, random() * 1e6
		FROM generate_series(0, 99) t, generate_series(0, 6 * 288 - 1) s`, now.Truncate(store.MetricRollupStep), app.ID.String())
	if err != nil {
		b.Fatal(err)
	}
	for _, table := range []string{"metric_points", "metric_rollups"} {
		if _, err := st.Pool().Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
			b.Fatal(err)
		}
	}
	for _, r := range []struct {
		name string
		span time.Duration
	}{{"1h", time.Hour}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}} {
		b.Run(r.name, func(b *testing.B) {
			from := now.Add(-r.span)
			step := store.MetricStep(from, now, now, 15*time.Second)
			var n int
			for b.Loop() {
				pts, err := st.MetricSeries(ctx, store.MetricKindApplication, app.ID.String(), from, now, step)
				if err != nil {
					b.Fatal(err)
				}
				n = len(pts)
			}
			b.ReportMetric(float64(n), "points")
		})
	}
}
