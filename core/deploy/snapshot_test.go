package deploy_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/deploy"
	"github.com/berth-dev/berth/core/deploylog"
	"github.com/berth-dev/berth/core/snapshot"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// specSwarm records the spec of every release and succeeds at once.
type specSwarm struct {
	mu    sync.Mutex
	specs []swarm.ServiceSpec
}

func (f *specSwarm) EnsureNetwork(context.Context, string, map[string]string) error { return nil }

func (f *specSwarm) DeployObserved(_ context.Context, spec swarm.ServiceSpec, _ swarm.Observer) (swarm.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.specs = append(f.specs, spec)
	return swarm.Result{}, nil
}

func (f *specSwarm) Inspect(context.Context, string) (swarm.Status, error) {
	return swarm.Status{}, swarm.ErrNotFound
}

func (f *specSwarm) Remove(context.Context, string) error { return nil }

func (f *specSwarm) last() swarm.ServiceSpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.specs[len(f.specs)-1]
}

// TestRollbackRestoresTheSnapshot: every release records its snapshot; a
// rollback releases its target's variables and settings, not the
// application's current ones, with the application's current volume
// mapping; a rollback to a deployment that recorded no snapshot releases
// its image with the current settings and says so.
func TestRollbackRestoresTheSnapshot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	log := slog.New(slog.DiscardHandler)
	sw := &specSwarm{}
	p := deploy.New(deploy.Deps{Store: e.store, Hub: deploylog.NewHub(e.store, log), Rollout: sw, Images: localImages{},
		Jobs: e.q, Logger: log}, deploy.Config{Instance: "snaptest"})
	ctx := e.ctx
	// run queues a deployment or rollback and works it as the queue's
	// worker would.
	run := func(queue func() (store.Deployment, error)) store.Deployment {
		t.Helper()
		d, err := queue()
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		d, err = e.store.GetDeployment(ctx, d.ID)
		if err != nil || d.Status != store.DeploymentSucceeded {
			t.Fatalf("deployment %s: %s %q (%v)", d.ID, d.Status, d.Error, err)
		}
		return d
	}
	deployApp := func() store.Deployment {
		return run(func() (store.Deployment, error) {
			return e.enq.Deploy(ctx, e.app, store.NewDeployment{Trigger: "manual"})
		})
	}
	rollback := func(target store.Deployment) store.Deployment {
		return run(func() (store.Deployment, error) { return e.enq.Rollback(ctx, e.app, target, nil) })
	}
	configure := func(value string, replicas int, mounts []store.Mount) {
		t.Helper()
		if _, err := e.store.SetVariable(ctx, store.ScopeApplication, e.app.ID, "GREETING", value); err != nil {
			t.Fatal(err)
		}
		spec := e.app.Spec()
		spec.Replicas, spec.Mounts = replicas, mounts
		a, err := e.store.UpdateApplication(ctx, e.app.ID, spec)
		if err != nil {
			t.Fatal(err)
		}
		e.app = a
	}
	data := []store.Mount{{Type: "volume", Source: "data", Target: "/data"}}

	configure("good", 2, data)
	good := deployApp()
	goodSpec := sw.last()
	configure("bad", 3, []store.Mount{{Type: "volume", Source: "data", Target: "/data", ReadOnly: true}})
	deployApp()
	if got := sw.last(); got.Env["GREETING"] != "bad" || got.Replicas != 3 {
		t.Fatalf("second deployment released %v with %d replicas", got.Env, got.Replicas)
	}
	// A restore switched the application's volume since the good release.
	if err := e.store.BeginVolumeSwitch(ctx, e.app, uuid.New(), map[string]string{"data": "restored-data"}); err != nil {
		t.Fatal(err)
	}

	back := rollback(good)
	got := sw.last()
	tests := []struct {
		name      string
		got, want any
	}{
		{"variables of the target", got.Env["GREETING"], "good"},
		{"replicas of the target", got.Replicas, uint64(2)},
		{"mounts of the target on the current volume", len(got.Mounts) == 1 && got.Mounts[0].Source == "restored-data" && !got.Mounts[0].ReadOnly, true},
		{"image of the target", got.Image, goodSpec.Image},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	// The rollback records what it released as its own snapshot.
	snap, ok, err := snapshot.Load(ctx, e.store, back.ID)
	if err != nil || !ok || snap.Env["GREETING"] != "good" || snap.Replicas != 2 {
		t.Fatalf("rollback's snapshot = %+v %v %v", snap, ok, err)
	}

	// A deployment made before snapshots were recorded.
	if _, err := e.store.Pool().Exec(ctx, `UPDATE deployments SET snapshot_enc = NULL WHERE id = $1`, good.ID); err != nil {
		t.Fatal(err)
	}
	old := rollback(good)
	if got := sw.last(); got.Env["GREETING"] != "bad" || got.Replicas != 3 || got.Image != good.Image {
		t.Fatalf("rollback without a snapshot released %s %v with %d replicas, want %s with the current settings", got.Image, got.Env, got.Replicas, good.Image)
	}
	lines, err := e.store.ListLogs(ctx, old.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, l := range lines {
		all.WriteString(l.Line + "\n")
	}
	if !strings.Contains(all.String(), "recorded no release snapshot") {
		t.Fatalf("the log does not say the rollback used the current settings:\n%s", all.String())
	}
}
