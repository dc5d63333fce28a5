package api_test

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/routing/routingtest"
)

// TestRoutesFollowEveryChange changes every kind of routed object through
// the API and the webhook receiver and sees Traefik's configuration follow,
// though no handler tells routing anything: PostgreSQL announces the
// committed changes (core/changefeed).
func TestRoutesFollowEveryChange(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	follow := routingtest.Start(t, h.store)

	var d struct{ ID string }
	h.must(201, h.do("POST", "/api/v1/applications/"+f.appID+"/domains", f.key, map[string]any{"host": "shop.example.com"})).json(t, &d)
	follow.Has("API: domain added", "Host(`shop.example.com`)")
	h.must(200, h.do("PATCH", "/api/v1/applications/"+f.appID, f.key, map[string]any{"port": 9191}))
	follow.Has("API: application port changed", ":9191")
	h.must(200, h.do("PATCH", "/api/v1/domains/"+d.ID, f.key, map[string]any{"host": "store.example.com"}))
	follow.Has("API: domain changed", "Host(`store.example.com`)")
	follow.Lacks("API: old host gone", "Host(`shop.example.com`)")

	_, hook, secret := h.hookedApp(f, "previewed", map[string]any{"preview": map[string]any{"enabled": true,
		"host_pattern": "pr-{number}.previewed.example.com"}})
	pr := func(action string) {
		body, headers := signedRequest("pull_request", secret, hookPayload{Repository: "team/shop",
			PullRequest: &prHookPayload{Number: 4, Action: action, HeadRef: "feature", HeadCommit: strings.Repeat("a", 40)}})
		h.do("POST", hook, "", body, headers...)
	}
	pr("opened")
	follow.Has("webhook: preview opened", "Host(`pr-4.previewed.example.com`)")
	pr("closed")
	follow.Lacks("webhook: preview closed", "pr-4.previewed.example.com")

	h.must(204, h.do("DELETE", "/api/v1/domains/"+d.ID, f.key, nil))
	follow.Lacks("API: domain removed", "store.example.com")
	h.must(201, h.do("POST", "/api/v1/applications/"+f.appID+"/domains", f.key, map[string]any{"host": "again.example.com"}))
	follow.Has("API: domain added again", "again.example.com")
	h.must(204, h.do("DELETE", "/api/v1/projects/"+f.projectID, f.key, nil))
	follow.Lacks("API: project deleted (cascade)", "again.example.com")
}
