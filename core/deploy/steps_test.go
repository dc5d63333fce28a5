package deploy_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/deploy"
	"github.com/berth-dev/berth/core/deploylog"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// fakeSwarm releases by calling deploy; started is closed when a release
// begins.
type fakeSwarm struct {
	network error
	deploy  func(ctx context.Context) error
	started chan struct{}
}

func (f *fakeSwarm) EnsureNetwork(context.Context, string, map[string]string) error { return f.network }

func (f *fakeSwarm) DeployObserved(ctx context.Context, _ swarm.ServiceSpec, _ swarm.Observer) (swarm.Result, error) {
	close(f.started)
	if err := f.deploy(ctx); err != nil {
		return swarm.Result{}, err
	}
	return swarm.Result{Duration: time.Millisecond}, nil
}

func (f *fakeSwarm) Inspect(context.Context, string) (swarm.Status, error) {
	return swarm.Status{}, swarm.ErrNotFound
}

func (f *fakeSwarm) Remove(context.Context, string) error { return nil }

type localImages struct{}

func (localImages) ImageExists(context.Context, string) (bool, error) { return true, nil }
func (localImages) RemoveImage(context.Context, string) error         { return nil }

func blockUntilDone(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestSteps runs image deployments through a started queue against a fake
// Swarm: each step's error is wrapped with its name and becomes the
// deployment's error text; a user's cancellation, sent from another job
// client as another process would, stops the release and records the
// deployment as cancelled; berth's shutdown fails it with the reason; a
// step's timeout says so.
func TestSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		network error
		release func(ctx context.Context) error
		timeout time.Duration
		// during is done once the release has begun.
		during func(e *env, p *deploy.Pipeline, d store.Deployment) error
		status string
		err    string
		log    []string
	}{
		{name: "succeeded", release: func(context.Context) error { return nil }, status: store.DeploymentSucceeded,
			log: []string{"== release", "== release done in ", "== route done in ", "deployment succeeded"}},
		{name: "release error", release: func(context.Context) error { return errors.New("no such image") },
			status: store.DeploymentFailed, err: "release: no such image",
			log: []string{"== release failed after ", "deployment failed: release: no such image"}},
		{name: "network error", network: errors.New("overlay refused"), release: blockUntilDone,
			status: store.DeploymentFailed, err: "release: overlay refused"},
		{name: "release timeout", release: blockUntilDone, timeout: 300 * time.Millisecond,
			status: store.DeploymentFailed, err: "release: timed out after 300ms: context deadline exceeded"},
		{name: "cancelled by a user", release: blockUntilDone,
			during: func(e *env, _ *deploy.Pipeline, d store.Deployment) error {
				d, err := e.store.GetDeployment(e.ctx, d.ID)
				if err != nil {
					return err
				}
				return e.enq.Cancel(e.ctx, d)
			},
			status: store.DeploymentCancelled, err: "cancelled by a user; the previous version keeps serving",
			log: []string{"== release failed after ", "deployment cancelled: cancelled by a user"}},
		{name: "berth stopping", release: blockUntilDone,
			during: func(_ *env, p *deploy.Pipeline, _ store.Deployment) error { p.Stopping(); return nil },
			status: store.DeploymentFailed, err: "berth was stopped during the deployment; the previous version keeps serving"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, true)
			log := slog.New(slog.DiscardHandler)
			sw := &fakeSwarm{network: tt.network, deploy: tt.release, started: make(chan struct{})}
			p := deploy.New(deploy.Deps{Store: e.store, Hub: deploylog.NewHub(e.store, log), Rollout: sw, Images: localImages{},
				Jobs: e.q, Logger: log}, deploy.Config{Instance: "steptest", ReleaseTimeout: tt.timeout})
			workers := river.NewWorkers()
			river.AddWorker(workers, &deploy.Worker{Pipeline: p})
			q, err := queue.New(e.store.Pool(), workers, queue.Options{Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Start(e.ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				q.Stop(ctx)
			})

			queued := time.Now()
			d, err := e.enq.Deploy(e.ctx, e.app, store.NewDeployment{Trigger: "manual"})
			if err != nil {
				t.Fatal(err)
			}
			if tt.during != nil {
				select {
				case <-sw.started:
				case <-time.After(30 * time.Second):
					t.Fatal("the release did not begin")
				}
				t.Logf("release began %s after the deployment was queued", time.Since(queued).Round(time.Millisecond))
				if err := tt.during(e, p, d); err != nil {
					t.Fatal(err)
				}
			}
			during := time.Now()
			got := waitFinished(t, e, d.ID)
			t.Logf("finished %s later", time.Since(during).Round(time.Millisecond))
			if got.Status != tt.status || got.Error != tt.err {
				t.Fatalf("deployment %s %q, want %s %q", got.Status, got.Error, tt.status, tt.err)
			}
			if got.Image != "nginx" {
				t.Errorf("image %q, want nginx", got.Image)
			}
			lines, err := e.store.ListLogs(e.ctx, d.ID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var all strings.Builder
			for _, l := range lines {
				all.WriteString(l.Line + "\n")
			}
			for _, want := range tt.log {
				if !strings.Contains(all.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, all.String())
				}
			}
		})
	}
}

func waitFinished(t *testing.T, e *env, id uuid.UUID) store.Deployment {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := e.store.GetDeployment(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Finished() {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment still %s (step %s)", d.Status, d.Step)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
