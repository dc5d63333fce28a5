package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/webhook"
	"github.com/berth-dev/berth/providers/git/bitbucket/bitbucket"
	"github.com/berth-dev/berth/providers/git/bitbucket/bitbuckettest"
	"github.com/berth-dev/berth/providers/git/gitea/gitea"
	"github.com/berth-dev/berth/providers/git/github/github"
	"github.com/berth-dev/berth/providers/git/gitlab/gitlab"
	"github.com/berth-dev/berth/providers/git/gitlab/gitlabtest"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// providerTestdata reads a webhook payload from a provider plugin's
// testdata (payloads in the provider's documented shape).
func providerTestdata(t *testing.T, provider, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "providers", "git", provider, provider, "testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hmacSHA256Hex(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// flatHeaders turns a header into h.do's name, value list.
func flatHeaders(h map[string][]string) []string {
	var out []string
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, k, v)
		}
	}
	return out
}

// hostedProvider is a real provider plugin as the webhook tests drive it.
type hostedProvider struct {
	id   string
	impl func() sdk.GitProvider
	// repository is the application's repository on the provider's host.
	repository string
	// push is a push to main, and commit its head.
	push   func(t *testing.T) []byte
	commit string
	// sign returns the headers of a delivery of event signed with secret.
	sign func(event string, body []byte, secret string) []string
	// signature is the header that carries the signature or token.
	signature string
	// pushEvent is the push event's name; ping is an event berth ignores
	// (the provider's ping or test delivery where it has one) and its body.
	pushEvent, ping string
	pingBody        func(t *testing.T) []byte
}

var hostedProviders = []hostedProvider{
	{
		id: "git.github", impl: func() sdk.GitProvider { return github.New() },
		repository: "https://github.com/octo-org/hello-world.git",
		push:       func(t *testing.T) []byte { return providerTestdata(t, "github", "push") },
		commit:     "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
		sign: func(event string, body []byte, secret string) []string {
			return []string{"Content-Type", "application/json", "X-GitHub-Event", event, "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958",
				"X-Hub-Signature-256", "sha256=" + hmacSHA256Hex(secret, body)}
		},
		signature: "X-Hub-Signature-256", pushEvent: "push", ping: "ping",
		pingBody: func(t *testing.T) []byte { return providerTestdata(t, "github", "ping") },
	},
	{
		id: "git.gitea", impl: func() sdk.GitProvider { return gitea.New() },
		repository: "https://gitea.com/acme/shop.git",
		push:       func(t *testing.T) []byte { return providerTestdata(t, "gitea", "push") },
		commit:     "bffeb74224043ba2feb48d137756c8a9331c449a",
		sign: func(event string, body []byte, secret string) []string {
			return []string{"Content-Type", "application/json", "X-Gitea-Event", event, "X-Gitea-Event-Type", event,
				"X-Gitea-Delivery", "f6266f16-1bf3-46a5-9ea4-602e06ead473", "X-Gitea-Signature", hmacSHA256Hex(secret, body)}
		},
		// Gitea has no ping (its test delivery is a push): a create event is ignored.
		signature: "X-Gitea-Signature", pushEvent: "push", ping: "create",
		pingBody: func(t *testing.T) []byte { return providerTestdata(t, "gitea", "create") },
	},
	{
		id: "git.gitlab", impl: func() sdk.GitProvider { return gitlab.New() },
		repository: "https://gitlab.com/mike/diaspora.git",
		push:       func(t *testing.T) []byte { return gitlabtest.Payload(t, "push") },
		commit:     "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
		sign: func(event string, body []byte, secret string) []string {
			return flatHeaders(gitlabtest.TokenRequest(event, body, secret).Header)
		},
		// GitLab has no ping (its test delivery is a push): a comment is ignored.
		signature: "X-Gitlab-Token", pushEvent: "Push Hook", ping: "Note Hook",
		pingBody: func(t *testing.T) []byte { return gitlabtest.Payload(t, "note") },
	},
	{
		id: "git.bitbucket", impl: func() sdk.GitProvider { return bitbucket.New() },
		repository: "https://bitbucket.org/team_name/repo_name.git",
		push:       func(t *testing.T) []byte { return bitbuckettest.Payload(t, "push") },
		commit:     "709d658dc5b6d6afcd46049c2f332ee3f515a67d",
		sign: func(event string, body []byte, secret string) []string {
			return flatHeaders(bitbuckettest.SignedRequest(event, body, secret).Header)
		},
		signature: "X-Hub-Signature", pushEvent: "repo:push", ping: "diagnostics:ping",
		pingBody: func(t *testing.T) []byte { return bitbuckettest.Payload(t, "diagnostics_ping") },
	},
}

// without returns headers without the named one.
func without(headers []string, name string) []string {
	var out []string
	for i := 0; i+1 < len(headers); i += 2 {
		if !strings.EqualFold(headers[i], name) {
			out = append(out, headers[i], headers[i+1])
		}
	}
	return out
}

// TestProviderWebhooks drives each hosted provider plugin's webhooks
// through the API, the receiver and the real plugin code (served over gRPC
// in process): a correctly signed push deploys; a wrong or missing
// signature is 401 and deploys nothing; the provider's ping or an event
// berth has no use for is answered 200 and ignored.
func TestProviderWebhooks(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	for _, p := range hostedProviders {
		t.Run(p.id, func(t *testing.T) {
			h.plugins[p.id] = plugintest.GitProvider(t, p.impl())
			name := strings.TrimPrefix(p.id, "git.")
			a, hook, secret := h.hookedApp(f, name, map[string]any{"git_provider": name, "git_repository": p.repository})
			push := p.push(t)
			signed := p.sign(p.pushEvent, push, secret)
			tests := []struct {
				name    string
				body    []byte
				headers []string
				status  int
				want    string
				deploys bool
			}{
				{"wrong secret", push, p.sign(p.pushEvent, push, "not the secret"), 401, "unauthenticated", false},
				{"missing signature", push, without(signed, p.signature), 401, "unauthenticated", false},
				{"body changed after signing", append([]byte(" "), push...), signed, 401, "unauthenticated", false},
				{"ping", p.pingBody(t), p.sign(p.ping, p.pingBody(t), secret), 200, `"ignored"`, false},
				{"signed push to main", push, signed, 202, "deployment_id", true},
			}
			if p.id == "git.gitlab" {
				// The secret token does not cover the body.
				tests = append(tests[:2], tests[3:]...)
			}
			for _, tt := range tests {
				before := h.deploymentCount(a.ID)
				r := h.do("POST", hook, "", string(tt.body), tt.headers...)
				if r.Status != tt.status || !strings.Contains(string(r.Body), tt.want) {
					t.Fatalf("%s: status %d %s, want %d containing %q", tt.name, r.Status, r.Body, tt.status, tt.want)
				}
				if after := h.deploymentCount(a.ID); tt.deploys != (after == before+1) {
					t.Fatalf("%s: deployments %d -> %d, deploys = %v", tt.name, before, after, tt.deploys)
				}
				if !tt.deploys {
					continue
				}
				var res webhook.Result
				r.json(t, &res)
				d, err := h.store.GetDeployment(context.Background(), *res.DeploymentID)
				if err != nil {
					t.Fatal(err)
				}
				if d.Trigger != "push" || d.CommitSHA != p.commit || d.GitRef != "refs/heads/main" || d.StatusContext != "berth/deploy" || d.StatusRepository == "" {
					t.Fatalf("deployment %+v", d)
				}
			}
		})
	}
}

// TestLabelFilterWithGitHub: the real plugins report label changes as
// "updated" pull requests, so a preview whose pull request lost the
// application's label is removed on that update.
func TestLabelFilterWithGitHub(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	h.plugins["git.github"] = plugintest.GitProvider(t, github.New())
	a, hook, secret := h.hookedApp(f, "labelled", map[string]any{"git_provider": "github",
		"git_repository": "https://github.com/octo-org/hello-world.git",
		"preview":        map[string]any{"enabled": true, "forks": true, "host_pattern": "pr-{number}.labelled.example.com", "label": "preview"}})
	send := func(action string, labels []string) response {
		var p map[string]any
		if err := json.Unmarshal(providerTestdata(t, "github", "pull_request_labeled"), &p); err != nil {
			t.Fatal(err)
		}
		p["action"] = action
		ls := []any{}
		for _, l := range labels {
			ls = append(ls, map[string]any{"name": l})
		}
		pr := p["pull_request"].(map[string]any)
		pr["labels"], pr["draft"] = ls, false
		body, _ := json.Marshal(p)
		return h.do("POST", hook, "", string(body), hostedProviders[0].sign("pull_request", body, secret)...)
	}
	count := func() int {
		n, err := h.store.CountPreviews(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if r := h.must(200, send("opened", []string{"enhancement"})); !strings.Contains(string(r.Body), "label") || count() != 0 {
		t.Fatalf("unlabelled pull request: %s, %d previews", r.Body, count())
	}
	h.must(202, send("labeled", []string{"enhancement", "preview"}))
	if count() != 1 {
		t.Fatal("labelled pull request has no preview")
	}
	var res webhook.Result
	h.must(200, send("unlabeled", []string{"enhancement"})).json(t, &res)
	if res.RemovedPreviewID == nil || count() != 0 {
		t.Fatalf("preview kept after its label was removed: %+v, %d previews", res, count())
	}
	if _, err := h.store.GetApplication(context.Background(), *res.RemovedPreviewID); err == nil {
		t.Fatal("the removed preview still exists")
	}
}
