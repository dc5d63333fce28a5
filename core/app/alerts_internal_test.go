package app

import (
	"testing"
	"time"

	"github.com/berth-dev/berth/core/alerts"
	"github.com/berth-dev/berth/core/metrics"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

func TestObservations(t *testing.T) {
	at := time.Date(2026, 12, 8, 2, 0, 0, 0, time.UTC)
	app, db := uuid.New(), uuid.New()
	r := metrics.Round{At: at,
		Servers: []metrics.ServerSample{{NodeID: "n1", Name: "host1", CPUPercent: 42, MemUsedBytes: 3 << 30, MemTotalBytes: 4 << 30,
			Disks: []metrics.DiskSample{{Mount: "/", UsedBytes: 90, TotalBytes: 100}, {Mount: "/empty"}}}},
		Workloads: []metrics.WorkloadSample{
			{Kind: metrics.KindApplication, ID: app, CPUPercent: 150, MemUsedBytes: 256 << 20, MemLimitBytes: 512 << 20, Restarts: 2},
			{Kind: metrics.KindDatabase, ID: db, CPUPercent: 1},
		}}
	type key struct{ scope, target, metric, subject string }
	want := map[key]float64{
		{store.AlertScopeServer, "n1", alerts.CPUPercent, ""}:                   42,
		{store.AlertScopeServer, "n1", alerts.MemoryPercent, ""}:                75,
		{store.AlertScopeServer, "n1", alerts.DiskPercent, "/"}:                 90,
		{store.AlertScopeApplication, app.String(), alerts.CPUPercent, ""}:      150,
		{store.AlertScopeApplication, app.String(), alerts.MemoryPercent, ""}:   50,
		{store.AlertScopeApplication, app.String(), alerts.RestartsPerHour, ""}: 2,
		{store.AlertScopeDatabase, db.String(), alerts.CPUPercent, ""}:          1,
		{store.AlertScopeDatabase, db.String(), alerts.RestartsPerHour, ""}:     0,
	}
	got := observations(r)
	if len(got) != len(want) {
		t.Fatalf("%d observations, want %d: %+v", len(got), len(want), got)
	}
	for _, o := range got {
		k := key{o.Scope, o.TargetID, o.Metric, o.Subject}
		v, ok := want[k]
		if !ok || v != o.Value || !o.At.Equal(at) {
			t.Errorf("unexpected observation %+v (want value %v, known %v)", o, v, ok)
		}
		if o.Scope == store.AlertScopeServer && o.Name != "host1" {
			t.Errorf("server observation without its name: %+v", o)
		}
	}
}
