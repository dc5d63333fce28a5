package dashboard

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/snapshot"
	"github.com/berth-dev/berth/core/store"
)

// TestDeploymentPageComparesReleases: a release's page shows what changed
// since the release it replaced, secret values masked, or why it cannot.
func TestDeploymentPageComparesReleases(t *testing.T) {
	h := newHarness(t)
	c := h.setup()
	ctx := context.Background()
	r := c.must(303, c.post("/projects", url.Values{"name": {"Shop"}}))
	p, err := h.store.GetProject(ctx, uuid.MustParse(strings.TrimPrefix(r.Location(), "/projects/")))
	if err != nil {
		t.Fatal(err)
	}
	envs, _, err := h.store.ListEnvironments(ctx, p.ID, store.Page{})
	if err != nil || len(envs) == 0 {
		t.Fatalf("environments %v %v", envs, err)
	}
	r = c.must(303, c.post("/projects/"+p.ID.String()+"/applications", url.Values{"environment_id": {envs[0].ID.String()}, "name": {"web"}, "source_type": {"image"},
		"image": {"nginx:1.27"}, "port": {"80"}}))
	a, err := h.store.GetApplication(ctx, uuid.MustParse(strings.TrimPrefix(r.Location(), "/apps/")))
	if err != nil {
		t.Fatal(err)
	}
	releaseWith := func(image, token string, replicas int) uuid.UUID {
		t.Helper()
		d := h.succeeded(a.ID, image, 100)
		if token != "" {
			s := a
			s.Replicas = replicas
			if err := snapshot.Save(ctx, h.store, d.ID, snapshot.Of(s, image, map[string]string{"API_TOKEN": token})); err != nil {
				t.Fatal(err)
			}
		}
		return d.ID
	}
	first := releaseWith("nginx:1.27", "first-token-secret", 1)
	second := releaseWith("nginx:1.28", "second-token-secret", 2)
	third := releaseWith("nginx:1.29", "", 0)

	tests := []struct {
		name      string
		id        uuid.UUID
		want, not []string
	}{
		{"first release: nothing to compare", first, nil, []string{"Compared with the previous release"}},
		{"changes since the previous release", second,
			[]string{"Compared with the previous release", `href="/deployments/` + first.String() + `"`, "env.API_TOKEN",
				"********", "(secret)", "nginx:1.27", "nginx:1.28", "replicas"},
			[]string{"token-secret"}},
		{"previous release without a snapshot", third,
			[]string{"Compared with the previous release", "recorded no release snapshot"}, []string{"token-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := c.must(200, c.do("GET", "/deployments/"+tt.id.String(), nil)).Body
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(page, n) {
					t.Errorf("the page shows %q", n)
				}
			}
		})
	}
}
