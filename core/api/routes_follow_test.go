package api_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/changefeed"
	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/routing"
)

// followRoutes runs routing as core/app does (the change feed kicks the
// syncer, which publishes Traefik's dynamic configuration) and returns a
// function that waits until the published file satisfies ok.
func followRoutes(t *testing.T, h *harness) func(what string, ok func(cfg string) bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dir := t.TempDir()
	pub := proxy.NewPublisher(dir, "berth.yaml")
	syncer := routing.NewSyncer(h.store, pub, filepath.Join(dir, "certs"), "/certs", nil)
	feed := changefeed.New(h.store.Pool(), nil)
	feed.Subscribe(func(changefeed.Change) { syncer.RoutesChanged() }, changefeed.Applications, changefeed.Domains)
	ready := make(chan struct{})
	go feed.Run(ctx, ready)
	<-ready
	go syncer.Run(ctx)
	return func(what string, ok func(cfg string) bool) {
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
}

func has(s string) func(string) bool {
	return func(cfg string) bool { return strings.Contains(cfg, s) }
}
func hasNot(s string) func(string) bool {
	return func(cfg string) bool { return !strings.Contains(cfg, s) }
}

// TestRoutesFollowEveryChange changes every kind of routed object through
// the API and the webhook receiver and sees Traefik's configuration follow,
// though no handler tells routing anything: PostgreSQL announces the
// committed changes (core/changefeed).
func TestRoutesFollowEveryChange(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	follow := followRoutes(t, h)

	var d struct{ ID string }
	h.must(201, h.do("POST", "/api/v1/applications/"+f.appID+"/domains", f.key, map[string]any{"host": "shop.example.com"})).json(t, &d)
	follow("API: domain added", has("Host(`shop.example.com`)"))
	h.must(200, h.do("PATCH", "/api/v1/applications/"+f.appID, f.key, map[string]any{"port": 9191}))
	follow("API: application port changed", has(":9191"))
	h.must(200, h.do("PATCH", "/api/v1/domains/"+d.ID, f.key, map[string]any{"host": "store.example.com"}))
	follow("API: domain changed", func(cfg string) bool {
		return strings.Contains(cfg, "Host(`store.example.com`)") && !strings.Contains(cfg, "Host(`shop.example.com`)")
	})

	a, hook, secret := h.hookedApp(f, "previewed", map[string]any{"preview": map[string]any{"enabled": true,
		"host_pattern": "pr-{number}.previewed.example.com"}})
	pr := func(action string) {
		body, headers := signedRequest("pull_request", secret, hookPayload{Repository: "team/shop",
			PullRequest: &prHookPayload{Number: 4, Action: action, HeadRef: "feature", HeadCommit: strings.Repeat("a", 40)}})
		h.do("POST", hook, "", body, headers...)
	}
	_ = a
	pr("opened")
	follow("webhook: preview opened", has("Host(`pr-4.previewed.example.com`)"))
	pr("closed")
	follow("webhook: preview closed", hasNot("pr-4.previewed.example.com"))

	h.must(204, h.do("DELETE", "/api/v1/domains/"+d.ID, f.key, nil))
	follow("API: domain removed", hasNot("store.example.com"))
	h.must(201, h.do("POST", "/api/v1/applications/"+f.appID+"/domains", f.key, map[string]any{"host": "again.example.com"}))
	follow("API: domain added again", has("again.example.com"))
	h.must(204, h.do("DELETE", "/api/v1/projects/"+f.projectID, f.key, nil))
	follow("API: project deleted (cascade)", hasNot("again.example.com"))
}
