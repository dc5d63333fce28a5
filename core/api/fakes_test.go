package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/google/uuid"
	"sort"
	"strings"
	"sync"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// fakeProvider stands in for a git provider plugin (git.example's webhook
// format: X-Berth-Example-Event and an HMAC-SHA256 X-Berth-Example-Signature).
// It records commit statuses. The real plugin runs in test/e2e.
type fakeProvider struct {
	sdk.UnimplementedGitProvider
	mu       sync.Mutex
	statuses []sdk.SetCommitStatusRequest
	repos    []string
}

// providers hands out the fake for git.example and the real provider
// plugins a test registered in plugins (by id); it refuses other ids.
type providers struct {
	fake    *fakeProvider
	plugins map[string]sdk.GitProvider
}

func (p providers) GitProvider(_ context.Context, id string) (sdk.GitProvider, error) {
	if gp, ok := p.plugins[id]; ok {
		return gp, nil
	}
	if id != "git.example" {
		return nil, fmt.Errorf("%s: %w", id, api.ErrUnknownPlugin)
	}
	return p.fake, nil
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

type hookPayload struct {
	Repository  string         `json:"repository"`
	Ref         string         `json:"ref"`
	After       string         `json:"after"`
	Deleted     bool           `json:"deleted"`
	Changed     []string       `json:"changed"`
	PullRequest *prHookPayload `json:"pull_request,omitempty"`
}

type prHookPayload struct {
	Number         int64    `json:"number"`
	Action         string   `json:"action"`
	HeadRef        string   `json:"head_ref"`
	HeadCommit     string   `json:"head_commit"`
	Labels         []string `json:"labels"`
	HeadRepository string   `json:"head_repository"`
	HeadCloneURL   string   `json:"head_clone_url"`
	Draft          bool     `json:"draft"`
}

func (f *fakeProvider) ParseWebhook(_ context.Context, req *sdk.ParseWebhookRequest) (*sdk.ParseWebhookResponse, error) {
	if req.Secret == "" || !hmac.Equal([]byte(req.Header.Get("X-Berth-Example-Signature")), []byte(sign(req.Secret, req.Body))) {
		return nil, fmt.Errorf("signature: %w", sdk.ErrUnauthenticated)
	}
	kind := req.Header.Get("X-Berth-Example-Event")
	if kind == "ping" {
		return &sdk.ParseWebhookResponse{Ignored: true, IgnoredReason: "ping"}, nil
	}
	var p hookPayload
	if err := json.Unmarshal(req.Body, &p); err != nil {
		return nil, fmt.Errorf("%v: %w", err, sdk.ErrInvalidArgument)
	}
	ev := &sdk.WebhookEvent{Repository: p.Repository, Ref: p.Ref, Commit: p.After, Deleted: p.Deleted, ChangedPaths: p.Changed}
	switch {
	case kind == "pull_request":
		pr := p.PullRequest
		ev.Type, ev.Branch, ev.Commit = sdk.WebhookPullRequest, pr.HeadRef, pr.HeadCommit
		ev.PullRequest = &sdk.PullRequest{Number: pr.Number, Action: pr.Action, HeadRef: pr.HeadRef, HeadCommit: pr.HeadCommit,
			Labels: pr.Labels, HeadRepository: pr.HeadRepository, HeadCloneURL: pr.HeadCloneURL, Draft: pr.Draft}
	case strings.HasPrefix(p.Ref, "refs/tags/"):
		ev.Type, ev.Tag = sdk.WebhookTag, strings.TrimPrefix(p.Ref, "refs/tags/")
	default:
		ev.Type, ev.Branch = sdk.WebhookPush, strings.TrimPrefix(p.Ref, "refs/heads/")
	}
	return &sdk.ParseWebhookResponse{Event: ev}, nil
}

func (f *fakeProvider) SetCommitStatus(_ context.Context, req *sdk.SetCommitStatusRequest) (*sdk.SetCommitStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses = append(f.statuses, *req)
	return &sdk.SetCommitStatusResponse{}, nil
}

func (f *fakeProvider) ListRepositories(_ context.Context, req *sdk.ListRepositoriesRequest) (*sdk.ListRepositoriesResponse, error) {
	if req.Credentials == nil || req.Credentials.Token != "good-token" {
		return nil, fmt.Errorf("401 Bad credentials: %w", sdk.ErrUnauthenticated)
	}
	sort.Strings(f.repos)
	start := 0
	fmt.Sscan(req.PageToken, &start)
	end := min(start+2, len(f.repos))
	out := &sdk.ListRepositoriesResponse{}
	for _, r := range f.repos[start:end] {
		out.Repositories = append(out.Repositories, sdk.Repository{FullName: r})
	}
	if end < len(f.repos) {
		out.NextPageToken = fmt.Sprint(end)
	}
	return out, nil
}

func (f *fakeProvider) ListBranches(_ context.Context, req *sdk.ListBranchesRequest) (*sdk.ListBranchesResponse, error) {
	return &sdk.ListBranchesResponse{Branches: []sdk.Branch{{Name: "main", Default: true}, {Name: "next"}}}, nil
}

func (f *fakeProvider) recorded() []sdk.SetCommitStatusRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sdk.SetCommitStatusRequest(nil), f.statuses...)
}

// queueOnly records deployments in the real store without running them
// (the pipeline with Docker runs in test/e2e) and tracks removals.
type queueOnly struct {
	st      *store.Store
	mu      sync.Mutex
	removed []string
}

func (q *queueOnly) Deploy(ctx context.Context, a store.Application, in store.NewDeployment) (store.Deployment, error) {
	return q.st.CreateDeployment(ctx, a.ID, in)
}

func (q *queueOnly) DeployTx(ctx context.Context, tx *store.Tx, a store.Application, in store.NewDeployment) (store.Deployment, error) {
	return tx.CreateDeployment(ctx, a.ID, in)
}

func (q *queueOnly) Rollback(ctx context.Context, a store.Application, target store.Deployment, by *uuid.UUID) (store.Deployment, error) {
	return q.st.CreateDeployment(ctx, a.ID, store.NewDeployment{Kind: store.KindRollback, Trigger: "rollback",
		Image: target.Image, RollbackOf: &target.ID, CreatedBy: by})
}

// CanaryOp records nothing: no worker runs here.
func (q *queueOnly) CanaryOp(context.Context, store.Deployment, string, string) error { return nil }

func (q *queueOnly) Cancel(ctx context.Context, d store.Deployment) error {
	_, err := q.st.RequestCancel(ctx, d.ID)
	return err
}

func (q *queueOnly) RemoveApplications(_ context.Context, apps []store.Application) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, a := range apps {
		q.removed = append(q.removed, a.ServiceName)
	}
	return nil
}

func (q *queueOnly) RemoveReleaseImages(context.Context, store.Application) error { return nil }

func signedRequest(event, secret string, p hookPayload) (string, []string) {
	body, _ := json.Marshal(p)
	return string(body), []string{"X-Berth-Example-Event", event, "X-Berth-Example-Signature", sign(secret, body)}
}
