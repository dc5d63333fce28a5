package github

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

const testSecret = "It's a Secret to Everybody"

// delivery returns a webhook request for a testdata payload, signed as
// GitHub signs it.
func delivery(t testing.TB, event, fixture string) sdk.ParseWebhookRequest {
	t.Helper()
	return signed(event, gitfixture.Payload(t, os.DirFS("."), strings.TrimSuffix(fixture, ".json")))
}

func signed(event string, body []byte) sdk.ParseWebhookRequest {
	h := http.Header{}
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	h.Set("X-GitHub-Hook-ID", "109948940")
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/044aadd")
	h.Set("X-Hub-Signature-256", "sha256="+hmacsig.Hex(testSecret, body))
	return sdk.ParseWebhookRequest{Header: h, Body: body, Secret: testSecret}
}

func TestParseWebhookEvents(t *testing.T) {
	const head = "e5bd3914e2e596debea16f433f57875b5b90bcd6"
	pr := func(action string, mod func(*sdk.PullRequest)) *sdk.WebhookEvent {
		p := &sdk.PullRequest{
			Number: 42, Action: action, Title: "Add dark mode", HeadRef: "dark-mode", HeadCommit: head, BaseRef: "main",
			URL: "https://github.com/octo-org/hello-world/pull/42", Labels: []string{"enhancement", "preview"},
			HeadRepository: "hubot/hello-world", HeadCloneURL: "https://github.com/hubot/hello-world.git",
		}
		if mod != nil {
			mod(p)
		}
		return &sdk.WebhookEvent{
			Type: sdk.WebhookPullRequest, Repository: "octo-org/hello-world", CloneURL: "https://github.com/octo-org/hello-world.git",
			Ref: "refs/heads/dark-mode", Branch: "dark-mode", Commit: p.HeadCommit, Sender: "hubot", PullRequest: p,
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
				Type: sdk.WebhookPush, Repository: "octo-org/hello-world", CloneURL: "https://github.com/octo-org/hello-world.git",
				Ref: "refs/heads/main", Branch: "main", Commit: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", Before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
				ChangedPaths: []string{"README.md", "api/routes.go", "api/server.go", "legacy/server.js"}, Sender: "octocat",
			},
		},
		{
			name: "tag", event: "push", fixture: "push_tag.json",
			want: &sdk.WebhookEvent{
				Type: sdk.WebhookTag, Repository: "octo-org/hello-world", CloneURL: "https://github.com/octo-org/hello-world.git",
				Ref: "refs/tags/v1.2.0", Tag: "v1.2.0", Commit: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", Before: strings.Repeat("0", 40), Sender: "octocat",
			},
		},
		{
			name: "branch deleted", event: "push", fixture: "push_delete.json",
			want: &sdk.WebhookEvent{
				Type: sdk.WebhookPush, Repository: "octo-org/hello-world", CloneURL: "https://github.com/octo-org/hello-world.git",
				Ref: "refs/heads/feature/old-login", Branch: "feature/old-login", Before: "9049f1265b7d61be4a8904a9a27120d2064dab3b", Sender: "octocat", Deleted: true,
			},
		},
		{name: "pull request opened", event: "pull_request", fixture: "pull_request_opened.json", want: pr("opened", nil)},
		{name: "pull request synchronize", event: "pull_request", fixture: "pull_request_synchronize.json", want: pr("updated", func(p *sdk.PullRequest) {
			p.HeadCommit = "7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b"
		})},
		{name: "pull request merged", event: "pull_request", fixture: "pull_request_closed.json", want: pr("closed", func(p *sdk.PullRequest) { p.Merged = true })},
		{name: "pull request labeled", event: "pull_request", fixture: "pull_request_labeled.json", want: pr("updated", func(p *sdk.PullRequest) {
			p.Labels = []string{"deploy-preview", "enhancement", "preview"}
			p.Draft = true
		})},
		{name: "pull request base changed", event: "pull_request", fixture: "pull_request_edited_base.json", want: pr("updated", nil)},
		{name: "pull request title edited", event: "pull_request", fixture: "pull_request_edited_title.json", ignored: `action "edited"`},
		{name: "pull request assigned", event: "pull_request", fixture: "pull_request_assigned.json", ignored: `action "assigned"`},
		{name: "ping", event: "ping", fixture: "ping.json", ignored: "ping"},
		{name: "other event", event: "create", fixture: "push_tag.json", ignored: `"create" events`},
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

func TestParseWebhookRefusals(t *testing.T) {
	p := New()
	good := delivery(t, "push", "push.json")
	tests := []struct {
		name   string
		mutate func(r *sdk.ParseWebhookRequest)
		want   error
	}{
		{"wrong secret", func(r *sdk.ParseWebhookRequest) { r.Secret = "another secret" }, sdk.ErrUnauthenticated},
		{"empty secret", func(r *sdk.ParseWebhookRequest) { r.Secret = "" }, sdk.ErrUnauthenticated},
		{"missing signature", func(r *sdk.ParseWebhookRequest) { r.Header.Del("X-Hub-Signature-256") }, sdk.ErrUnauthenticated},
		{"tampered body", func(r *sdk.ParseWebhookRequest) {
			r.Body = []byte(strings.Replace(string(r.Body), "refs/heads/main", "refs/heads/prod", 1))
		}, sdk.ErrUnauthenticated},
		{"sha1 signature only", func(r *sdk.ParseWebhookRequest) {
			r.Header.Del("X-Hub-Signature-256")
			r.Header.Set("X-Hub-Signature", "sha1=0000000000000000000000000000000000000000")
		}, sdk.ErrUnauthenticated},
		{"signature without prefix", func(r *sdk.ParseWebhookRequest) {
			r.Header.Set("X-Hub-Signature-256", strings.TrimPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256="))
		}, sdk.ErrUnauthenticated},
		{"truncated signature", func(r *sdk.ParseWebhookRequest) {
			r.Header.Set("X-Hub-Signature-256", r.Header.Get("X-Hub-Signature-256")[:20])
		}, sdk.ErrUnauthenticated},
		{"no event header", func(r *sdk.ParseWebhookRequest) { r.Header.Del("X-GitHub-Event") }, sdk.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := good
			req.Header = good.Header.Clone()
			tt.mutate(&req)
			r, err := p.ParseWebhook(t.Context(), &req)
			if !errors.Is(err, tt.want) {
				t.Errorf("ParseWebhook = %+v, %v; want %v", r, err, tt.want)
			}
		})
	}
	for name, body := range map[string]string{
		"malformed JSON": `{"ref": "refs/heads/main", "commits": [`,
		"wrong types":    `{"ref": 42}`,
		"form encoded":   `payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%7D`,
	} {
		req := signed("push", []byte(body))
		_, err := p.ParseWebhook(t.Context(), &req)
		if err == nil || errors.Is(err, sdk.ErrUnauthenticated) || !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("%s: %v, want a clear sdk.ErrInvalidArgument error", name, err)
		}
	}
}
