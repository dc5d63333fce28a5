package gitea

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/providers/git/internal/hmacsig"
	"github.com/berth-dev/berth/sdk"
)

const testSecret = "3gEsCfjlV2ugRwgpU#w1*WaW*wa4NXgGmpCfkbG3"

// delivery returns a webhook request for a testdata payload, with the
// headers Gitea sends.
func delivery(t testing.TB, event, fixture string) sdk.ParseWebhookRequest {
	t.Helper()
	return signed(event, gitfixture.Payload(t, os.DirFS("."), strings.TrimSuffix(fixture, ".json")))
}

func signed(event string, body []byte) sdk.ParseWebhookRequest {
	sig := hmacsig.Hex(testSecret, body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Gitea-Delivery", "f6266f16-1bf3-46a5-9ea4-602e06ead473")
	h.Set("X-Gitea-Event", event)
	h.Set("X-Gitea-Event-Type", event)
	h.Set("X-Gitea-Signature", sig)
	h.Set("X-Gogs-Event", event)
	h.Set("X-Gogs-Signature", sig)
	h.Set("X-GitHub-Event", event)
	h.Set("X-Hub-Signature-256", "sha256="+sig)
	return sdk.ParseWebhookRequest{Header: h, Body: body, Secret: testSecret}
}

func TestParseWebhookEvents(t *testing.T) {
	const repo, clone = "team/webhooks", "https://git.example.com/team/webhooks.git"
	pr := func(action string, mod func(*sdk.PullRequest)) *sdk.WebhookEvent {
		p := &sdk.PullRequest{
			Number: 7, Action: action, Title: "Add a healthcheck endpoint", HeadRef: "healthcheck",
			HeadCommit: "4f0b8b6e9c1d2a3b4c5d6e7f8091a2b3c4d5e6f7", BaseRef: "main",
			URL: "https://git.example.com/team/webhooks/pulls/7", Labels: []string{"backend", "preview"},
			HeadRepository: "alice/webhooks", HeadCloneURL: "https://git.example.com/alice/webhooks.git",
		}
		sender := "alice"
		if mod != nil {
			mod(p)
		}
		if p.Merged {
			sender = "gitea"
		}
		return &sdk.WebhookEvent{
			Type: sdk.WebhookPullRequest, Repository: repo, CloneURL: clone,
			Ref: "refs/heads/healthcheck", Branch: "healthcheck", Commit: p.HeadCommit, Sender: sender, PullRequest: p,
		}
	}
	tests := []struct {
		name, event, fixture string
		want                 *sdk.WebhookEvent
		ignored              string
	}{
		{
			name: "push", event: "push", fixture: "push.json",
			want: &sdk.WebhookEvent{
				Type: sdk.WebhookPush, Repository: repo, CloneURL: clone, Ref: "refs/heads/main", Branch: "main",
				Commit: "bffeb74224043ba2feb48d137756c8a9331c449a", Before: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
				ChangedPaths: []string{"docs/hooks.md", "go.mod", "old/cron.sh", "worker/main.go"}, Sender: "gitea",
			},
		},
		{
			name: "push listing fewer commits than pushed", event: "push", fixture: "push_truncated.json",
			want: &sdk.WebhookEvent{
				Type: sdk.WebhookPush, Repository: repo, CloneURL: clone, Ref: "refs/heads/main", Branch: "main",
				Commit: "bffeb74224043ba2feb48d137756c8a9331c449a", Before: "28e1879d029cb852e4844d9c718537df08844e03", Sender: "gitea",
			},
		},
		{
			name: "tag", event: "push", fixture: "push_tag.json",
			want: &sdk.WebhookEvent{
				Type: sdk.WebhookTag, Repository: repo, CloneURL: clone, Ref: "refs/tags/v2.0.0", Tag: "v2.0.0",
				Commit: "bffeb74224043ba2feb48d137756c8a9331c449a", Before: strings.Repeat("0", 40), Sender: "gitea",
			},
		},
		{
			name: "tag deleted", event: "push", fixture: "push_tag_delete.json",
			want: &sdk.WebhookEvent{
				Type: sdk.WebhookTag, Repository: repo, CloneURL: clone, Ref: "refs/tags/v2.0.0", Tag: "v2.0.0",
				Before: "bffeb74224043ba2feb48d137756c8a9331c449a", Sender: "gitea", Deleted: true,
			},
		},
		{
			name: "branch deleted", event: "delete", fixture: "delete_branch.json",
			want: &sdk.WebhookEvent{
				Type: sdk.WebhookPush, Repository: repo, CloneURL: clone, Ref: "refs/heads/feature/old-login", Branch: "feature/old-login",
				Sender: "gitea", Deleted: true,
			},
		},
		{name: "tag delete event", event: "delete", fixture: "delete_tag.json", ignored: "its push event carries the deletion"},
		{name: "pull request opened", event: "pull_request", fixture: "pull_request_opened.json", want: pr("opened", nil)},
		{name: "pull request synchronized", event: "pull_request", fixture: "pull_request_synchronized.json", want: pr("updated", func(p *sdk.PullRequest) {
			p.HeadCommit = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
		})},
		{name: "pull request merged", event: "pull_request", fixture: "pull_request_closed.json", want: pr("closed", func(p *sdk.PullRequest) { p.Merged = true })},
		{name: "pull request labeled", event: "pull_request", fixture: "pull_request_label_updated.json", want: pr("updated", func(p *sdk.PullRequest) {
			p.Labels = []string{"backend", "deploy-preview", "preview"}
			p.Title = "WIP: Add a healthcheck endpoint"
			p.Draft = true
		})},
		{name: "pull request target branch changed", event: "pull_request", fixture: "pull_request_edited_ref.json", want: pr("updated", nil)},
		{name: "pull request title edited", event: "pull_request", fixture: "pull_request_edited_title.json", ignored: `action "edited"`},
		{name: "pull request assigned", event: "pull_request", fixture: "pull_request_assigned.json", ignored: `action "assigned"`},
		{name: "create", event: "create", fixture: "create.json", ignored: `"create" events`},
		{name: "review", event: "pull_request_approved", fixture: "pull_request_opened.json", ignored: `"pull_request_approved" events`},
	}
	p := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := delivery(t, tt.event, tt.fixture)
			r, err := p.ParseWebhook(t.Context(), &req)
			gitfixture.CheckParsed(t, r, err, tt.ignored, tt.want)
		})
	}
}

func TestParseWebhookSignatures(t *testing.T) {
	p := New()
	good := delivery(t, "push", "push.json")
	tests := []struct {
		name   string
		mutate func(r *sdk.ParseWebhookRequest)
		want   error // nil: accepted
	}{
		{"both signatures", func(r *sdk.ParseWebhookRequest) {}, nil},
		{"X-Gitea-Signature only (older Gitea)", func(r *sdk.ParseWebhookRequest) { r.Header.Del("X-Hub-Signature-256") }, nil},
		{"X-Hub-Signature-256 only", func(r *sdk.ParseWebhookRequest) { r.Header.Del("X-Gitea-Signature") }, nil},
		{"no signature", func(r *sdk.ParseWebhookRequest) {
			r.Header.Del("X-Gitea-Signature")
			r.Header.Del("X-Hub-Signature-256")
		}, sdk.ErrUnauthenticated},
		{"X-Gogs-Signature alone is not enough", func(r *sdk.ParseWebhookRequest) {
			r.Header.Del("X-Gitea-Signature")
			r.Header.Del("X-Hub-Signature-256")
			r.Header.Set("X-Gogs-Signature", hmacsig.Hex(testSecret, r.Body))
		}, sdk.ErrUnauthenticated},
		{"one of two signatures wrong", func(r *sdk.ParseWebhookRequest) {
			r.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
		}, sdk.ErrUnauthenticated},
		{"wrong secret", func(r *sdk.ParseWebhookRequest) { r.Secret = "wrong" }, sdk.ErrUnauthenticated},
		{"empty secret", func(r *sdk.ParseWebhookRequest) { r.Secret = "" }, sdk.ErrUnauthenticated},
		{"tampered body", func(r *sdk.ParseWebhookRequest) {
			r.Body = []byte(strings.Replace(string(r.Body), "refs/heads/main", "refs/heads/prod", 1))
		}, sdk.ErrUnauthenticated},
		{"no event header", func(r *sdk.ParseWebhookRequest) { r.Header.Del("X-Gitea-Event") }, sdk.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := good
			req.Header = good.Header.Clone()
			tt.mutate(&req)
			r, err := p.ParseWebhook(t.Context(), &req)
			if tt.want == nil {
				if err != nil || r.Event == nil {
					t.Errorf("ParseWebhook = %+v, %v; want the push event", r, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("ParseWebhook = %+v, %v; want %v", r, err, tt.want)
			}
		})
	}
	for name, body := range map[string]string{
		"malformed JSON": `{"ref": "refs/heads/main", "commits": [`,
		"wrong types":    `{"ref": ["main"]}`,
		"form encoded":   `payload=%7B%7D`,
	} {
		req := signed("push", []byte(body))
		_, err := p.ParseWebhook(t.Context(), &req)
		if errors.Is(err, sdk.ErrUnauthenticated) || !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("%s: %v, want a clear sdk.ErrInvalidArgument error", name, err)
		}
	}
}
