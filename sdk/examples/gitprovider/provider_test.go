package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// git runs git in dir with a fixed identity and fails the test on error.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// repository creates root/team/app with two commits on main and a branch.
func repository(t testing.TB) (root, repo, head string) {
	t.Helper()
	root = t.TempDir()
	repo = filepath.Join(root, "team", "app")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "init", "-q")
	for i, content := range []string{"one", "two"} {
		if err := os.WriteFile(filepath.Join(repo, "README"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		git(t, repo, "add", "README")
		git(t, repo, "commit", "-q", "-m", "commit "+string(rune('1'+i)))
	}
	git(t, repo, "branch", "feature")
	git(t, repo, "tag", "v1")
	return root, repo, git(t, repo, "rev-parse", "HEAD")
}

func webhook(event, secret string, p WebhookPayload) sdk.ParseWebhookRequest {
	body, _ := json.Marshal(p)
	h := http.Header{}
	h.Set(EventHeader, event)
	h.Set(SignatureHeader, Sign(secret, body))
	return sdk.ParseWebhookRequest{Header: h, Body: body, Secret: secret}
}

func suite(t *testing.T) plugintest.GitProviderSuite {
	root, repo, head := repository(t)
	settings, _ := json.Marshal(map[string]string{"root": root})
	return plugintest.GitProviderSuite{
		BaseSuite:  plugintest.BaseSuite{Settings: settings, InvalidSettings: json.RawMessage(`{"root": "not/absolute"}`)},
		Repository: repo,
		Ref:        "main",
		WantCommit: head,
		Webhooks: []plugintest.WebhookCase{
			{
				Name:             "push",
				Request:          webhook("push", "s3", WebhookPayload{Repository: "team/app", Ref: "refs/heads/main", After: head, Changed: []string{"b.go", "a.go", "b.go"}}),
				Want:             sdk.WebhookPush,
				WantChangedPaths: []string{"a.go", "b.go"},
			},
			{Name: "tag", Request: webhook("push", "s3", WebhookPayload{Repository: "team/app", Ref: "refs/tags/v1", After: head}), Want: sdk.WebhookTag},
			{
				Name: "pull_request",
				Request: webhook("pull_request", "s3", WebhookPayload{Repository: "team/app", PullRequest: &PullRequestPayload{
					Number: 7, Action: "opened", Title: "Add things", HeadRef: "feature", HeadCommit: head, BaseRef: "main",
				}}),
				Want: sdk.WebhookPullRequest,
			},
		},
	}
}

func TestConformanceInProcess(t *testing.T) {
	plugintest.TestGitProvider(t, plugintest.GitProvider(t, &Local{}), suite(t))
}

func TestConformanceSubprocess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := plugintest.BuildPlugin(t, ".")
	plugintest.TestGitProvider(t, plugintest.Launch(t, bin).(sdk.GitProvider), suite(t))
}

func TestFetchRefs(t *testing.T) {
	_, repo, head := repository(t)
	first := git(t, repo, "rev-parse", "HEAD~1")
	tests := []struct {
		ref, wantRef, wantCommit string
	}{
		{"", "refs/heads/main", head},
		{"main", "refs/heads/main", head},
		{"refs/heads/feature", "refs/heads/feature", head},
		{"v1", "refs/tags/v1", head},
		{first, first, first},
	}
	p := &Local{}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			var lines int
			r, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: repo, Ref: tt.ref, Dir: t.TempDir(), Log: func(sdk.LogLine) { lines++ }})
			if err != nil {
				t.Fatal(err)
			}
			if r.Ref != tt.wantRef || r.Commit != tt.wantCommit {
				t.Errorf("Fetch(%q) = %s at %s, want %s at %s", tt.ref, r.Ref, r.Commit, tt.wantRef, tt.wantCommit)
			}
			if lines == 0 {
				t.Errorf("Fetch logged nothing")
			}
		})
	}
}

func TestArgumentInjectionRefused(t *testing.T) {
	p := &Local{}
	for _, repo := range []string{"--upload-pack=touch /tmp/pwned", "-oProxyCommand=x"} {
		if _, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: repo, Dir: t.TempDir()}); err == nil {
			t.Errorf("Fetch(%q) succeeded", repo)
		}
	}
}

func TestCommitStatusIsANote(t *testing.T) {
	_, repo, head := repository(t)
	_, err := (&Local{}).SetCommitStatus(t.Context(), &sdk.SetCommitStatusRequest{
		Repository: repo, Commit: head, State: sdk.CommitSuccess, Context: "berth/deploy", Description: "deployed",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := git(t, repo, "notes", "--ref=berth-status", "show", head); got != "success berth/deploy: deployed" {
		t.Errorf("note = %q", got)
	}
}

// TestSettingsSchema checks the hand-written schema describes the settings
// type Configure decodes: one source of truth.
func TestSettingsSchema(t *testing.T) {
	plugintest.CheckSettingsSchema(t, json.RawMessage(schema), settings{})
}
