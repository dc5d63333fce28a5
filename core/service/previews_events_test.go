package service_test

import (
	"context"
	"sync"
	"testing"

	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// recordingDeployer records queued deployments without running anything.
type recordingDeployer struct{ service.Deployer }

func (recordingDeployer) DeployTx(ctx context.Context, tx *store.Tx, a store.Application, in store.NewDeployment) (store.Deployment, error) {
	return tx.CreateDeployment(ctx, a.ID, in)
}

func (recordingDeployer) Cancel(context.Context, store.Deployment) error { return nil }

func (recordingDeployer) RemoveApplications(context.Context, []store.Application) error { return nil }

func (recordingDeployer) RemoveReleaseImages(context.Context, store.Application) error { return nil }

// eventSink records emitted events.
type eventSink struct {
	mu  sync.Mutex
	evs []sdk.Event
}

func (s *eventSink) Emit(_ context.Context, ev sdk.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evs = append(s.evs, ev)
}

func TestPreviewEvents(t *testing.T) {
	w := newAppWorld(t)
	ctx := context.Background()
	svc := service.New(service.Deps{Store: w.st, Deployer: recordingDeployer{}})
	events := &eventSink{}
	svc.Previews.SetEvents(events)
	in := service.PreviewInput{Spec: store.PreviewSpec{Number: 17, HeadRef: "feature/cart", Repository: w.app.GitRepository},
		Host: "pr-17.shop.example.com", PullRequestURL: "https://git.example.com/shop/pull/17",
		Deployment: store.NewDeployment{Trigger: "pull_request", GitRef: "refs/heads/feature/cart"}}
	pv, _, err := svc.Previews.Upsert(ctx, service.System, w.app, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Previews.Upsert(ctx, service.System, w.app, in); err != nil { // a new push: no new preview
		t.Fatal(err)
	}
	if err := svc.Previews.Remove(ctx, service.System, []store.Application{pv}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Previews.Remove(ctx, service.System, []store.Application{pv}); err != nil { // already gone
		t.Fatal(err)
	}
	tests := []struct {
		typ    sdk.EventType
		prURL  string
		domain string
	}{
		{sdk.EventPreviewCreated, in.PullRequestURL, in.Host},
		{sdk.EventPreviewRemoved, "", in.Host},
	}
	if len(events.evs) != len(tests) {
		t.Fatalf("events = %+v", events.evs)
	}
	for i, tt := range tests {
		ev := events.evs[i]
		p := ev.Preview
		if ev.Type != tt.typ || p == nil || p.PullRequest != 17 || p.Branch != "feature/cart" || p.Domain != tt.domain ||
			p.PullRequestURL != tt.prURL || ev.OrganizationID != w.app.OrganizationID.String() ||
			ev.EnvironmentID != w.env.ID.String() || ev.ProjectID != w.app.ProjectID.String() || ev.Project != "shop" ||
			ev.App != pv.Name || ev.Message == "" {
			t.Errorf("event %d = %+v (%+v)", i, ev, p)
		}
	}
}
