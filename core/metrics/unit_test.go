package metrics

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/google/uuid"
)

// These tests need neither Docker nor PostgreSQL.

func TestCPUPercent(t *testing.T) {
	tests := []struct {
		name                       string
		prevCPU, cpu, prevSys, sys uint64
		cpus                       uint32
		want                       float64
	}{
		{"one core of two busy", 0, 1e9, 0, 2e9, 2, 100},
		{"half a core", 1e9, 1.5e9, 10e9, 12e9, 2, 50},
		{"idle", 5, 5, 0, 2e9, 2, 0},
		{"counter reset", 9e9, 1e9, 0, 2e9, 2, 0},
		{"no host time passed", 0, 1e9, 2e9, 2e9, 2, 0},
		{"unknown cpus count as one", 0, 1e9, 0, 2e9, 0, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CPUPercent(tt.prevCPU, tt.cpu, tt.prevSys, tt.sys, tt.cpus); got != tt.want {
				t.Fatalf("CPUPercent = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMemoryUsed(t *testing.T) {
	tests := []struct {
		name string
		m    container.MemoryStats
		want uint64
	}{
		{"cgroup v1", container.MemoryStats{Usage: 100, Stats: map[string]uint64{"total_inactive_file": 30, "inactive_file": 1}}, 70},
		{"cgroup v2", container.MemoryStats{Usage: 100, Stats: map[string]uint64{"inactive_file": 40}}, 60},
		{"no stats", container.MemoryStats{Usage: 100}, 100},
		{"cache above usage", container.MemoryStats{Usage: 10, Stats: map[string]uint64{"inactive_file": 40}}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MemoryUsed(tt.m); got != tt.want {
				t.Fatalf("MemoryUsed = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRealInterface(t *testing.T) {
	for name, want := range map[string]bool{"eth0": true, "ens3": true, "wlp2s0": true, "enp0s31f6": true, "lo": false,
		"veth1a2b": false, "docker0": false, "docker_gwbridge": false, "br-0123abcd": false, "vx-001001-abc": false, "ifb0": false} {
		if got := RealInterface(name); got != want {
			t.Errorf("RealInterface(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestRestartCounts(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	known := map[string]target{"svc": {KindApplication, uuid.New()}}
	task := func(svc string, state swarm.TaskState, ago time.Duration) swarm.Task {
		return swarm.Task{ServiceID: svc, Status: swarm.TaskStatus{State: state, Timestamp: now.Add(-ago)}}
	}
	got := RestartCounts([]swarm.Task{
		task("svc", swarm.TaskStateFailed, time.Minute),
		task("svc", swarm.TaskStateRejected, 59*time.Minute),
		task("svc", swarm.TaskStateFailed, 61*time.Minute), // too old
		task("svc", swarm.TaskStateShutdown, time.Minute),  // a normal stop
		task("svc", swarm.TaskStateRunning, time.Minute),   // running
		task("other", swarm.TaskStateFailed, time.Minute),  // not berth's
	}, known, now)
	if len(got) != 1 || got["svc"] != 2 {
		t.Fatalf("RestartCounts = %v, want svc: 2", got)
	}
}

func TestQuote(t *testing.T) {
	if got := quote("a\"b\\c\nd"); got != `"a\"b\\c\nd"` {
		t.Fatalf("quote = %s", got)
	}
}

func TestTargetsKeepToTheInstance(t *testing.T) {
	app, db, other := uuid.New(), uuid.New(), uuid.New()
	svc := func(id string, labels map[string]string) swarm.Service {
		return swarm.Service{ID: id, Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Labels: labels}}}
	}
	services := []swarm.Service{
		svc("mine", map[string]string{labelManaged: "true", labelAppID: app.String(), labelInstance: "berth"}),
		svc("legacy-db", map[string]string{labelManaged: "true", labelDatabaseID: db.String()}), // deployed before the label
		svc("theirs", map[string]string{labelManaged: "true", labelAppID: other.String(), labelInstance: "staging"}),
		svc("traefik", map[string]string{labelManaged: "true", labelInstance: "berth"}),
	}
	tests := []struct {
		instance string
		want     map[string]target
	}{
		{"berth", map[string]target{"mine": {KindApplication, app}, "legacy-db": {KindDatabase, db}}},
		{"", map[string]target{"mine": {KindApplication, app}, "legacy-db": {KindDatabase, db}, "theirs": {KindApplication, other}}},
	}
	for _, tc := range tests {
		w := NewWorkloads(nil)
		w.Instance = tc.instance
		got := w.targets(services)
		if len(got) != len(tc.want) {
			t.Errorf("instance %q: targets %v, want %v", tc.instance, got, tc.want)
			continue
		}
		for id, want := range tc.want {
			if got[id] != want {
				t.Errorf("instance %q: service %s is %v, want %v", tc.instance, id, got[id], want)
			}
		}
	}
}
