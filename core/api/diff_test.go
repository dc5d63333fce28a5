package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/snapshot"
	"github.com/berth-dev/berth/core/store"
)

// TestDeploymentDiffRoute: GET /deployments/:id/diff?against= lists the
// changes between two releases with secret values masked; a missing or
// foreign against is a 422 naming it, a release without a snapshot a 409.
func TestDeploymentDiffRoute(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	ctx := context.Background()
	app, err := h.store.GetApplication(ctx, uuid.MustParse(f.appID))
	if err != nil {
		t.Fatal(err)
	}
	release1 := func(env map[string]string, replicas int, withSnapshot bool) string {
		t.Helper()
		d, err := h.store.CreateDeployment(ctx, app.ID, store.NewDeployment{Kind: store.KindDeploy})
		if err != nil {
			t.Fatal(err)
		}
		if withSnapshot {
			a := app
			a.Replicas = replicas
			if err := snapshot.Save(ctx, h.store, d.ID, snapshot.Of(a, "berth/web:1", env)); err != nil {
				t.Fatal(err)
			}
		}
		return d.ID.String()
	}
	from := release1(map[string]string{"TOKEN": "old-token-value"}, 1, true)
	to := release1(map[string]string{"TOKEN": "new-token-value"}, 2, true)
	bare := release1(nil, 0, false)

	var diff service.ReleaseDiff
	r := h.must(200, h.do("GET", "/api/v1/deployments/"+to+"/diff?against="+from, f.key, nil))
	r.json(t, &diff)
	if diff.From.String() != from || diff.To.String() != to || len(diff.Changes) != 2 ||
		diff.Changes[0].Field != "env.TOKEN" || !diff.Changes[0].Secret || *diff.Changes[0].To != snapshot.Masked ||
		diff.Changes[1].Field != "replicas" || *diff.Changes[1].From != "1" || *diff.Changes[1].To != "2" {
		t.Fatalf("diff = %s", r.Body)
	}
	if strings.Contains(string(r.Body), "token-value") {
		t.Fatalf("the diff shows a secret: %s", r.Body)
	}
	tests := []struct {
		name, path string
		status     int
		msg        string
	}{
		{"no against", "/api/v1/deployments/" + to + "/diff", 422, "against: is required"},
		{"foreign against", "/api/v1/deployments/" + to + "/diff?against=" + uuid.NewString(), 422, "against: must be the id of a deployment of the same application"},
		{"no snapshot", "/api/v1/deployments/" + bare + "/diff?against=" + from, 409, "id: deployment " + bare + " recorded no release snapshot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("GET", tt.path, f.key, nil)
			if r.Status != tt.status || !strings.HasPrefix(r.errorMessage(), tt.msg) {
				t.Fatalf("status %d %q, want %d %q", r.Status, r.errorMessage(), tt.status, tt.msg)
			}
		})
	}
}
