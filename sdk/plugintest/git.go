package plugintest

import (
	"context"
	"errors"
	"os"
	"regexp"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

// GitProviderSuite configures TestGitProvider.
type GitProviderSuite struct {
	BaseSuite
	// Repository is a repository the provider can fetch. Required.
	Repository string
	// Ref is a branch of Repository. Required.
	Ref string
	// Credentials to use for every call.
	Credentials *sdk.Credentials
	// WantCommit, when set, is the commit Ref must resolve to.
	WantCommit string
	// Webhooks are valid, signed webhook requests and the event type each
	// must parse to. Required when the provider has sdk.CapWebhooks. The
	// suite also checks that a tampered body and a wrong secret are refused.
	Webhooks []WebhookCase
}

// WebhookCase is one webhook request and what it must parse to.
type WebhookCase struct {
	Name    string
	Request sdk.ParseWebhookRequest
	Want    sdk.WebhookType
	// WantChangedPaths, when set, must equal the event's ChangedPaths.
	WantChangedPaths []string
}

var commitPattern = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// TestGitProvider runs the conformance suite for git providers against g:
// the base checks, Fetch into an empty and an existing clone, a missing ref,
// cancellation, and each optional method according to the capabilities the
// plugin declares (ErrUnimplemented when it declares none).
func TestGitProvider(t *testing.T, g sdk.GitProvider, s GitProviderSuite) {
	t.Helper()
	if s.Repository == "" || s.Ref == "" {
		t.Fatal("plugintest: GitProviderSuite.Repository and Ref are required")
	}
	info := testBase(t, g, sdk.KindGit, s.BaseSuite)
	dir := t.TempDir()
	var commit string
	t.Run("fetch/clone", func(t *testing.T) {
		r, err := g.Fetch(testContext(t), &sdk.FetchRequest{Repository: s.Repository, Ref: s.Ref, Dir: dir, Credentials: s.Credentials})
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if !commitPattern.MatchString(r.Commit) {
			t.Fatalf("Fetch returned commit %q, want a full SHA", r.Commit)
		}
		if s.WantCommit != "" && r.Commit != s.WantCommit {
			t.Errorf("Fetch returned commit %s, want %s", r.Commit, s.WantCommit)
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) == 0 {
			t.Errorf("Fetch left %s empty (%v)", dir, err)
		}
		commit = r.Commit
	})
	t.Run("fetch/existing_clone", func(t *testing.T) {
		if commit == "" {
			t.Skip("no clone")
		}
		r, err := g.Fetch(testContext(t), &sdk.FetchRequest{Repository: s.Repository, Ref: s.Ref, Dir: dir, Credentials: s.Credentials})
		if err != nil {
			t.Fatalf("Fetch into an existing clone: %v", err)
		}
		if r.Commit != commit {
			t.Errorf("Fetch into an existing clone returned %s, want %s", r.Commit, commit)
		}
	})
	t.Run("fetch/missing_ref", func(t *testing.T) {
		_, err := g.Fetch(testContext(t), &sdk.FetchRequest{Repository: s.Repository, Ref: "plugintest-no-such-branch", Dir: t.TempDir(), Credentials: s.Credentials})
		if !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Fetch(missing ref) = %v, want sdk.ErrNotFound", err)
		}
	})
	t.Run("fetch/cancelled", func(t *testing.T) {
		_, err := g.Fetch(cancelledContext(), &sdk.FetchRequest{Repository: s.Repository, Ref: s.Ref, Dir: t.TempDir(), Credentials: s.Credentials})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch(cancelled ctx) = %v, want context.Canceled", err)
		}
	})

	t.Run("list_repositories", func(t *testing.T) {
		ctx := testContext(t)
		repos, rerr := g.ListRepositories(ctx, &sdk.ListRepositoriesRequest{Credentials: s.Credentials})
		branches, berr := g.ListBranches(ctx, &sdk.ListBranchesRequest{Repository: s.Repository, Credentials: s.Credentials})
		if !info.HasCapability(sdk.CapListRepositories) {
			if !errors.Is(rerr, sdk.ErrUnimplemented) || !errors.Is(berr, sdk.ErrUnimplemented) {
				t.Errorf("without %s: ListRepositories = %v, ListBranches = %v, want sdk.ErrUnimplemented", sdk.CapListRepositories, rerr, berr)
			}
			return
		}
		if rerr != nil {
			t.Errorf("ListRepositories: %v", rerr)
		} else if len(repos.Repositories) == 0 {
			t.Errorf("ListRepositories returned nothing")
		}
		if berr != nil {
			t.Fatalf("ListBranches: %v", berr)
		}
		found := false
		for _, b := range branches.Branches {
			found = found || b.Name == s.Ref
		}
		if !found {
			t.Errorf("ListBranches(%s) = %+v, want it to include %q", s.Repository, branches.Branches, s.Ref)
		}
	})

	t.Run("webhooks", func(t *testing.T) {
		if !info.HasCapability(sdk.CapWebhooks) {
			_, err := g.ParseWebhook(testContext(t), &sdk.ParseWebhookRequest{Body: []byte("{}")})
			if !errors.Is(err, sdk.ErrUnimplemented) {
				t.Errorf("without %s: ParseWebhook = %v, want sdk.ErrUnimplemented", sdk.CapWebhooks, err)
			}
			return
		}
		if len(s.Webhooks) == 0 {
			t.Fatalf("the plugin declares %s: GitProviderSuite.Webhooks is required", sdk.CapWebhooks)
		}
		for _, c := range s.Webhooks {
			t.Run(c.Name, func(t *testing.T) {
				ctx := testContext(t)
				req := c.Request
				r, err := g.ParseWebhook(ctx, &req)
				if err != nil {
					t.Fatalf("ParseWebhook: %v", err)
				}
				if r.Ignored || r.Event == nil {
					t.Fatalf("ParseWebhook ignored the event: %s", r.IgnoredReason)
				}
				if r.Event.Type != c.Want {
					t.Errorf("ParseWebhook type = %s, want %s", r.Event.Type, c.Want)
				}
				if c.WantChangedPaths != nil && !equalStrings(r.Event.ChangedPaths, c.WantChangedPaths) {
					t.Errorf("ParseWebhook ChangedPaths = %v, want %v", r.Event.ChangedPaths, c.WantChangedPaths)
				}
				tampered := req
				tampered.Body = append(append([]byte{}, req.Body...), ' ')
				if _, err := g.ParseWebhook(ctx, &tampered); !errors.Is(err, sdk.ErrUnauthenticated) {
					t.Errorf("ParseWebhook(tampered body) = %v, want sdk.ErrUnauthenticated", err)
				}
				wrong := req
				wrong.Secret = req.Secret + "-wrong"
				if _, err := g.ParseWebhook(ctx, &wrong); !errors.Is(err, sdk.ErrUnauthenticated) {
					t.Errorf("ParseWebhook(wrong secret) = %v, want sdk.ErrUnauthenticated", err)
				}
			})
		}
	})

	t.Run("commit_status", func(t *testing.T) {
		req := &sdk.SetCommitStatusRequest{
			Repository: s.Repository, Commit: commit, State: sdk.CommitPending, Context: "berth/plugintest",
			Description: "conformance suite", Credentials: s.Credentials,
		}
		_, err := g.SetCommitStatus(testContext(t), req)
		if !info.HasCapability(sdk.CapCommitStatus) {
			if !errors.Is(err, sdk.ErrUnimplemented) {
				t.Errorf("without %s: SetCommitStatus = %v, want sdk.ErrUnimplemented", sdk.CapCommitStatus, err)
			}
			return
		}
		if commit == "" {
			t.Skip("no commit fetched")
		}
		if err != nil {
			t.Errorf("SetCommitStatus: %v", err)
		}
	})
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
