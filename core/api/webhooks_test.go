package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/teardown"
	"github.com/berth-dev/berth/core/webhook"
	"github.com/google/uuid"
)

// hookedApp creates an application on git.example with the given
// settings and returns it with its webhook path and secret.
func (h *harness) hookedApp(f fixture, name string, settings map[string]any) (store.Application, string, string) {
	h.t.Helper()
	body := map[string]any{"name": name, "git_repository": "/srv/git/" + name, "git_ref": "main", "git_provider": "example", "port": 8080}
	for k, v := range settings {
		body[k] = v
	}
	var a store.Application
	h.must(201, h.do("POST", "/api/v1/environments/"+f.envID+"/applications", f.key, body)).json(h.t, &a)
	var info api.WebhookInfo
	h.must(200, h.do("GET", "/api/v1/applications/"+a.ID.String()+"/webhook", f.key, nil)).json(h.t, &info)
	if info.Secret == "" || !strings.HasPrefix(info.GitURL, "https://berth.example.com/api/v1/webhooks/git/") {
		h.t.Fatalf("webhook info %+v", info)
	}
	return a, strings.TrimPrefix(info.GitURL, "https://berth.example.com"), info.Secret
}

func (h *harness) deploymentCount(app uuid.UUID) int {
	ds, _, err := h.store.ListDeployments(context.Background(), app, store.Page{Limit: 200})
	if err != nil {
		h.t.Fatal(err)
	}
	return len(ds)
}

func TestPushWebhooks(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	branchApp, branchHook, branchSecret := h.hookedApp(f, "branchy", nil)
	tagApp, tagHook, tagSecret := h.hookedApp(f, "taggy", map[string]any{"deploy_trigger": "tag", "tag_pattern": "v*"})
	watchApp, watchHook, watchSecret := h.hookedApp(f, "watchy", map[string]any{"watch_paths": []string{"services/api/**", "*.md"}})
	offApp, offHook, offSecret := h.hookedApp(f, "manual", map[string]any{"auto_deploy": false})
	sha := strings.Repeat("ab", 20)

	tests := []struct {
		name    string
		hook    string
		app     store.Application
		event   string
		secret  string
		payload hookPayload
		headers []string // replaces the signed headers when set
		status  int
		want    string // substring of the answer
		deploys bool
	}{
		{name: "good signature, matching branch", hook: branchHook, app: branchApp, event: "push", secret: branchSecret,
			payload: hookPayload{Repository: "team/branchy", Ref: "refs/heads/main", After: sha}, status: 202, want: "deployment_id", deploys: true},
		{name: "bad signature", hook: branchHook, app: branchApp, event: "push", secret: "not the secret",
			payload: hookPayload{Ref: "refs/heads/main", After: sha}, status: 401, want: "unauthenticated"},
		{name: "missing signature", hook: branchHook, app: branchApp, event: "push", secret: branchSecret,
			payload: hookPayload{Ref: "refs/heads/main", After: sha}, headers: []string{"X-Berth-Example-Event", "push"}, status: 401},
		{name: "unknown hook looks like a bad signature", hook: "/api/v1/webhooks/git/nope", app: branchApp, event: "push", secret: branchSecret,
			payload: hookPayload{Ref: "refs/heads/main"}, status: 401},
		{name: "ping", hook: branchHook, app: branchApp, event: "ping", secret: branchSecret, status: 200, want: `"ignored":"ping"`},
		{name: "other branch", hook: branchHook, app: branchApp, event: "push", secret: branchSecret,
			payload: hookPayload{Ref: "refs/heads/dev", After: sha}, status: 200, want: "push to dev"},
		{name: "deleted branch", hook: branchHook, app: branchApp, event: "push", secret: branchSecret,
			payload: hookPayload{Ref: "refs/heads/main", Deleted: true}, status: 200, want: "deleted"},
		{name: "auto deploy off", hook: offHook, app: offApp, event: "push", secret: offSecret,
			payload: hookPayload{Ref: "refs/heads/main", After: sha}, status: 200, want: "auto_deploy is off"},
		{name: "tag trigger ignores branch pushes", hook: tagHook, app: tagApp, event: "push", secret: tagSecret,
			payload: hookPayload{Ref: "refs/heads/main", After: sha}, status: 200, want: "deploys on tags"},
		{name: "tag not matching the pattern", hook: tagHook, app: tagApp, event: "push", secret: tagSecret,
			payload: hookPayload{Ref: "refs/tags/nightly", After: sha}, status: 200, want: "does not match"},
		{name: "matching tag", hook: tagHook, app: tagApp, event: "push", secret: tagSecret,
			payload: hookPayload{Ref: "refs/tags/v1.2.0", After: sha}, status: 202, deploys: true},
		{name: "tag on a branch-triggered app", hook: branchHook, app: branchApp, event: "push", secret: branchSecret,
			payload: hookPayload{Ref: "refs/tags/v1", After: sha}, status: 200, want: "deploy_trigger branch"},
		{name: "watch paths match", hook: watchHook, app: watchApp, event: "push", secret: watchSecret,
			payload: hookPayload{Ref: "refs/heads/main", After: sha, Changed: []string{"services/api/main.go"}}, status: 202, deploys: true},
		{name: "watch paths match a name at any depth", hook: watchHook, app: watchApp, event: "push", secret: watchSecret,
			payload: hookPayload{Ref: "refs/heads/main", After: sha, Changed: []string{"docs/README.md"}}, status: 202, deploys: true},
		{name: "watch paths do not match", hook: watchHook, app: watchApp, event: "push", secret: watchSecret,
			payload: hookPayload{Ref: "refs/heads/main", After: sha, Changed: []string{"services/web/index.js"}}, status: 200, want: "watch_paths"},
		{name: "no changed paths deploys and says so", hook: watchHook, app: watchApp, event: "push", secret: watchSecret,
			payload: hookPayload{Ref: "refs/heads/main", After: sha}, status: 202, want: "no changed paths", deploys: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.deploymentCount(tt.app.ID)
			body, headers := signedRequest(tt.event, tt.secret, tt.payload)
			if tt.headers != nil {
				headers = tt.headers
			}
			r := h.do("POST", tt.hook, "", body, headers...)
			if r.Status != tt.status || !strings.Contains(string(r.Body), tt.want) {
				t.Fatalf("status %d %s, want %d containing %q", r.Status, r.Body, tt.status, tt.want)
			}
			after := h.deploymentCount(tt.app.ID)
			if tt.deploys != (after == before+1) {
				t.Fatalf("deployments %d -> %d, deploys = %v", before, after, tt.deploys)
			}
			if tt.deploys {
				var res webhook.Result
				r.json(t, &res)
				d, err := h.store.GetDeployment(context.Background(), *res.DeploymentID)
				if err != nil {
					t.Fatal(err)
				}
				if d.Trigger != "push" || d.CommitSHA != sha || d.GitRef != tt.payload.Ref || d.StatusContext != "berth/deploy" {
					t.Fatalf("deployment %+v", d)
				}
			}
		})
	}
}

func TestPreviewLifecycle(t *testing.T) {
	swarm := &removedServices{}
	h := newHarness(t, func(o *api.Options) {
		o.Teardown = teardown.New(teardown.Deps{Store: o.Store, Swarm: swarm, Databases: swarm})
	})
	f := h.fixture()
	a, hook, secret := h.hookedApp(f, "shop", map[string]any{"preview": map[string]any{"enabled": true, "limit": 2,
		"host_pattern": "pr-{number}-{branch}.{app}.preview.example.com"}})
	labelled, lhook, lsecret := h.hookedApp(f, "labelled", map[string]any{"preview": map[string]any{"enabled": true,
		"host_pattern": "pr-{number}.labelled.example.com", "label": "preview"}})
	pr := func(hook, secret string, number int64, action string, mod func(*prHookPayload)) response {
		p := &prHookPayload{Number: number, Action: action, HeadRef: "feature/X", HeadCommit: strings.Repeat("c", 40)}
		if mod != nil {
			mod(p)
		}
		body, headers := signedRequest("pull_request", secret, hookPayload{Repository: "team/shop", PullRequest: p})
		return h.do("POST", hook, "", body, headers...)
	}
	previews := func(app uuid.UUID) []store.Application {
		var l api.List[store.Application]
		h.must(200, h.do("GET", "/api/v1/applications/"+app.String()+"/previews", f.key, nil)).json(t, &l)
		return l.Items
	}

	var opened webhook.Result
	h.must(202, pr(hook, secret, 1, "opened", nil)).json(t, &opened)
	if opened.URL != "http://pr-1-feature-x.shop.preview.example.com/" || opened.PreviewID == nil {
		t.Fatalf("opened %+v", opened)
	}
	ps := previews(a.ID)
	if len(ps) != 1 || ps[0].PreviewNumber != 1 || ps[0].Name != "shop-pr-1" {
		t.Fatalf("previews %+v", ps)
	}
	var domains api.List[store.Domain]
	h.must(200, h.do("GET", "/api/v1/applications/"+ps[0].ID.String()+"/domains", f.key, nil)).json(t, &domains)
	if len(domains.Items) != 1 || domains.Items[0].Host != "pr-1-feature-x.shop.preview.example.com" {
		t.Fatalf("preview domains %+v", domains.Items)
	}
	var apps api.List[store.Application]
	h.must(200, h.do("GET", "/api/v1/applications", f.key, nil)).json(t, &apps)
	for _, x := range apps.Items {
		if x.PreviewOf != nil {
			t.Fatalf("preview %s listed among applications", x.Name)
		}
	}
	d, _ := h.store.GetDeployment(context.Background(), *opened.DeploymentID)
	if d.Trigger != "pull_request" || d.GitRef != strings.Repeat("c", 40) || d.StatusContext != "berth/preview" || d.StatusRepository != "team/shop" {
		t.Fatalf("preview deployment %+v", d)
	}
	// A preview's settings are its parent's.
	h.must(409, h.do("PATCH", "/api/v1/applications/"+ps[0].ID.String(), f.key, map[string]any{"replicas": 3}))

	// Updated: same preview, a new deployment.
	var updated webhook.Result
	h.must(202, pr(hook, secret, 1, "synchronize", func(p *prHookPayload) { p.HeadCommit = strings.Repeat("d", 40) })).json(t, &updated)
	if *updated.PreviewID != *opened.PreviewID || len(previews(a.ID)) != 1 {
		t.Fatalf("update made a new preview: %+v", updated)
	}

	// Drafts and forks are not built.
	if r := h.must(200, pr(hook, secret, 5, "opened", func(p *prHookPayload) { p.Draft = true })); !strings.Contains(string(r.Body), "draft") {
		t.Fatalf("draft: %s", r.Body)
	}
	if r := h.must(200, pr(hook, secret, 6, "opened", func(p *prHookPayload) { p.HeadRepository = "mallory/shop" })); !strings.Contains(string(r.Body), "fork") {
		t.Fatalf("fork: %s", r.Body)
	}

	// The limit: a second preview fits, a third is refused with a status.
	h.must(202, pr(hook, secret, 2, "opened", nil))
	r := h.must(200, pr(hook, secret, 3, "opened", func(p *prHookPayload) { p.HeadCommit = strings.Repeat("e", 40) }))
	if !strings.Contains(string(r.Body), "limit") || len(previews(a.ID)) != 2 {
		t.Fatalf("beyond the limit: %s", r.Body)
	}
	found := false
	for _, st := range h.provider.recorded() {
		if st.Commit == strings.Repeat("e", 40) && st.State == "failure" && strings.Contains(st.Description, "limit") && st.Context == "berth/preview" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no limit status among %+v", h.provider.recorded())
	}

	// Closed: the preview's service and row go.
	var closed webhook.Result
	h.must(200, pr(hook, secret, 1, "closed", nil)).json(t, &closed)
	if closed.RemovedPreviewID == nil || *closed.RemovedPreviewID != *opened.PreviewID {
		t.Fatalf("closed %+v", closed)
	}
	if len(previews(a.ID)) != 1 || !strings.Contains(strings.Join(h.deployer.removed, ","), ps[0].ServiceName) {
		t.Fatalf("preview not removed: %v", h.deployer.removed)
	}
	h.must(404, h.do("GET", "/api/v1/applications/"+opened.PreviewID.String(), f.key, nil))
	h.must(200, pr(hook, secret, 1, "closed", nil)) // again: nothing to do

	// Label filter: only labelled pull requests; removing the label removes the preview.
	if r := h.must(200, pr(lhook, lsecret, 9, "opened", nil)); !strings.Contains(string(r.Body), "label") {
		t.Fatalf("unlabelled: %s", r.Body)
	}
	h.must(202, pr(lhook, lsecret, 9, "labeled", func(p *prHookPayload) { p.Labels = []string{"preview"} }))
	if len(previews(labelled.ID)) != 1 {
		t.Fatal("labelled pull request has no preview")
	}
	h.must(200, pr(lhook, lsecret, 9, "unlabeled", nil))
	if len(previews(labelled.ID)) != 0 {
		t.Fatal("preview kept after its label was removed")
	}

	// Deleting the parent removes its previews' services too (through
	// the teardown, like deleting a project).
	h.must(204, h.do("DELETE", "/api/v1/applications/"+a.ID.String(), f.key, nil))
	if n, _ := h.store.CountPreviews(context.Background(), a.ID); n != 0 {
		t.Fatalf("%d previews left", n)
	}
	if got := strings.Join(swarm.removed, ","); !strings.Contains(got, a.ServiceName) || !strings.Contains(got, "shop-pr-2-") {
		t.Fatalf("removed services %q, want the application's and its preview's", got)
	}
}

// removedServices is a Swarm for the teardown that records the services
// it removes.
type removedServices struct {
	mu      sync.Mutex
	removed []string
}

func (r *removedServices) Remove(_ context.Context, service string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = append(r.removed, service)
	return nil
}

func (r *removedServices) RemoveNetwork(context.Context, string) error { return nil }

func (r *removedServices) RemoveVolumes(context.Context, string, string) ([]string, error) {
	return nil, nil
}

func (r *removedServices) Delete(context.Context, store.Database, bool) error { return nil }

func TestDeployAndImageWebhooks(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	gitApp, _, _ := h.hookedApp(f, "ci", nil)
	var img store.Application
	h.must(201, h.do("POST", "/api/v1/environments/"+f.envID+"/applications", f.key, map[string]any{"name": "img", "image": "acme/api:stable", "port": 80})).json(t, &img)
	var tok api.DeployToken
	h.must(201, h.do("POST", "/api/v1/applications/"+gitApp.ID.String()+"/webhook/deploy-token", f.key, nil)).json(t, &tok)
	if !strings.HasPrefix(tok.Token, store.DeployTokenPrefix) {
		t.Fatalf("token %+v", tok)
	}
	deployPath := strings.TrimPrefix(tok.DeployURL, "https://berth.example.com")
	h.must(401, h.do("POST", deployPath, "", nil))
	h.must(401, h.do("POST", deployPath+"?token=bdt_wrong", "", nil))
	h.must(401, h.do("POST", deployPath, "", `{"ref": "--upload-pack=x"}`)) // no token: nothing about the body
	r := h.must(422, h.do("POST", deployPath, tok.Token, `{"ref": "--upload-pack=x"}`))
	if !strings.HasPrefix(r.errorMessage(), "ref:") {
		t.Fatalf("bad ref: %s", r.Body)
	}
	var res webhook.Result
	h.must(202, h.do("POST", deployPath+"?token="+tok.Token, "", `{"ref": "release"}`)).json(t, &res)
	d, _ := h.store.GetDeployment(context.Background(), *res.DeploymentID)
	if d.Trigger != "webhook" || d.GitRef != "release" {
		t.Fatalf("CI deployment %+v", d)
	}
	// Rotating replaces the token.
	var tok2 api.DeployToken
	h.must(201, h.do("POST", "/api/v1/applications/"+gitApp.ID.String()+"/webhook/deploy-token", f.key, nil)).json(t, &tok2)
	h.must(401, h.do("POST", deployPath, tok.Token, nil))
	h.must(202, h.do("POST", deployPath, tok2.Token, nil))

	var itok api.DeployToken
	h.must(201, h.do("POST", "/api/v1/applications/"+img.ID.String()+"/webhook/deploy-token", f.key, nil)).json(t, &itok)
	imagePath := strings.TrimPrefix(itok.ImageURL, "https://berth.example.com")
	hub := `{"push_data": {"tag": "stable"}, "repository": {"repo_name": "acme/api"}}`
	h.must(401, h.do("POST", imagePath, "", hub))
	h.must(202, h.do("POST", imagePath, itok.Token, hub))
	h.must(200, h.do("POST", imagePath, itok.Token, `{"push_data": {"tag": "edge"}, "repository": {"repo_name": "acme/api"}}`))
	h.must(200, h.do("POST", imagePath, itok.Token, `{"push_data": {"tag": "stable"}, "repository": {"repo_name": "acme/other"}}`))
	digest := "sha256:" + strings.Repeat("1", 64)
	reg := `{"events": [{"action": "pull", "target": {"repository": "acme/api", "tag": "stable"}},
		{"action": "push", "target": {"repository": "acme/api", "tag": "stable", "digest": "` + digest + `"}}]}`
	h.must(202, h.do("POST", imagePath, itok.Token, reg)).json(t, &res)
	d, _ = h.store.GetDeployment(context.Background(), *res.DeploymentID)
	if d.Trigger != "image" || d.Image != "docker.io/acme/api@"+digest {
		t.Fatalf("image deployment %+v", d)
	}
	h.must(400, h.do("POST", imagePath, itok.Token, `{"something": "else"}`))
}

func TestWebhookSettingsAndSecrets(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	a, _, secret := h.hookedApp(f, "settings", nil)
	base := "/api/v1/applications/" + a.ID.String()

	// Validation names the field.
	for _, tt := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"deploy_trigger": "sometimes"}, "deploy_trigger"},
		{map[string]any{"tag_pattern": "v[1"}, "tag_pattern"},
		{map[string]any{"watch_paths": []string{"ok/**", " spaced"}}, "watch_paths[1]"},
		{map[string]any{"preview": map[string]any{"enabled": true}}, "preview.host_pattern"},
		{map[string]any{"preview": map[string]any{"enabled": true, "host_pattern": "pr.example.com"}}, "preview.host_pattern"},
		{map[string]any{"preview": map[string]any{"enabled": true, "host_pattern": "pr-{number}.{owner}.example.com"}}, "preview.host_pattern"},
		{map[string]any{"preview": map[string]any{"enabled": true, "host_pattern": "pr_{number}.example.com"}}, "preview.host_pattern"},
		{map[string]any{"preview": map[string]any{"limit": 0}}, "preview.limit"},
		{map[string]any{"preview": map[string]any{"https": "custom"}}, "preview.https"},
		{map[string]any{"git_connection_id": uuid.NewString()}, "git_connection_id"},
	} {
		r := h.do("PATCH", base, f.key, tt.body)
		var e api.ErrorBody
		json.Unmarshal(r.Body, &e)
		if r.Status != 422 || e.Error.Field != tt.field {
			t.Errorf("%v: status %d field %q, want 422 %q: %s", tt.body, r.Status, e.Error.Field, tt.field, r.Body)
		}
	}
	var got store.Application
	h.must(200, h.do("PATCH", base, f.key, map[string]any{"deploy_trigger": "tag", "watch_paths": []string{"api/"},
		"preview": map[string]any{"enabled": true, "host_pattern": "{branch}-{number}.example.com"}})).json(t, &got)
	if got.DeployTrigger != "tag" || !got.Preview.Enabled || got.Preview.Limit != 3 || !got.AutoDeploy {
		t.Fatalf("saved %+v", got.Automation)
	}
	for _, leak := range []string{secret, "webhook_secret"} {
		if r := h.do("GET", base, f.key, nil); strings.Contains(string(r.Body), leak) {
			t.Fatalf("application JSON leaks %q", leak)
		}
	}

	// Rotating the secret changes it; members see the URLs, not the secret.
	var rotated api.WebhookInfo
	h.must(200, h.do("POST", base+"/webhook/secret", f.key, nil)).json(t, &rotated)
	if rotated.Secret == "" || rotated.Secret == secret {
		t.Fatal("secret not rotated")
	}
	member := h.member(f, "member")
	var info api.WebhookInfo
	h.must(200, h.do("GET", base+"/webhook", member, nil)).json(t, &info)
	if info.Secret != "" || info.GitURL == "" {
		t.Fatalf("member sees %+v", info)
	}
	h.must(403, h.do("POST", base+"/webhook/secret", member, nil))
	h.must(403, h.do("POST", base+"/webhook/deploy-token", member, nil))
}

func TestGitConnections(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	h.provider.repos = []string{"team/a", "team/b", "team/c"}
	create := func(body map[string]any) response {
		return h.do("POST", "/api/v1/git-connections", f.key, body)
	}
	for _, tt := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"provider": "example", "credentials": map[string]any{"token": "t"}}, "name"},
		{map[string]any{"name": "x", "credentials": map[string]any{"token": "t"}}, "provider"},
		{map[string]any{"name": "x", "provider": "example"}, "credentials"},
		{map[string]any{"name": "x", "provider": "example", "credentials": map[string]any{"username": "u"}}, "credentials"},
		{map[string]any{"name": "x", "provider": "example", "credentials": map[string]any{"app_id": "1", "installation_id": "2", "private_key": "nope"}}, "credentials.private_key"},
		{map[string]any{"name": "x", "provider": "example", "base_url": "ftp://x", "credentials": map[string]any{"token": "t"}}, "base_url"},
	} {
		r := create(tt.body)
		var e api.ErrorBody
		json.Unmarshal(r.Body, &e)
		if r.Status != 422 || e.Error.Field != tt.field {
			t.Errorf("%v: %d %q, want 422 %q", tt.body, r.Status, e.Error.Field, tt.field)
		}
	}
	var conn store.GitConnection
	h.must(201, create(map[string]any{"name": "acme", "provider": "example", "credentials": map[string]any{"token": "good-token"}})).json(t, &conn)
	if conn.Provider != "git.example" || conn.CredentialKind != "token" {
		t.Fatalf("connection %+v", conn)
	}
	h.must(409, create(map[string]any{"name": "acme", "provider": "example", "credentials": map[string]any{"token": "x"}}))
	base := "/api/v1/git-connections/" + conn.ID.String()
	for _, path := range []string{base, "/api/v1/git-connections"} {
		if r := h.must(200, h.do("GET", path, f.key, nil)); strings.Contains(string(r.Body), "good-token") {
			t.Fatalf("%s returns the token: %s", path, r.Body)
		}
	}
	var test api.ConnectionTest
	h.must(200, h.do("POST", base+"/test", f.key, nil)).json(t, &test)
	if !test.OK || test.Repositories != 3 {
		t.Fatalf("test %+v", test)
	}
	var page api.RepositoryList
	h.must(200, h.do("GET", base+"/repositories", f.key, nil)).json(t, &page)
	if len(page.Items) != 2 || page.NextPageToken == "" || page.Items[0].FullName != "team/a" {
		t.Fatalf("page %+v", page)
	}
	h.must(200, h.do("GET", base+"/repositories?page_token="+page.NextPageToken, f.key, nil)).json(t, &page)
	if len(page.Items) != 1 || page.NextPageToken != "" {
		t.Fatalf("page 2 %+v", page)
	}
	var branches api.BranchList
	h.must(400, h.do("GET", base+"/branches", f.key, nil))
	h.must(200, h.do("GET", base+"/branches?repository=team/a", f.key, nil)).json(t, &branches)
	if len(branches.Items) != 2 || !branches.Items[0].Default {
		t.Fatalf("branches %+v", branches)
	}

	// Refused credentials are a 422 naming them; an unknown plugin names the provider.
	h.must(200, h.do("PATCH", base, f.key, map[string]any{"credentials": map[string]any{"token": "expired"}}))
	r := h.must(422, h.do("POST", base+"/test", f.key, nil))
	if !strings.Contains(r.errorMessage(), "refused") {
		t.Fatalf("refused credentials: %s", r.Body)
	}
	var other store.GitConnection
	h.must(201, create(map[string]any{"name": "gh", "provider": "github", "credentials": map[string]any{"token": "t"}})).json(t, &other)
	h.must(422, h.do("POST", "/api/v1/git-connections/"+other.ID.String()+"/test", f.key, nil))

	// An application uses the connection with an owner/repo name.
	var a store.Application
	h.must(200, h.do("PATCH", "/api/v1/applications/"+f.appID, f.key, map[string]any{"git_connection_id": conn.ID.String(),
		"git_repository": "team/a", "git_ref": "main"})).json(t, &a)
	if a.GitConnectionID == nil || *a.GitConnectionID != conn.ID || a.GitRepository != "team/a" {
		t.Fatalf("app %+v", a)
	}

	// Roles: members read, only admins change or test.
	member := h.member(f, "member")
	h.must(200, h.do("GET", base, member, nil))
	h.must(403, h.do("PATCH", base, member, map[string]any{"name": "x"}))
	h.must(403, h.do("POST", base+"/test", member, nil))
	h.must(403, h.do("DELETE", base, member, nil))
	h.must(204, h.do("DELETE", base, f.key, nil))
	h.must(200, h.do("GET", "/api/v1/applications/"+f.appID, f.key, nil)).json(t, &a)
	if a.GitConnectionID != nil {
		t.Fatal("application still names the deleted connection")
	}
}

// member adds a user with role to the fixture's organization and returns
// their API key.
func (h *harness) member(f fixture, role string) string {
	h.t.Helper()
	email := role + "@example.com"
	h.must(201, h.do("POST", "/api/v1/organizations/"+f.orgID+"/members", f.key, map[string]any{
		"email": email, "name": role, "password": password, "role": role}))
	return h.apiKeyFromSession(h.must(200, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password})))
}
