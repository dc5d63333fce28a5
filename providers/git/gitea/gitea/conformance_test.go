package gitea

import (
	"encoding/json"
	"testing"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// suite runs the conformance suite against the fake Gitea: fetch over
// smart HTTP with a token, branches and repositories through the API,
// signed webhooks from the testdata payloads, a commit status.
func suite(t *testing.T, f *fakeGitea) plugintest.GitProviderSuite {
	return plugintest.GitProviderSuite{
		BaseSuite: plugintest.BaseSuite{
			Settings:        json.RawMessage(`{"base_url": "https://git.example.com", "timeout_seconds": 20}`),
			InvalidSettings: json.RawMessage(`{"base_url": "git.example.com"}`),
		},
		Repository:  "team/webhooks",
		Ref:         "main",
		WantCommit:  f.mainHead,
		Credentials: f.creds(testToken),
		Webhooks: []plugintest.WebhookCase{
			{Name: "push", Request: delivery(t, "push", "push.json"), Want: sdk.WebhookPush,
				WantChangedPaths: []string{"docs/hooks.md", "go.mod", "old/cron.sh", "worker/main.go"}},
			{Name: "tag", Request: delivery(t, "push", "push_tag.json"), Want: sdk.WebhookTag},
			{Name: "pull_request", Request: delivery(t, "pull_request", "pull_request_opened.json"), Want: sdk.WebhookPullRequest},
		},
	}
}

func TestConformance(t *testing.T) {
	gitfixture.Conformance(t, New(), "..", func(t *testing.T) plugintest.GitProviderSuite {
		f := newFakeGitea(t)
		return suite(t, f)
	})
}

func TestDescribe(t *testing.T) {
	gitfixture.CheckDescribe(t, New(), ID, Version)
}
