package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/store"
)

func point(kind, target string, at time.Time, cpu float64, mem uint64) store.MetricPoint {
	return store.MetricPoint{Kind: kind, Target: target, At: at, Tasks: 1, CPUPercent: cpu, MemUsedBytes: mem, MemLimitBytes: 1 << 30,
		NetRxBps: 100, NetTxBps: 50, BlockReadBps: 10, BlockWriteBps: 20}
}

// TestMetricsRetention: with a settable clock, raw points older than a day
// fold into 5-minute averages keeping the maxima, rollups older than the
// retention go, and queries across both answer with the right resolution.
func TestMetricsRetention(t *testing.T) {
	st, app := newStore(t)
	ctx := context.Background()
	target := app.ID.String()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	// Every 15 s from 3 days ago until now: CPU alternates 10 and 30, memory 100 and 300.
	var points []store.MetricPoint
	for at := now.Add(-72 * time.Hour); at.Before(now); at = at.Add(15 * time.Second) {
		cpu, mem := 10.0, uint64(100)
		if at.Unix()/15%2 == 1 {
			cpu, mem = 30, 300
		}
		points = append(points, point(store.MetricKindApplication, target, at, cpu, mem))
	}
	if err := st.WriteMetrics(ctx, points, []store.MetricServer{{NodeID: "n1", Name: "vm", SeenAt: now}}); err != nil {
		t.Fatal(err)
	}
	res, err := st.PruneMetrics(ctx, now, 2*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// 48 h of raw points folded (3 days minus the last 24 h), 576 buckets
	// of 5 minutes, the first day's 288 expired.
	if res.Folded != 48*240 || res.Rollups != 576 || res.Expired != 288 {
		t.Fatalf("prune %+v, want 11520 folded into 576 rollups, 288 expired", res)
	}
	again, err := st.PruneMetrics(ctx, now, 2*24*time.Hour)
	if err != nil || again != (store.MetricsPruned{}) {
		t.Fatalf("second pass %+v, %v; want nothing to do", again, err)
	}

	tests := []struct {
		name     string
		from, to time.Time
		step     time.Duration
		n        int
		samples  int
	}{
		{"last hour raw", now.Add(-time.Hour), now, time.Second, 240, 1},
		{"last hour by minute", now.Add(-time.Hour), now, time.Minute, 60, 4},
		{"a day ago rollups", now.Add(-36 * time.Hour), now.Add(-35 * time.Hour), time.Second, 12, 20},
		{"expired", now.Add(-72 * time.Hour), now.Add(-49 * time.Hour), time.Hour, 0, 0},
		{"across both by hour", now.Add(-26 * time.Hour), now.Add(-22 * time.Hour), time.Hour, 4, 240},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.MetricSeries(ctx, store.MetricKindApplication, target, tt.from, tt.to, tt.step)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.n {
				t.Fatalf("%d points, want %d", len(got), tt.n)
			}
			for _, p := range got {
				if p.Samples != tt.samples {
					t.Fatalf("point %+v averages %d samples, want %d", p, p.Samples, tt.samples)
				}
				if tt.samples > 1 && (p.CPUPercent != 20 || p.CPUMaxPercent != 30 || p.MemUsedBytes != 200 || p.MemMaxBytes != 300) {
					t.Fatalf("point %+v: want average CPU 20 (max 30), memory 200 (max 300)", p)
				}
				if p.NetRxBps != 100 || p.BlockWriteBps != 20 || p.MemLimitBytes != 1<<30 || p.Tasks != 1 {
					t.Fatalf("point %+v lost its rates", p)
				}
			}
		})
	}
	// Other targets are not mixed in.
	other, err := st.MetricSeries(ctx, store.MetricKindDatabase, target, now.Add(-time.Hour), now, time.Second)
	if err != nil || len(other) != 0 {
		t.Fatalf("database series of an application id: %d points, %v", len(other), err)
	}
}

// TestMetricsServerDisks: a server's disks come back from raw points and
// rollups.
func TestMetricsServerDisks(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	var points []store.MetricPoint
	for _, at := range []time.Time{now.Add(-30 * time.Hour), now.Add(-time.Minute)} {
		p := point(store.MetricKindServer, "n1", at, 5, 1000)
		p.Load1, p.Disks = 0.5, []store.MetricDisk{{Mount: "/", UsedBytes: 10, TotalBytes: 100}}
		points = append(points, p)
	}
	if err := st.WriteMetrics(ctx, points, []store.MetricServer{{NodeID: "n1", Name: "vm", SeenAt: now}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PruneMetrics(ctx, now, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := st.MetricSeries(ctx, store.MetricKindServer, "n1", now.Add(-48*time.Hour), now, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d points, want 2", len(got))
	}
	for _, p := range got {
		if len(p.Disks) != 1 || p.Disks[0] != (store.MetricDisk{Mount: "/", UsedBytes: 10, TotalBytes: 100}) || p.Load1 != 0.5 {
			t.Fatalf("point %+v, want the disk and load", p)
		}
	}
	sv, err := st.MetricServer(ctx, "n1")
	if err != nil || sv.Name != "vm" {
		t.Fatalf("server %+v, %v", sv, err)
	}
}
