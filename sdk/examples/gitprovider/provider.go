package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/berth-dev/berth/sdk"
)

// Local is an example git provider. It fetches with the system git from
// local paths and any URL git understands, lists the repositories under a
// directory, parses its own small signed webhook format, and records commit
// statuses as git notes.
type Local struct {
	sdk.UnimplementedGitProvider

	mu   sync.RWMutex
	root string // directory of repositories for ListRepositories; optional
}

// settings is the plugin's settings document.
type settings struct {
	Root string `json:"root"`
}

const schema = `{
  "type": "object",
  "title": "Local git",
  "properties": {
    "root": {"type": "string", "title": "Repositories directory", "description": "Absolute path of a directory of git repositories, listed in the repository picker."}
  },
  "additionalProperties": false
}`

// Webhook headers of the example's format.
const (
	EventHeader     = "X-Berth-Example-Event"
	SignatureHeader = "X-Berth-Example-Signature"
)

// Info describes the plugin.
func (l *Local) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:           "git.example",
		Version:      "0.1.0",
		Description:  "Fetches with the system git from local paths and git URLs (SDK example).",
		Capabilities: []sdk.Capability{sdk.CapListRepositories, sdk.CapWebhooks, sdk.CapCommitStatus},
	}, nil
}

// ConfigSchema returns the settings schema.
func (l *Local) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: json.RawMessage(schema)}, nil
}

// Configure checks the repositories directory.
func (l *Local) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	if s.Root != "" {
		if !filepath.IsAbs(s.Root) {
			return nil, sdk.NewConfigError("root", "must be an absolute path")
		}
		if st, err := os.Stat(s.Root); err != nil || !st.IsDir() {
			return nil, sdk.NewConfigError("root", "must be an existing directory")
		}
	}
	l.mu.Lock()
	l.root = s.Root
	l.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Fetch resolves the ref with ls-remote, fetches it into req.Dir (creating
// the repository there on first use) and checks it out.
func (l *Local) Fetch(ctx context.Context, req *sdk.FetchRequest) (*sdk.FetchResponse, error) {
	if req.Repository == "" || strings.HasPrefix(req.Repository, "-") || strings.HasPrefix(req.Ref, "-") {
		return nil, fmt.Errorf("fetch: bad repository %q or ref %q: %w", req.Repository, req.Ref, sdk.ErrInvalidArgument)
	}
	if !filepath.IsAbs(req.Dir) {
		return nil, fmt.Errorf("fetch: dir %q must be absolute: %w", req.Dir, sdk.ErrInvalidArgument)
	}
	env, err := credentialEnv(req.Credentials)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	req.Log.Printf("resolving %q in %s", req.Ref, req.Repository)
	refs, head, err := remoteRefs(ctx, req.Repository, env)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.Repository, err)
	}
	ref, want := resolveRef(req.Ref, refs, head)
	if want == "" {
		return nil, fmt.Errorf("fetch %s: ref %q: %w", req.Repository, req.Ref, sdk.ErrNotFound)
	}
	if _, err := os.Stat(filepath.Join(req.Dir, ".git")); errors.Is(err, fs.ErrNotExist) {
		if _, err := runGit(ctx, "", nil, req.Log, "init", "-q", "--", req.Dir); err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
	}
	args := []string{"fetch", "--progress", "--force", "--no-tags"}
	if req.Depth > 0 {
		args = append(args, "--depth", strconv.Itoa(req.Depth))
	}
	args = append(args, "--", req.Repository, want)
	steps := [][]string{
		args,
		{"checkout", "-q", "--force", "--detach", "FETCH_HEAD"},
		{"clean", "-q", "-ffdx"},
	}
	for _, step := range steps {
		if _, err := runGit(ctx, req.Dir, env, req.Log, step...); err != nil {
			return nil, fmt.Errorf("fetch %s %s: %w", req.Repository, ref, err)
		}
	}
	out, err := runGit(ctx, req.Dir, nil, nil, "log", "-1", "--format=%H%n%s")
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	commit, subject, _ := strings.Cut(strings.TrimSpace(out), "\n")
	req.Log.Printf("checked out %s at %s", ref, commit)
	return &sdk.FetchResponse{Commit: commit, Ref: ref, Subject: subject}, nil
}

// resolveRef finds the full ref name and the object to fetch for a
// requested ref: empty (the default branch), a full ref, a branch or tag
// name, or a commit SHA. want is empty when nothing matches.
func resolveRef(requested string, refs map[string]string, head string) (ref, want string) {
	switch {
	case requested == "":
		if head != "" {
			return head, head
		}
		return "HEAD", "HEAD"
	case strings.HasPrefix(requested, "refs/"):
		if _, ok := refs[requested]; ok {
			return requested, requested
		}
	default:
		for _, full := range []string{"refs/heads/" + requested, "refs/tags/" + requested} {
			if _, ok := refs[full]; ok {
				return full, full
			}
		}
		if isHex(requested) {
			return requested, requested
		}
	}
	return "", ""
}

// ListRepositories lists the git repositories under the configured
// directory, two levels deep ("team/app.git").
func (l *Local) ListRepositories(ctx context.Context, req *sdk.ListRepositoriesRequest) (*sdk.ListRepositoriesResponse, error) {
	l.mu.RLock()
	root := l.root
	l.mu.RUnlock()
	if root == "" {
		return nil, fmt.Errorf("list repositories: no root directory in the settings: %w", sdk.ErrNotConfigured)
	}
	var repos []sdk.Repository
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !isRepository(p) {
			if strings.Count(rel, string(filepath.Separator)) >= 1 {
				return filepath.SkipDir
			}
			return nil
		}
		name := strings.TrimSuffix(filepath.ToSlash(rel), ".git")
		if req.Query == "" || strings.Contains(name, req.Query) {
			branch, _ := runGit(ctx, p, nil, nil, "symbolic-ref", "--short", "HEAD")
			repos = append(repos, sdk.Repository{FullName: name, CloneURL: p, DefaultBranch: strings.TrimSpace(branch)})
		}
		return filepath.SkipDir
	})
	if err != nil {
		return nil, fmt.Errorf("list repositories in %s: %w", root, err)
	}
	sort.Slice(repos, func(i, j int) bool { return repos[i].FullName < repos[j].FullName })
	return page(repos, req.PageToken, req.PageSize)
}

// page cuts one page out of repos; the page token is the offset.
func page(repos []sdk.Repository, token string, size int) (*sdk.ListRepositoriesResponse, error) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(repos) {
			return nil, fmt.Errorf("bad page token %q: %w", token, sdk.ErrInvalidArgument)
		}
		start = n
	}
	if size <= 0 {
		size = 100
	}
	end := min(start+size, len(repos))
	out := &sdk.ListRepositoriesResponse{Repositories: repos[start:end]}
	if end < len(repos) {
		out.NextPageToken = strconv.Itoa(end)
	}
	return out, nil
}

// isRepository reports whether dir is a work tree or a bare repository.
func isRepository(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		return true
	}
	_, herr := os.Stat(filepath.Join(dir, "HEAD"))
	st, oerr := os.Stat(filepath.Join(dir, "objects"))
	return herr == nil && oerr == nil && st.IsDir()
}

// ListBranches lists the branches with git ls-remote.
func (l *Local) ListBranches(ctx context.Context, req *sdk.ListBranchesRequest) (*sdk.ListBranchesResponse, error) {
	if req.Repository == "" || strings.HasPrefix(req.Repository, "-") {
		return nil, fmt.Errorf("list branches: bad repository %q: %w", req.Repository, sdk.ErrInvalidArgument)
	}
	env, err := credentialEnv(req.Credentials)
	if err != nil {
		return nil, fmt.Errorf("list branches: %w", err)
	}
	refs, head, err := remoteRefs(ctx, req.Repository, env)
	if err != nil {
		return nil, fmt.Errorf("list branches of %s: %w", req.Repository, err)
	}
	out := &sdk.ListBranchesResponse{}
	for ref, commit := range refs {
		if name, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
			out.Branches = append(out.Branches, sdk.Branch{Name: name, Commit: commit, Default: ref == head})
		}
	}
	sort.Slice(out.Branches, func(i, j int) bool { return out.Branches[i].Name < out.Branches[j].Name })
	return out, nil
}

// WebhookPayload is the JSON body of the example's webhooks, sent with
// EventHeader ("push", "pull_request" or "ping") and SignatureHeader
// ("sha256=" and the hex HMAC-SHA256 of the body keyed with the secret).
type WebhookPayload struct {
	Repository  string              `json:"repository"`
	CloneURL    string              `json:"clone_url"`
	Ref         string              `json:"ref"`
	Before      string              `json:"before"`
	After       string              `json:"after"`
	Deleted     bool                `json:"deleted"`
	Sender      string              `json:"sender"`
	Changed     []string            `json:"changed"`
	PullRequest *PullRequestPayload `json:"pull_request,omitempty"`
}

// PullRequestPayload is the pull request of a "pull_request" webhook.
type PullRequestPayload struct {
	Number     int64  `json:"number"`
	Action     string `json:"action"`
	Title      string `json:"title"`
	HeadRef    string `json:"head_ref"`
	HeadCommit string `json:"head_commit"`
	BaseRef    string `json:"base_ref"`
	URL        string `json:"url"`
	// Labels, Draft and HeadRepository (set for pull requests from forks)
	// feed the preview filters.
	Labels         []string `json:"labels"`
	Draft          bool     `json:"draft"`
	HeadRepository string   `json:"head_repository"`
	HeadCloneURL   string   `json:"head_clone_url"`
	Merged         bool     `json:"merged"`
}

// Sign returns the SignatureHeader value for body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ParseWebhook verifies the signature, then parses the body.
func (l *Local) ParseWebhook(_ context.Context, req *sdk.ParseWebhookRequest) (*sdk.ParseWebhookResponse, error) {
	if req.Secret == "" {
		return nil, fmt.Errorf("webhook: no secret configured, refusing unsigned webhooks: %w", sdk.ErrUnauthenticated)
	}
	if !hmac.Equal([]byte(req.Header.Get(SignatureHeader)), []byte(Sign(req.Secret, req.Body))) {
		return nil, fmt.Errorf("webhook: signature does not match: %w", sdk.ErrUnauthenticated)
	}
	kind := req.Header.Get(EventHeader)
	if kind == "ping" {
		return &sdk.ParseWebhookResponse{Ignored: true, IgnoredReason: "ping"}, nil
	}
	if kind != "push" && kind != "pull_request" {
		return &sdk.ParseWebhookResponse{Ignored: true, IgnoredReason: fmt.Sprintf("event %q", kind)}, nil
	}
	var p WebhookPayload
	if err := json.Unmarshal(req.Body, &p); err != nil {
		return nil, fmt.Errorf("webhook: body: %v: %w", err, sdk.ErrInvalidArgument)
	}
	ev := &sdk.WebhookEvent{
		Repository: p.Repository, CloneURL: p.CloneURL, Ref: p.Ref, Commit: p.After, Before: p.Before,
		Sender: p.Sender, Deleted: p.Deleted, ChangedPaths: uniqueSorted(p.Changed),
	}
	switch {
	case kind == "pull_request":
		if p.PullRequest == nil {
			return nil, fmt.Errorf("webhook: pull_request event without pull_request: %w", sdk.ErrInvalidArgument)
		}
		pr := p.PullRequest
		ev.Type, ev.Branch, ev.Commit = sdk.WebhookPullRequest, pr.HeadRef, pr.HeadCommit
		if ev.Ref == "" {
			ev.Ref = "refs/heads/" + pr.HeadRef
		}
		ev.PullRequest = &sdk.PullRequest{
			Number: pr.Number, Action: pr.Action, Title: pr.Title, HeadRef: pr.HeadRef,
			HeadCommit: pr.HeadCommit, BaseRef: pr.BaseRef, URL: pr.URL, Labels: uniqueSorted(pr.Labels),
			Draft: pr.Draft, HeadRepository: pr.HeadRepository, HeadCloneURL: pr.HeadCloneURL, Merged: pr.Merged,
		}
	case strings.HasPrefix(p.Ref, "refs/tags/"):
		ev.Type, ev.Tag = sdk.WebhookTag, strings.TrimPrefix(p.Ref, "refs/tags/")
	case strings.HasPrefix(p.Ref, "refs/heads/"):
		ev.Type, ev.Branch = sdk.WebhookPush, strings.TrimPrefix(p.Ref, "refs/heads/")
	default:
		return &sdk.ParseWebhookResponse{Ignored: true, IgnoredReason: fmt.Sprintf("push to %q", p.Ref)}, nil
	}
	return &sdk.ParseWebhookResponse{Event: ev}, nil
}

func uniqueSorted(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := append([]string(nil), in...)
	sort.Strings(out)
	j := 0
	for i := range out {
		if i == 0 || out[i] != out[j-1] {
			out[j] = out[i]
			j++
		}
	}
	return out[:j]
}

// SetCommitStatus records the status as a git note under
// refs/notes/berth-status in a local repository.
func (l *Local) SetCommitStatus(ctx context.Context, req *sdk.SetCommitStatusRequest) (*sdk.SetCommitStatusResponse, error) {
	switch req.State {
	case sdk.CommitPending, sdk.CommitSuccess, sdk.CommitFailure, sdk.CommitError:
	default:
		return nil, fmt.Errorf("commit status: unknown state %q: %w", req.State, sdk.ErrInvalidArgument)
	}
	if !isHex(req.Commit) {
		return nil, fmt.Errorf("commit status: bad commit %q: %w", req.Commit, sdk.ErrInvalidArgument)
	}
	if st, err := os.Stat(req.Repository); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("commit status: %q is not a local repository; the example records statuses only there: %w", req.Repository, sdk.ErrInvalidArgument)
	}
	note := strings.TrimSpace(fmt.Sprintf("%s %s: %s %s", req.State, req.Context, req.Description, req.TargetURL))
	_, err := runGit(ctx, req.Repository, nil, nil,
		"-c", "user.name=berth", "-c", "user.email=berth@localhost",
		"notes", "--ref=berth-status", "add", "-f", "-m", note, req.Commit)
	if err != nil {
		return nil, fmt.Errorf("commit status on %s: %w", req.Commit, err)
	}
	return &sdk.SetCommitStatusResponse{}, nil
}
