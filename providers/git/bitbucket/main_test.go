package main

import (
	"encoding/json"
	"testing"

	"github.com/berth-dev/berth/providers/git/bitbucket/bitbucket"
	"github.com/berth-dev/berth/providers/git/bitbucket/bitbuckettest"
	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// suite runs the conformance suite against a fake Bitbucket Cloud serving
// a real repository, with an access token.
func suite(t *testing.T) plugintest.GitProviderSuite {
	srv := bitbuckettest.NewServer(t, bitbuckettest.Account{AccessToken: "ATCTT3xFfGN0-conformance"})
	repo := srv.AddGitRepository("ws/app")
	const secret = "conformance-hook-secret"
	hook := func(name, event, payload string, want sdk.WebhookType) plugintest.WebhookCase {
		return plugintest.WebhookCase{
			Name:    name,
			Request: bitbuckettest.SignedRequest(event, bitbuckettest.Payload(t, payload), secret),
			Want:    want,
		}
	}
	return plugintest.GitProviderSuite{
		BaseSuite: plugintest.BaseSuite{
			Settings:        json.RawMessage(`{"timeout_seconds": 20}`),
			InvalidSettings: json.RawMessage(`{"base_url": "api.bitbucket.org"}`),
		},
		Repository:  "ws/app",
		Ref:         "main",
		WantCommit:  repo.Main,
		Credentials: &sdk.Credentials{Token: srv.Account.AccessToken, BaseURL: srv.APIURL()},
		Webhooks: []plugintest.WebhookCase{
			hook("push", "repo:push", "push", sdk.WebhookPush),
			hook("tag", "repo:push", "push_tag", sdk.WebhookTag),
			hook("pull_request", "pullrequest:created", "pullrequest_created", sdk.WebhookPullRequest),
		},
	}
}

func TestConformance(t *testing.T) {
	gitfixture.Conformance(t, bitbucket.New(), ".", suite)
}

func TestDescribe(t *testing.T) {
	gitfixture.CheckDescribe(t, bitbucket.New(), "git.bitbucket", "1.0.0")
}
