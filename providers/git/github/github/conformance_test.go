package github

import (
	"encoding/json"
	"testing"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// suite runs the conformance suite against the fake GitHub: fetch over
// smart HTTP with a token, branches and repositories through the API,
// signed webhooks from the testdata payloads, a commit status.
func suite(t *testing.T, f *fakeGitHub) plugintest.GitProviderSuite {
	return plugintest.GitProviderSuite{
		BaseSuite: plugintest.BaseSuite{
			Settings:        json.RawMessage(`{"timeout_seconds": 20}`),
			InvalidSettings: json.RawMessage(`{"base_url": "ftp://github.example.com", "timeout_seconds": -1}`),
		},
		Repository:  "octo-org/hello-world",
		Ref:         "main",
		WantCommit:  f.mainHead,
		Credentials: tokenCreds(f, testToken),
		Webhooks: []plugintest.WebhookCase{
			{Name: "push", Request: delivery(t, "push", "push.json"), Want: sdk.WebhookPush,
				WantChangedPaths: []string{"README.md", "api/routes.go", "api/server.go", "legacy/server.js"}},
			{Name: "tag", Request: delivery(t, "push", "push_tag.json"), Want: sdk.WebhookTag},
			{Name: "pull_request", Request: delivery(t, "pull_request", "pull_request_opened.json"), Want: sdk.WebhookPullRequest},
		},
	}
}

func TestConformance(t *testing.T) {
	gitfixture.Conformance(t, New(), "..", func(t *testing.T) plugintest.GitProviderSuite {
		_, f, _ := setup(t)
		return suite(t, f)
	})
}

func TestDescribe(t *testing.T) {
	gitfixture.CheckDescribe(t, New(), ID, Version)
}
