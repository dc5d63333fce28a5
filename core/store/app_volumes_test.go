package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/store"
)

// TestAppVolumesMigration: migration 0009 records, for every application
// ever deployed, its volume sources as the volumes of that name its service
// already mounts; an application never deployed gets its own default
// volumes.
func TestAppVolumesMigration(t *testing.T) {
	ctx := context.Background()
	st, deployed := newStore(t)
	mounts := store.RuntimeSettings{Mounts: []store.Mount{{Type: "volume", Source: "data", Target: "/data"},
		{Type: "bind", Source: "/srv", Target: "/srv"}}}
	spec := store.ApplicationSpec{Name: "web", SourceType: "image", Image: "nginx", Port: 80, Replicas: 1, RuntimeSettings: mounts}
	deployed, err := st.UpdateApplication(ctx, deployed.ID, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateDeployment(ctx, deployed.ID, store.NewDeployment{Kind: store.KindDeploy}); err != nil {
		t.Fatal(err)
	}
	spec.Name = "api"
	fresh, err := st.CreateApplication(ctx, deployed.EnvironmentID, spec)
	if err != nil {
		t.Fatal(err)
	}
	// Run 0009 again, as on an instance upgraded with these applications.
	if _, err := st.Pool().Exec(ctx, `DROP TABLE app_volumes; DELETE FROM schema_migrations WHERE version = '0009_app_volumes'`); err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		app  store.Application
		want map[string]string
	}{
		{"deployed before: keeps the volume it mounts", deployed, map[string]string{"data": "data"}},
		{"never deployed: its own volume", fresh, map[string]string{"data": fresh.ServiceName + "_data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.AppVolumes(ctx, tt.app.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) || got["data"] != tt.want["data"] {
				t.Fatalf("volumes = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestVolumeSwitchRecord: a switch is recorded before the service update,
// refuses a second one while pending, and settles forward or back.
func TestVolumeSwitchRecord(t *testing.T) {
	ctx := context.Background()
	st, a := newStore(t)
	a, err := st.UpdateApplication(ctx, a.ID, store.ApplicationSpec{Name: "web", SourceType: "image", Image: "nginx", Port: 80,
		Replicas: 1, RuntimeSettings: store.RuntimeSettings{Mounts: []store.Mount{{Type: "volume", Source: "data", Target: "/data"}}}})
	if err != nil {
		t.Fatal(err)
	}
	old := a.Volumes["data"]
	for _, tt := range []struct {
		name string
		done bool
		want string
	}{{"undone", false, old}, {"done", true, "restored"}} {
		t.Run(tt.name, func(t *testing.T) {
			id := uuid.New()
			if err := st.BeginVolumeSwitch(ctx, a, id, map[string]string{"data": "restored"}); err != nil {
				t.Fatal(err)
			}
			if err := st.BeginVolumeSwitch(ctx, a, uuid.New(), map[string]string{"data": "other"}); !errors.Is(err, store.ErrSwitchPending) {
				t.Fatalf("a second switch while one is pending = %v", err)
			}
			if v, _ := st.AppVolumes(ctx, a.ID); v["data"] != "restored" {
				t.Fatalf("while pending the release mounts %q, want the recorded fresh volume", v["data"])
			}
			if users, err := st.VolumeMappedBy(ctx, old, nil); err != nil || len(users) != 1 {
				t.Fatalf("the previous volume is mapped by %v, %v while pending", users, err)
			}
			if err := st.EndVolumeSwitch(ctx, a.ID, id, tt.done); err != nil {
				t.Fatal(err)
			}
			if v, _ := st.AppVolumes(ctx, a.ID); v["data"] != tt.want {
				t.Fatalf("after settling: %q, want %q", v["data"], tt.want)
			}
			if pend, _ := st.PendingVolumeSwitches(ctx, uuid.Nil); len(pend) != 0 {
				t.Fatalf("still pending: %+v", pend)
			}
			// Back to the start for the next case.
			if _, err := st.Pool().Exec(ctx, `DELETE FROM app_volumes`); err != nil {
				t.Fatal(err)
			}
		})
	}
}
