package deploy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/snapshot"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
	"github.com/google/uuid"
)

func TestServiceSpec(t *testing.T) {
	app := store.Application{
		ID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), EnvironmentID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-aaaaaaaaaaaa"),
		Name: "web", ServiceName: "web-2e3f4a5b", Replicas: 3, Command: []string{"serve", "--fast"},
		CPULimit: 0.5, MemoryLimitMB: 256, BuildSettings: json.RawMessage("{}"),
		RuntimeSettings: store.RuntimeSettings{
			HealthCheck: &store.HealthCheck{Test: []string{"/app", "healthcheck"}, IntervalSeconds: 2, TimeoutSeconds: 1, Retries: 3, StartPeriodSeconds: 5},
			Mounts: []store.Mount{{Type: "volume", Source: "data", Target: "/data"}, {Type: "volume", Source: "cache", Target: "/cache"},
				{Type: "bind", Source: "/srv/shared", Target: "/shared"}},
			Ports:         []store.Port{{Target: 53, Published: 5353, Mode: "host"}},
			Placement:     []string{"node.role==manager"},
			Labels:        map[string]string{"team": "shop"},
			RestartPolicy: "on-failure", CPUReservation: 0.1, MemoryReservationMB: 64,
			Files: []store.File{{Target: "/etc/app.ini", Content: "a=1", Mode: 0o440}},
		},
	}
	// cache was mounted before volumes were per application (migrated as
	// recorded); data has no recorded mapping.
	app.Volumes = map[string]string{"cache": "cache"}
	d := store.Deployment{ID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-bbbbbbbbbbbb")}
	spec := ServiceSpec("berth", "berth-proxy", app, d, "berth/web:abc", map[string]string{"A": "1"})

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"name", spec.Name, "web-2e3f4a5b"},
		{"image", spec.Image, "berth/web:abc"},
		{"replicas", spec.Replicas, uint64(3)},
		{"args", spec.Args, []string{"serve", "--fast"}},
		{"cpu", spec.Resources.CPULimit, 0.5},
		{"memory", spec.Resources.MemoryLimit, int64(256 << 20)},
		{"memory reservation", spec.Resources.MemoryReservation, int64(64 << 20)},
		{"networks", spec.Networks, []string{"berth-env-aaaaaaaaaaaa", "berth-proxy"}},
		{"health interval", spec.HealthCheck.Interval, 2 * time.Second},
		{"health start period", spec.HealthCheck.StartPeriod, 5 * time.Second},
		{"volume of the application", spec.Mounts[0], swarm.Mount{Type: swarm.MountVolume, Source: "web-2e3f4a5b_data", Target: "/data"}},
		{"recorded volume", spec.Mounts[1], swarm.Mount{Type: swarm.MountVolume, Source: "cache", Target: "/cache"}},
		{"bind mount", spec.Mounts[2], swarm.Mount{Type: swarm.MountBind, Source: "/srv/shared", Target: "/shared"}},
		{"port protocol defaults to tcp", spec.Ports[0], swarm.Port{Target: 53, Published: 5353, Protocol: swarm.TCP, Mode: swarm.PublishHost}},
		{"restart", spec.RestartPolicy.Condition, swarm.RestartOnFailure},
		{"user label", spec.Labels["team"], "shop"},
		{"instance label", spec.Labels[LabelInstance], "berth"},
		{"file", string(spec.Files[0].Data), "a=1"},
		{"update order", spec.UpdateOrder, swarm.UpdateStartFirst},
		{"ids", spec.AppID + " " + spec.DeploymentID, app.ID.String() + " " + d.ID.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := json.Marshal(tt.got)
			w, _ := json.Marshal(tt.want)
			if string(g) != string(w) {
				t.Fatalf("got %s, want %s", g, w)
			}
		})
	}
	if _, ok := app.Labels[LabelInstance]; ok {
		t.Fatal("ServiceSpec modified the application's labels")
	}
	if tag := ImageTag(app, d); tag != "berth/web-2e3f4a5b:bbbbbbbbbbbb" {
		t.Fatalf("ImageTag = %q", tag)
	}

	// A release snapshot holds everything the service spec is made of but
	// the application's identity and volume mapping: applied to an
	// application with nothing else set, it gives the same spec. (A new
	// setting ServiceSpec reads must be added to snapshot.Snapshot, or this
	// fails.)
	grace := 42
	app.StopGraceSeconds = &grace
	spec = ServiceSpec("berth", "berth-proxy", app, d, "berth/web:abc", map[string]string{"A": "1"})
	snap := snapshot.Of(app, "berth/web:abc", map[string]string{"A": "1"})

	bare := store.Application{ID: app.ID, EnvironmentID: app.EnvironmentID, Name: app.Name, ServiceName: app.ServiceName, Volumes: app.Volumes}
	restored := ServiceSpec("berth", "berth-proxy", snap.Apply(bare), d, snap.Image, snap.Env)
	g, _ := json.Marshal(restored)
	w, _ := json.Marshal(spec)
	if string(g) != string(w) {
		t.Fatalf("spec from the snapshot differs:\n got %s\nwant %s", g, w)
	}
}
