package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/webhook"
)

// TestPreviewCreationIsAllOrNothing: when a preview's domain cannot be
// created (its host is taken), the preview's application and deployment
// written in the same transaction are rolled back with it.
func TestPreviewCreationIsAllOrNothing(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	a, hook, secret := h.hookedApp(f, "shop", map[string]any{"preview": map[string]any{"enabled": true,
		"host_pattern": "pr-{number}.taken.example.com"}})
	h.must(201, h.do("POST", "/api/v1/applications/"+f.appID+"/domains", f.key, map[string]any{"host": "pr-1.taken.example.com"}))

	p := &prHookPayload{Number: 1, Action: "opened", HeadRef: "feature", HeadCommit: strings.Repeat("c", 40)}
	body, headers := signedRequest("pull_request", secret, hookPayload{Repository: "team/shop", PullRequest: p})
	var res webhook.Result
	h.must(200, h.do("POST", hook, "", body, headers...)).json(t, &res)
	if !strings.Contains(res.Skipped, "already used") {
		t.Fatalf("result %+v, want skipped: host already used", res)
	}
	var previews api.List[store.Application]
	h.must(200, h.do("GET", "/api/v1/applications/"+a.ID.String()+"/previews", f.key, nil)).json(t, &previews)
	if len(previews.Items) != 0 {
		t.Fatalf("previews left: %+v", previews.Items)
	}
	var n int
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM applications WHERE preview_of = $1`, a.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	var deployments int
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM deployments d JOIN applications x
		ON x.id = d.application_id WHERE x.preview_of = $1`, a.ID).Scan(&deployments); err != nil {
		t.Fatal(err)
	}
	if n != 0 || deployments != 0 {
		t.Fatalf("%d preview applications and %d deployments left, want none", n, deployments)
	}
}
