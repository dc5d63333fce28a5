package gitea

import (
	"encoding/json"
	"testing"

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
	t.Run("in-process", func(t *testing.T) {
		f := newFakeGitea(t)
		plugintest.TestGitProvider(t, plugintest.GitProvider(t, New()), suite(t, f))
	})
	t.Run("subprocess", func(t *testing.T) {
		f := newFakeGitea(t)
		bin := plugintest.BuildPlugin(t, "..")
		g := plugintest.Launch(t, bin).(sdk.GitProvider)
		info, err := g.Info(t.Context(), &sdk.InfoRequest{})
		if err != nil || info.ID != ID || info.Version != Version {
			t.Fatalf("Info = %+v, %v", info, err)
		}
		plugintest.TestGitProvider(t, g, suite(t, f))
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), New())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != ID || d.Kind != sdk.KindGit || d.Name != "gitea" || len(d.Capabilities) != 3 {
		t.Errorf("Describe = %+v", d)
	}
}
