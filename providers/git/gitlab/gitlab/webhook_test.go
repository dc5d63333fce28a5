package gitlab_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/providers/git/gitlab/gitlab"
	"github.com/berth-dev/berth/providers/git/gitlab/gitlabtest"
	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

const hookSecret = "s3cret-hook-token"

// webhookCases are GitLab's documented events and what each parses to.
var webhookCases = []struct {
	name    string
	event   string
	payload string
	want    *sdk.WebhookEvent
	ignored string
}{
	{
		name: "push", event: "Push Hook", payload: "push",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPush, Repository: "mike/diaspora", CloneURL: "https://gitlab.example.com/mike/diaspora.git",
			Ref: "refs/heads/main", Branch: "main", Commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
			Before: "95790bf891e76fee5e1747ab589903a6a1f80f22", Sender: "jsmith",
			ChangedPaths: []string{"CHANGELOG", "README.md", "app/controller/application.rb", "docs/old.md"},
		},
	},
	{
		name: "branch deleted", event: "Push Hook", payload: "push_delete",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPush, Repository: "mike/diaspora", CloneURL: "https://gitlab.example.com/mike/diaspora.git",
			Ref: "refs/heads/old-feature", Branch: "old-feature", Before: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
			Sender: "jsmith", Deleted: true,
		},
	},
	{
		name: "tag", event: "Tag Push Hook", payload: "tag_push",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookTag, Repository: "jsmith/example", CloneURL: "https://gitlab.example.com/jsmith/example.git",
			Ref: "refs/tags/v1.0.0", Tag: "v1.0.0", Commit: "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", Sender: "jsmith",
		},
	},
	{
		name: "merge request opened", event: "Merge Request Hook", payload: "merge_request_open",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPullRequest, Repository: "gitlabhq/gitlab-test", CloneURL: "https://gitlab.example.com/gitlabhq/gitlab-test.git",
			Ref: "refs/heads/ms-viewport", Branch: "ms-viewport", Commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", Sender: "root",
			PullRequest: &sdk.PullRequest{
				Number: 1, Action: "opened", Title: "MS-Viewport", HeadRef: "ms-viewport",
				HeadCommit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", BaseRef: "main",
				URL: "https://gitlab.example.com/gitlabhq/gitlab-test/-/merge_requests/1", Labels: []string{"API", "preview"},
				HeadRepository: "gitlabhq/gitlab-test", HeadCloneURL: "https://gitlab.example.com/gitlabhq/gitlab-test.git", Draft: true,
			},
		},
	},
	{
		name: "merge request updated from a fork", event: "Merge Request Hook", payload: "merge_request_update",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPullRequest, Repository: "gitlabhq/gitlab-test", CloneURL: "https://gitlab.example.com/gitlabhq/gitlab-test.git",
			Ref: "refs/heads/fix-typo", Branch: "fix-typo", Commit: "4f8a1bc3c1cd4b4a8a4d0d5c1e9d3f0b2a7e6c51", Sender: "forker",
			PullRequest: &sdk.PullRequest{
				Number: 2, Action: "updated", Title: "Fix a typo", HeadRef: "fix-typo",
				HeadCommit: "4f8a1bc3c1cd4b4a8a4d0d5c1e9d3f0b2a7e6c51", BaseRef: "main",
				URL:            "https://gitlab.example.com/gitlabhq/gitlab-test/-/merge_requests/2",
				HeadRepository: "forker/gitlab-test", HeadCloneURL: "https://gitlab.example.com/forker/gitlab-test.git",
			},
		},
	},
	{
		name: "merge request labeled", event: "Merge Request Hook", payload: "merge_request_labeled",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPullRequest, Repository: "gitlabhq/gitlab-test", CloneURL: "https://gitlab.example.com/gitlabhq/gitlab-test.git",
			Ref: "refs/heads/ms-viewport", Branch: "ms-viewport", Commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", Sender: "root",
			PullRequest: &sdk.PullRequest{
				Number: 1, Action: "updated", Title: "MS-Viewport", HeadRef: "ms-viewport",
				HeadCommit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", BaseRef: "main",
				URL: "https://gitlab.example.com/gitlabhq/gitlab-test/-/merge_requests/1", Labels: []string{"deploy", "preview"},
				HeadRepository: "gitlabhq/gitlab-test", HeadCloneURL: "https://gitlab.example.com/gitlabhq/gitlab-test.git",
			},
		},
	},
	{
		name: "merge request merged", event: "Merge Request Hook", payload: "merge_request_merge",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPullRequest, Repository: "gitlabhq/gitlab-test", CloneURL: "https://gitlab.example.com/gitlabhq/gitlab-test.git",
			Ref: "refs/heads/ms-viewport", Branch: "ms-viewport", Commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", Sender: "root",
			PullRequest: &sdk.PullRequest{
				Number: 1, Action: "closed", Title: "MS-Viewport", HeadRef: "ms-viewport",
				HeadCommit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", BaseRef: "main",
				URL:            "https://gitlab.example.com/gitlabhq/gitlab-test/-/merge_requests/1",
				HeadRepository: "gitlabhq/gitlab-test", HeadCloneURL: "https://gitlab.example.com/gitlabhq/gitlab-test.git", Merged: true,
			},
		},
	},
	{
		name: "merge request closed", event: "Merge Request Hook", payload: "merge_request_close",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPullRequest, Repository: "gitlabhq/gitlab-test", CloneURL: "https://gitlab.example.com/gitlabhq/gitlab-test.git",
			Ref: "refs/heads/experiment", Branch: "experiment", Commit: "1f2e3d4c5b6a79880a9b8c7d6e5f4a3b2c1d0e9f", Sender: "root",
			PullRequest: &sdk.PullRequest{
				Number: 3, Action: "closed", Title: "Experiment", HeadRef: "experiment",
				HeadCommit: "1f2e3d4c5b6a79880a9b8c7d6e5f4a3b2c1d0e9f", BaseRef: "main",
				URL:            "https://gitlab.example.com/gitlabhq/gitlab-test/-/merge_requests/3",
				HeadRepository: "gitlabhq/gitlab-test", HeadCloneURL: "https://gitlab.example.com/gitlabhq/gitlab-test.git",
			},
		},
	},
	{name: "merge request approved", event: "Merge Request Hook", payload: "merge_request_approved", ignored: `merge request action "approved"`},
	{name: "comment", event: "Note Hook", payload: "note", ignored: `GitLab event "Note Hook"`},
	{name: "system hook push", event: "System Hook", payload: "push",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPush, Repository: "mike/diaspora", CloneURL: "https://gitlab.example.com/mike/diaspora.git",
			Ref: "refs/heads/main", Branch: "main", Commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
			Before: "95790bf891e76fee5e1747ab589903a6a1f80f22", Sender: "jsmith",
			ChangedPaths: []string{"CHANGELOG", "README.md", "app/controller/application.rb", "docs/old.md"},
		},
	},
}

func TestParseWebhook(t *testing.T) {
	signingToken := gitlabtest.NewSigningToken()
	for _, c := range webhookCases {
		body := gitlabtest.Payload(t, c.payload)
		for mode, req := range map[string]sdk.ParseWebhookRequest{
			"secret token":  gitlabtest.TokenRequest(c.event, body, hookSecret),
			"signing token": gitlabtest.SignedRequest(c.event, body, signingToken, time.Now()),
		} {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				r, err := gitlab.New().ParseWebhook(t.Context(), &req)
				gitfixture.CheckParsed(t, r, err, c.ignored, c.want)
			})
		}
	}
}

func TestParseWebhookTruncatedPushHasNoChangedPaths(t *testing.T) {
	var payload map[string]any
	if err := json.Unmarshal(gitlabtest.Payload(t, "push"), &payload); err != nil {
		t.Fatal(err)
	}
	payload["total_commits_count"] = 35 // GitLab lists 20 commits at most
	body, _ := json.Marshal(payload)
	req := gitlabtest.TokenRequest("Push Hook", body, hookSecret)
	r, err := gitlab.New().ParseWebhook(t.Context(), &req)
	if err != nil {
		t.Fatal(err)
	}
	if r.Event.ChangedPaths != nil {
		t.Errorf("ChangedPaths = %v for a push whose commits are not all listed, want nil (unknown)", r.Event.ChangedPaths)
	}
}

func TestParseWebhookRefusesUnverified(t *testing.T) {
	body := gitlabtest.Payload(t, "push")
	signingToken := gitlabtest.NewSigningToken()
	signed := gitlabtest.SignedRequest("Push Hook", body, signingToken, time.Now())
	withHeader := func(req sdk.ParseWebhookRequest, name, value string) sdk.ParseWebhookRequest {
		req.Header = req.Header.Clone()
		if value == "" {
			req.Header.Del(name)
		} else {
			req.Header.Set(name, value)
		}
		return req
	}
	cases := map[string]sdk.ParseWebhookRequest{
		"wrong secret token":       withSecret(gitlabtest.TokenRequest("Push Hook", body, "other-secret"), hookSecret),
		"missing X-Gitlab-Token":   withHeader(gitlabtest.TokenRequest("Push Hook", body, hookSecret), "X-Gitlab-Token", ""),
		"empty secret":             gitlabtest.TokenRequest("Push Hook", body, ""),
		"tampered signed body":     {Header: signed.Header, Body: append([]byte(" "), body...), Secret: signingToken},
		"wrong signing token":      {Header: signed.Header, Body: body, Secret: gitlabtest.NewSigningToken()},
		"malformed signing token":  {Header: signed.Header, Body: body, Secret: "whsec_not base64!"},
		"missing signature":        withHeader(signed, "Webhook-Signature", ""),
		"unsupported version":      withHeader(signed, "Webhook-Signature", strings.Replace(signed.Header.Get("Webhook-Signature"), "v1,", "v2,", 1)),
		"replayed (old timestamp)": gitlabtest.SignedRequest("Push Hook", body, signingToken, time.Now().Add(-time.Hour)),
		// A signing token configured: the plain token header is not enough.
		"token instead of signature": gitlabtest.TokenRequest("Push Hook", body, signingToken),
	}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := gitlab.New().ParseWebhook(t.Context(), &req)
			if !errors.Is(err, sdk.ErrUnauthenticated) {
				t.Errorf("ParseWebhook = %v, want sdk.ErrUnauthenticated", err)
			}
			if err != nil && strings.Contains(err.Error(), req.Secret) && req.Secret != "" {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

func withSecret(req sdk.ParseWebhookRequest, secret string) sdk.ParseWebhookRequest {
	req.Secret = secret
	return req
}

func TestParseWebhookMalformed(t *testing.T) {
	for name, req := range map[string]sdk.ParseWebhookRequest{
		"not JSON":        gitlabtest.TokenRequest("Push Hook", []byte(`{"object_kind": "push", `), hookSecret),
		"wrong types":     gitlabtest.TokenRequest("Merge Request Hook", []byte(`{"object_attributes": {"iid": "one", "action": "open"}}`), hookSecret),
		"no event header": gitlabtest.TokenRequest("", []byte(`{}`), hookSecret),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := gitlab.New().ParseWebhook(t.Context(), &req)
			if err == nil || errors.Is(err, sdk.ErrUnauthenticated) || !errors.Is(err, sdk.ErrInvalidArgument) {
				t.Errorf("ParseWebhook = %v, want an sdk.ErrInvalidArgument error (not ErrUnauthenticated)", err)
			}
		})
	}
}
