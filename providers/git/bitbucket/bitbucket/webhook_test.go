package bitbucket_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/providers/git/bitbucket/bitbucket"
	"github.com/berth-dev/berth/providers/git/bitbucket/bitbuckettest"
	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

const hookSecret = "s3cret-hook-secret"

var webhookCases = []struct {
	name    string
	event   string
	payload string
	want    *sdk.WebhookEvent
	ignored string
}{
	{
		name: "push", event: "repo:push", payload: "push",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPush, Repository: "team_name/repo_name", CloneURL: "https://bitbucket.org/team_name/repo_name.git",
			Ref: "refs/heads/main", Branch: "main", Commit: "709d658dc5b6d6afcd46049c2f332ee3f515a67d",
			Before: "1e65c05c1d5171631d92438a13901ca7dae9618c", Sender: "emma",
		},
	},
	{
		name: "tag", event: "repo:push", payload: "push_tag",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookTag, Repository: "team_name/repo_name", CloneURL: "https://bitbucket.org/team_name/repo_name.git",
			Ref: "refs/tags/v1.2.0", Tag: "v1.2.0", Commit: "8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b", Sender: "emma",
		},
	},
	{
		name: "branch deleted", event: "repo:push", payload: "push_delete",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPush, Repository: "team_name/repo_name", CloneURL: "https://bitbucket.org/team_name/repo_name.git",
			Ref: "refs/heads/old-feature", Branch: "old-feature", Before: "1e65c05c1d5171631d92438a13901ca7dae9618c", Sender: "emma", Deleted: true,
		},
	},
	{
		name: "pull request created", event: "pullrequest:created", payload: "pullrequest_created",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPullRequest, Repository: "team_name/repo_name", CloneURL: "https://bitbucket.org/team_name/repo_name.git",
			Ref: "refs/heads/branch2", Branch: "branch2", Commit: "d3022fc0ca3d", Sender: "emma",
			PullRequest: &sdk.PullRequest{
				Number: 1, Action: "opened", Title: "Title of pull request", HeadRef: "branch2", HeadCommit: "d3022fc0ca3d", BaseRef: "main",
				URL: "https://bitbucket.org/team_name/repo_name/pull-requests/1", HeadRepository: "team_name/repo_name",
				HeadCloneURL: "https://bitbucket.org/team_name/repo_name.git", Draft: true,
			},
		},
	},
	{
		name: "pull request updated from a fork", event: "pullrequest:updated", payload: "pullrequest_updated",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPullRequest, Repository: "team_name/repo_name", CloneURL: "https://bitbucket.org/team_name/repo_name.git",
			Ref: "refs/heads/fix-typo", Branch: "fix-typo", Commit: "4f8a1bc3c1cd", Sender: "forker",
			PullRequest: &sdk.PullRequest{
				Number: 7, Action: "updated", Title: "Fix a typo", HeadRef: "fix-typo", HeadCommit: "4f8a1bc3c1cd", BaseRef: "main",
				URL: "https://bitbucket.org/team_name/repo_name/pull-requests/7", HeadRepository: "forker/repo_name",
				HeadCloneURL: "https://bitbucket.org/forker/repo_name.git",
			},
		},
	},
	{
		name: "pull request merged", event: "pullrequest:fulfilled", payload: "pullrequest_fulfilled",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPullRequest, Repository: "team_name/repo_name", CloneURL: "https://bitbucket.org/team_name/repo_name.git",
			Ref: "refs/heads/branch2", Branch: "branch2", Commit: "d3022fc0ca3d", Sender: "emma",
			PullRequest: &sdk.PullRequest{
				Number: 1, Action: "closed", Title: "Title of pull request", HeadRef: "branch2", HeadCommit: "d3022fc0ca3d", BaseRef: "main",
				URL: "https://bitbucket.org/team_name/repo_name/pull-requests/1", HeadRepository: "team_name/repo_name",
				HeadCloneURL: "https://bitbucket.org/team_name/repo_name.git", Merged: true,
			},
		},
	},
	{
		name: "pull request declined", event: "pullrequest:rejected", payload: "pullrequest_rejected",
		want: &sdk.WebhookEvent{
			Type: sdk.WebhookPullRequest, Repository: "team_name/repo_name", CloneURL: "https://bitbucket.org/team_name/repo_name.git",
			Ref: "refs/heads/experiment", Branch: "experiment", Commit: "1f2e3d4c5b6a", Sender: "emma",
			PullRequest: &sdk.PullRequest{
				Number: 3, Action: "closed", Title: "Experiment", HeadRef: "experiment", HeadCommit: "1f2e3d4c5b6a", BaseRef: "main",
				URL: "https://bitbucket.org/team_name/repo_name/pull-requests/3", HeadRepository: "team_name/repo_name",
				HeadCloneURL: "https://bitbucket.org/team_name/repo_name.git",
			},
		},
	},
	{name: "pull request approved", event: "pullrequest:approved", payload: "pullrequest_approved", ignored: `"pullrequest:approved" is not used`},
	{name: "ping", event: "diagnostics:ping", payload: "diagnostics_ping", ignored: "ping"},
}

func TestParseWebhook(t *testing.T) {
	for _, c := range webhookCases {
		t.Run(c.name, func(t *testing.T) {
			req := bitbuckettest.SignedRequest(c.event, bitbuckettest.Payload(t, c.payload), hookSecret)
			r, err := bitbucket.New().ParseWebhook(t.Context(), &req)
			gitfixture.CheckParsed(t, r, err, c.ignored, c.want)
		})
	}
}

func TestParseWebhookRefusesUnverified(t *testing.T) {
	body := bitbuckettest.Payload(t, "push")
	signed := bitbuckettest.SignedRequest("repo:push", body, hookSecret)
	with := func(header, value string) sdk.ParseWebhookRequest {
		r := signed
		r.Header = signed.Header.Clone()
		if value == "" {
			r.Header.Del(header)
		} else {
			r.Header.Set(header, value)
		}
		return r
	}
	sig := signed.Header.Get("X-Hub-Signature")
	for name, req := range map[string]sdk.ParseWebhookRequest{
		"wrong secret":        {Header: signed.Header, Body: body, Secret: "other-secret"},
		"tampered body":       {Header: signed.Header, Body: append(append([]byte{}, body...), ' '), Secret: hookSecret},
		"missing signature":   with("X-Hub-Signature", ""),
		"sha1 signature":      with("X-Hub-Signature", strings.Replace(sig, "sha256=", "sha1=", 1)),
		"bare hex signature":  with("X-Hub-Signature", strings.TrimPrefix(sig, "sha256=")),
		"not hex":             with("X-Hub-Signature", "sha256=zz"),
		"truncated signature": with("X-Hub-Signature", sig[:len(sig)-2]),
		"empty secret":        {Header: signed.Header, Body: body, Secret: ""},
		"signed with empty":   bitbuckettest.SignedRequest("repo:push", body, ""),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := bitbucket.New().ParseWebhook(t.Context(), &req)
			if !errors.Is(err, sdk.ErrUnauthenticated) {
				t.Errorf("ParseWebhook = %v, want sdk.ErrUnauthenticated", err)
			}
		})
	}
	// The signature is case-insensitive hex.
	upper := with("X-Hub-Signature", "sha256="+strings.ToUpper(strings.TrimPrefix(sig, "sha256=")))
	if _, err := bitbucket.New().ParseWebhook(t.Context(), &upper); err != nil {
		t.Errorf("ParseWebhook(upper-case hex) = %v", err)
	}
}

func TestParseWebhookMalformed(t *testing.T) {
	for name, req := range map[string]sdk.ParseWebhookRequest{
		"not JSON":        bitbuckettest.SignedRequest("repo:push", []byte(`{"push": `), hookSecret),
		"wrong types":     bitbuckettest.SignedRequest("pullrequest:created", []byte(`{"pullrequest": {"id": "one"}}`), hookSecret),
		"no event header": bitbuckettest.SignedRequest("", []byte(`{}`), hookSecret),
		"change without refs": bitbuckettest.SignedRequest("repo:push",
			[]byte(`{"repository": {"full_name": "ws/app"}, "push": {"changes": [{"new": null, "old": null}]}}`), hookSecret),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := bitbucket.New().ParseWebhook(t.Context(), &req)
			if errors.Is(err, sdk.ErrUnauthenticated) || !errors.Is(err, sdk.ErrInvalidArgument) {
				t.Errorf("ParseWebhook = %v, want an sdk.ErrInvalidArgument error (not ErrUnauthenticated)", err)
			}
		})
	}
}
