package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/berth-dev/berth/providers/git/gitlab/gitlab"
	"github.com/berth-dev/berth/providers/git/gitlab/gitlabtest"
	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
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
	gitfixture.Conformance(t, gitlab.New(), ".", suite)
}

func TestDescribe(t *testing.T) {
	gitfixture.CheckDescribe(t, gitlab.New(), "git.gitlab", "1.0.0")
}
