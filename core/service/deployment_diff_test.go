package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/snapshot"
	"github.com/berth-dev/berth/core/store"
)

// TestDeploymentDiff: viewers compare two releases of one application;
// the other deployment must be one of the same application (422 naming
// against), both must have recorded a snapshot (409), and secret values
// never show.
func TestDeploymentDiff(t *testing.T) {
	ctx := context.Background()
	w := newAppWorld(t)
	deployment := func(app store.Application, env map[string]string, replicas int) store.Deployment {
		t.Helper()
		d, err := w.st.CreateDeployment(ctx, app.ID, store.NewDeployment{Kind: store.KindDeploy})
		if err != nil {
			t.Fatal(err)
		}
		if env != nil {
			app.Replicas = replicas
			if err := snapshot.Save(ctx, w.st, d.ID, snapshot.Of(app, "berth/web:"+d.ID.String()[24:], env)); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	first := deployment(w.app, map[string]string{"API_KEY": "first-secret-value", "STAY": "same"}, 1)
	second := deployment(w.app, map[string]string{"API_KEY": "second-secret-value", "STAY": "same"}, 3)
	bare := deployment(w.app, nil, 0)
	spec := w.app.Spec()
	spec.Name = "api"
	otherApp, err := w.st.CreateApplication(ctx, w.env.ID, spec)
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := deployment(otherApp, map[string]string{}, 1)

	tests := []struct {
		name    string
		p       *store.Principal
		d       store.Deployment
		against string
		status  int
		field   string
	}{
		{"not a member", w.outside, second, first.ID.String(), 404, ""},
		{"against missing", w.viewer, second, "", 422, "against"},
		{"against not an id", w.viewer, second, "latest", 422, "against"},
		{"against unknown", w.viewer, second, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 422, "against"},
		{"against another application's", w.viewer, second, elsewhere.ID.String(), 422, "against"},
		{"against without a snapshot", w.viewer, second, bare.ID.String(), 409, "against"},
		{"without a snapshot", w.viewer, bare, first.ID.String(), 409, "id"},
		{"viewer", w.viewer, second, first.ID.String(), 0, ""},
	}
	for _, tt := range tests {
		_, err := w.svc.Deployments.Diff(ctx, tt.p, tt.d, tt.against)
		want(t, tt.name, err, tt.status, tt.field)
	}

	diff, err := w.svc.Deployments.Diff(ctx, w.viewer, second, first.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if diff.From != first.ID || diff.To != second.ID {
		t.Errorf("from %s to %s, want from %s to %s", diff.From, diff.To, first.ID, second.ID)
	}
	var fields []string
	for _, c := range diff.Changes {
		fields = append(fields, c.Field)
	}
	if got := strings.Join(fields, " "); got != "env.API_KEY image replicas" {
		t.Errorf("changed fields %q, want %q", got, "env.API_KEY image replicas")
	}
	// The release second replaced is the newest successful one before it.
	for _, d := range []store.Deployment{first, second} {
		if err := w.st.FinishDeployment(ctx, d.ID, store.DeploymentResult{Status: store.DeploymentSucceeded, Image: "berth/web:x"}); err != nil {
			t.Fatal(err)
		}
	}
	prev, ok, err := w.svc.Deployments.DiffWithPrevious(ctx, w.viewer, second)
	if err != nil || !ok || prev.From != first.ID || len(prev.Changes) != len(diff.Changes) {
		t.Errorf("diff with the previous release = %+v %v %v, want from %s", prev, ok, err, first.ID)
	}
	if _, ok, err := w.svc.Deployments.DiffWithPrevious(ctx, w.viewer, first); ok || err != nil {
		t.Errorf("diff of the first release with a previous one: %v %v, want none", ok, err)
	}
	_, _, err = w.svc.Deployments.DiffWithPrevious(ctx, w.outside, second)
	want(t, "previous: not a member", err, 404, "")
	data, _ := json.Marshal(diff)
	if strings.Contains(string(data), "secret-value") || !strings.Contains(string(data), `"from":"********","to":"********","secret":true`) {
		t.Errorf("the diff does not mask the changed secret: %s", data)
	}
}
