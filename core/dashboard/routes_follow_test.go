package dashboard

import (
	"context"
	"net/url"
	"testing"

	"github.com/berth-dev/berth/core/routing/routingtest"
	"github.com/berth-dev/berth/core/store"
)

// TestRoutesFollowDashboardChanges changes routed objects through the
// dashboard's forms and sees Traefik's configuration follow, with routing
// wired as core/app wires it (the change feed kicks the syncer).
func TestRoutesFollowDashboardChanges(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	ctx := context.Background()
	follow := routingtest.Start(t, h.store)
	app := appURL(f.app.ID)
	follow.Has("fixture domain", "Host(`"+f.domain.Host+"`)")
	admin.must(303, admin.post(app+"/domains", url.Values{"host": {"forms.example.com"}, "https": {"none"}}))
	follow.Has("dashboard: domain added", "Host(`forms.example.com`)")
	admin.must(303, admin.post(app+"/settings", url.Values{"source_type": {f.app.SourceType}, "git_repository": {f.app.GitRepository},
		"git_ref": {f.app.GitRef}, "build_type": {f.app.BuildType}, "image": {f.app.Image}, "port": {"9393"}, "replicas": {"1"}}))
	follow.Has("dashboard: application port changed", ":9393")
	domains, _, err := h.store.ListDomains(ctx, f.app.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range domains {
		if d.Host == "forms.example.com" {
			admin.must(303, admin.post("/domains/"+d.ID.String()+"/delete", url.Values{"confirmed": {"yes"}}))
		}
	}
	follow.Lacks("dashboard: domain removed", "forms.example.com")
	admin.must(303, admin.post("/projects/"+f.project.ID.String()+"/delete", url.Values{"confirmed": {"yes"}}))
	follow.Lacks("dashboard: project deleted (cascade)", f.domain.Host)
}
