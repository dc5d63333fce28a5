package dashboard

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/changefeed"
	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/routing"
	"github.com/berth-dev/berth/core/store"
)

// TestRoutesFollowDashboardChanges changes routed objects through the
// dashboard's forms and sees Traefik's configuration follow, with routing
// wired as core/app wires it (the change feed kicks the syncer).
func TestRoutesFollowDashboardChanges(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	pub := proxy.NewPublisher(dir, "berth.yaml")
	syncer := routing.NewSyncer(h.store, pub, filepath.Join(dir, "certs"), "/certs", nil)
	feed := changefeed.New(h.store.Pool(), nil)
	feed.Subscribe(func(changefeed.Change) { syncer.RoutesChanged() }, changefeed.Applications, changefeed.Domains)
	ready := make(chan struct{})
	go feed.Run(ctx, ready)
	<-ready
	go syncer.Run(ctx)
	follow := func(what string, ok func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			data, _ := os.ReadFile(pub.Path())
			if ok(string(data)) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: Traefik's configuration did not follow:\n%.2000s", what, data)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	has := func(s string) func(string) bool { return func(cfg string) bool { return strings.Contains(cfg, s) } }
	hasNot := func(s string) func(string) bool { return func(cfg string) bool { return !strings.Contains(cfg, s) } }

	app := appURL(f.app.ID)
	follow("fixture domain", has("Host(`"+f.domain.Host+"`)"))
	admin.must(303, admin.post(app+"/domains", url.Values{"host": {"forms.example.com"}, "https": {"none"}}))
	follow("dashboard: domain added", has("Host(`forms.example.com`)"))
	admin.must(303, admin.post(app+"/settings", url.Values{"source_type": {f.app.SourceType}, "git_repository": {f.app.GitRepository},
		"git_ref": {f.app.GitRef}, "build_type": {f.app.BuildType}, "image": {f.app.Image}, "port": {"9393"}, "replicas": {"1"}}))
	follow("dashboard: application port changed", has(":9393"))
	domains, _, err := h.store.ListDomains(ctx, f.app.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range domains {
		if d.Host == "forms.example.com" {
			admin.must(303, admin.post("/domains/"+d.ID.String()+"/delete", url.Values{"confirmed": {"yes"}}))
		}
	}
	follow("dashboard: domain removed", hasNot("forms.example.com"))
	admin.must(303, admin.post("/projects/"+f.project.ID.String()+"/delete", url.Values{"confirmed": {"yes"}}))
	follow("dashboard: project deleted (cascade)", hasNot(f.domain.Host))
}
