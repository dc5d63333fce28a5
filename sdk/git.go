package sdk

import (
	"context"
	"fmt"
	"net/http"
)

// Git provider capabilities. Fetch is always supported.
const (
	// CapListRepositories: ListRepositories and ListBranches work.
	CapListRepositories Capability = "list_repositories"
	// CapWebhooks: ParseWebhook works.
	CapWebhooks Capability = "webhooks"
	// CapCommitStatus: SetCommitStatus works.
	CapCommitStatus Capability = "commit_status"
)

// GitProvider fetches code and talks to a git hosting service.
type GitProvider interface {
	Plugin
	// Fetch clones req.Repository into req.Dir, or fetches into it when it
	// already holds a clone, and checks out req.Ref. Progress goes to req.Log.
	Fetch(ctx context.Context, req *FetchRequest) (*FetchResponse, error)
	// ListRepositories lists the repositories the credentials can see.
	ListRepositories(ctx context.Context, req *ListRepositoriesRequest) (*ListRepositoriesResponse, error)
	// ListBranches lists a repository's branches.
	ListBranches(ctx context.Context, req *ListBranchesRequest) (*ListBranchesResponse, error)
	// ParseWebhook verifies an incoming webhook against req.Secret and
	// parses it. A bad signature is an error wrapping ErrUnauthenticated; an
	// event berth has no use for is answered with Ignored set.
	ParseWebhook(ctx context.Context, req *ParseWebhookRequest) (*ParseWebhookResponse, error)
	// SetCommitStatus reports a deployment's state on a commit.
	SetCommitStatus(ctx context.Context, req *SetCommitStatusRequest) (*SetCommitStatusResponse, error)
}

// Credentials authenticate against a git host. Fill what the provider
// needs; secrets are never logged.
type Credentials struct {
	Username string
	Password string
	// Token is an access token (used as the password over HTTPS).
	Token string
	// SSHPrivateKey is a PEM private key for SSH URLs.
	SSHPrivateKey []byte
	// SSHKnownHosts is known_hosts content to verify the SSH host with.
	SSHKnownHosts []byte
	// BaseURL is the API root of a self-hosted or enterprise instance
	// ("https://gitea.example.com", "https://github.example.com/api/v3");
	// empty means the provider's public service.
	BaseURL string
	// App authenticates as an installed application (a GitHub App) instead
	// of with Token: the provider exchanges it for a short-lived token.
	App *AppCredentials
}

// AppCredentials identify an installed application on a git host.
type AppCredentials struct {
	// AppID is the application's id.
	AppID string
	// InstallationID is the installation on the account that owns the
	// repositories.
	InstallationID string
	// PrivateKey is the application's PEM private key, used to sign the
	// short-lived JWT that is exchanged for an installation token.
	PrivateKey []byte
}

// FetchRequest asks for a ref to be checked out into a directory.
type FetchRequest struct {
	// Repository is a clone URL or a provider-specific name ("owner/repo").
	Repository string
	// Ref is a branch, tag, full ref ("refs/heads/main") or commit SHA.
	// Empty means the default branch.
	Ref string
	// Dir is the absolute directory to clone into. It is empty or holds a
	// clone made by an earlier Fetch of the same repository.
	Dir string
	// Credentials to fetch with; nil for public repositories.
	Credentials *Credentials
	// Depth limits history (0: the provider's choice).
	Depth int
	// Log receives progress lines.
	Log LogFunc
}

// FetchResponse describes what was checked out.
type FetchResponse struct {
	// Commit is the full SHA now checked out in Dir.
	Commit string
	// Ref is the ref that was resolved ("refs/heads/main").
	Ref string
	// Subject is the commit message's first line.
	Subject string
}

// Repository is a repository a provider can fetch.
type Repository struct {
	// FullName is the provider's name for it, "owner/repo".
	FullName      string
	CloneURL      string
	WebURL        string
	DefaultBranch string
	Private       bool
}

// ListRepositoriesRequest asks for repositories, one page at a time.
type ListRepositoriesRequest struct {
	Credentials *Credentials
	// Query filters by name, when the provider supports it.
	Query string
	// PageToken is NextPageToken of the previous page; empty for the first.
	PageToken string
	// PageSize is a hint; 0 lets the provider choose.
	PageSize int
}

// ListRepositoriesResponse is one page of repositories.
type ListRepositoriesResponse struct {
	Repositories []Repository
	// NextPageToken is empty on the last page.
	NextPageToken string
}

// Branch is a branch of a repository.
type Branch struct {
	Name    string
	Commit  string
	Default bool
}

// ListBranchesRequest asks for a repository's branches.
type ListBranchesRequest struct {
	Repository  string
	Credentials *Credentials
}

// ListBranchesResponse lists branches, sorted by name.
type ListBranchesResponse struct {
	Branches []Branch
}

// WebhookType is the type of a parsed webhook event.
type WebhookType string

// Webhook event types.
const (
	WebhookPush        WebhookType = "push"
	WebhookTag         WebhookType = "tag"
	WebhookPullRequest WebhookType = "pull_request"
)

// ParseWebhookRequest carries an incoming webhook request.
type ParseWebhookRequest struct {
	Header http.Header
	Body   []byte
	// Secret is the webhook secret berth configured with the git host.
	Secret string
}

// ParseWebhookResponse is the parsed event, or Ignored.
type ParseWebhookResponse struct {
	// Event is set unless Ignored.
	Event *WebhookEvent
	// Ignored is true for verified events berth has no use for (a ping, a
	// comment); IgnoredReason says which.
	Ignored       bool
	IgnoredReason string
}

// WebhookEvent is a push, tag or pull request event.
type WebhookEvent struct {
	Type WebhookType
	// Repository is the provider's name, "owner/repo".
	Repository string
	CloneURL   string
	// Ref is the full ref, "refs/heads/main" or "refs/tags/v1".
	Ref string
	// Branch is set for pushes and pull requests (the head branch).
	Branch string
	// Tag is set for tag events.
	Tag string
	// Commit is the SHA after the event (the pull request's head).
	Commit string
	// Before is the SHA before a push, when known.
	Before string
	// ChangedPaths lists files added, modified or removed, sorted and
	// without duplicates, for watch-path filtering.
	ChangedPaths []string
	// Sender is who caused the event.
	Sender string
	// Deleted is true when the branch or tag was deleted.
	Deleted bool
	// PullRequest is set for pull request events.
	PullRequest *PullRequest
}

// PullRequest describes the pull request of a webhook event.
type PullRequest struct {
	Number int64
	// Action is the provider's action: "opened", "synchronize", "closed"...
	Action     string
	Title      string
	HeadRef    string
	HeadCommit string
	BaseRef    string
	URL        string
	// Labels are the pull request's label names, sorted.
	Labels []string
	// HeadRepository is the "owner/repo" the head branch lives in; it
	// differs from the event's Repository for pull requests from forks.
	HeadRepository string
	// HeadCloneURL is the clone URL of HeadRepository.
	HeadCloneURL string
	// Merged is true when a closed pull request was merged.
	Merged bool
	// Draft is true for draft pull requests.
	Draft bool
}

// CommitState is the state of a commit status.
type CommitState string

// Commit states.
const (
	CommitPending CommitState = "pending"
	CommitSuccess CommitState = "success"
	CommitFailure CommitState = "failure"
	CommitError   CommitState = "error"
)

// SetCommitStatusRequest reports a state on a commit.
type SetCommitStatusRequest struct {
	Repository string
	Commit     string
	State      CommitState
	// Context distinguishes statuses on one commit, "berth/deploy".
	Context     string
	Description string
	TargetURL   string
	Credentials *Credentials
}

// SetCommitStatusResponse is the response of SetCommitStatus.
type SetCommitStatusResponse struct{}

// UnimplementedGitProvider is embedded by git providers so that methods
// added to GitProvider later do not break them. Every method answers
// ErrUnimplemented.
type UnimplementedGitProvider struct{ UnimplementedPlugin }

// Fetch returns ErrUnimplemented.
func (UnimplementedGitProvider) Fetch(context.Context, *FetchRequest) (*FetchResponse, error) {
	return nil, fmt.Errorf("Fetch: %w", ErrUnimplemented)
}

// ListRepositories returns ErrUnimplemented.
func (UnimplementedGitProvider) ListRepositories(context.Context, *ListRepositoriesRequest) (*ListRepositoriesResponse, error) {
	return nil, fmt.Errorf("ListRepositories: %w", ErrUnimplemented)
}

// ListBranches returns ErrUnimplemented.
func (UnimplementedGitProvider) ListBranches(context.Context, *ListBranchesRequest) (*ListBranchesResponse, error) {
	return nil, fmt.Errorf("ListBranches: %w", ErrUnimplemented)
}

// ParseWebhook returns ErrUnimplemented.
func (UnimplementedGitProvider) ParseWebhook(context.Context, *ParseWebhookRequest) (*ParseWebhookResponse, error) {
	return nil, fmt.Errorf("ParseWebhook: %w", ErrUnimplemented)
}

// SetCommitStatus returns ErrUnimplemented.
func (UnimplementedGitProvider) SetCommitStatus(context.Context, *SetCommitStatusRequest) (*SetCommitStatusResponse, error) {
	return nil, fmt.Errorf("SetCommitStatus: %w", ErrUnimplemented)
}
