package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/berth-dev/berth/providers/git/gitlab/gitlab"
	"github.com/berth-dev/berth/providers/git/gitlab/gitlabtest"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// suite runs the conformance suite against a fake GitLab serving a real
// repository; webhooks are signed with a signing token, so that a tampered
// body is detected.
func suite(t *testing.T) plugintest.GitProviderSuite {
	srv := gitlabtest.NewServer(t, "glpat-conformance")
	repo := srv.AddRepository("group/app")
	signingToken := gitlabtest.NewSigningToken()
	hook := func(name, event, payload string, want sdk.WebhookType) plugintest.WebhookCase {
		return plugintest.WebhookCase{
			Name:    name,
			Request: gitlabtest.SignedRequest(event, gitlabtest.Payload(t, payload), signingToken, time.Now()),
			Want:    want,
		}
	}
	push := hook("push", "Push Hook", "push", sdk.WebhookPush)
	push.WantChangedPaths = []string{"CHANGELOG", "README.md", "app/controller/application.rb", "docs/old.md"}
	return plugintest.GitProviderSuite{
		BaseSuite: plugintest.BaseSuite{
			Settings:        json.RawMessage(`{"timeout_seconds": 20}`),
			InvalidSettings: json.RawMessage(`{"base_url": "gitlab.example.com"}`),
		},
		Repository:  "group/app",
		Ref:         "main",
		WantCommit:  repo.Main,
		Credentials: &sdk.Credentials{Token: srv.Token, BaseURL: srv.URL},
		Webhooks: []plugintest.WebhookCase{
			push,
			hook("tag", "Tag Push Hook", "tag_push", sdk.WebhookTag),
			hook("merge_request", "Merge Request Hook", "merge_request_open", sdk.WebhookPullRequest),
		},
	}
}

func TestConformance(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		plugintest.TestGitProvider(t, plugintest.GitProvider(t, gitlab.New()), suite(t))
	})
	t.Run("subprocess", func(t *testing.T) {
		bin := plugintest.BuildPlugin(t, ".")
		plugintest.TestGitProvider(t, plugintest.Launch(t, bin).(sdk.GitProvider), suite(t))
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), gitlab.New())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "git.gitlab" || d.Kind != sdk.KindGit || d.Name != "gitlab" || d.Version != "1.0.0" {
		t.Errorf("Describe = %s %s (%s, %s), want git.gitlab 1.0.0", d.ID, d.Version, d.Kind, d.Name)
	}
	for _, c := range []sdk.Capability{sdk.CapListRepositories, sdk.CapWebhooks, sdk.CapCommitStatus} {
		found := false
		for _, have := range d.Capabilities {
			found = found || have == c
		}
		if !found {
			t.Errorf("capabilities %v lack %s", d.Capabilities, c)
		}
	}
}
