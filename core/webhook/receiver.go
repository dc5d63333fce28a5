// Package webhook turns incoming webhooks into deployments: verified git
// host events (push-to-deploy and preview deployments of pull requests),
// the generic deploy URL for CI systems, and registry push notifications
// for image-sourced applications.
//
// A webhook is addressed by an application's public webhook id. Whether
// that id exists is never revealed: an unknown id and a bad signature or
// token are both ErrUnauthenticated.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"github.com/berth-dev/berth/core/automation"
	"github.com/berth-dev/berth/core/service"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/deploy"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
)

// ErrUnauthenticated is returned for a bad or missing signature or token,
// and for an unknown webhook id.
var ErrUnauthenticated = errors.New("invalid or missing webhook signature or token")

// ErrUnavailable is returned when deployments cannot run on this server.
var ErrUnavailable = errors.New("deployments are not available on this server (no Docker)")

// InvalidError is a malformed webhook request.
type InvalidError struct{ Msg string }

// Error returns the message.
func (e *InvalidError) Error() string { return e.Msg }

// ProviderError is a git provider plugin failure other than a bad
// signature (the plugin is missing, crashed or answered an error).
type ProviderError struct{ Err error }

// Error describes the failure.
func (e *ProviderError) Error() string { return "git provider: " + e.Err.Error() }

// Unwrap returns the plugin's error.
func (e *ProviderError) Unwrap() error { return e.Err }

// Deployer queues deployments and removes applications' services and images.
type Deployer = service.Deployer

// Providers gives access to git provider plugins.
type Providers interface {
	GitProvider(ctx context.Context, id string) (sdk.GitProvider, error)
}

// Deployment triggers recorded by webhooks.
const (
	TriggerPush        = "push"
	TriggerPullRequest = "pull_request"
	TriggerWebhook     = "webhook"
	TriggerImage       = "image"
)

// Commit status contexts.
const (
	ContextDeploy  = "berth/deploy"
	ContextPreview = "berth/preview"
)

// Result is the answer to a webhook: a queued deployment (202) or the
// reason nothing was done (200).
type Result struct {
	// Status is the HTTP status: 202 when a deployment was queued, else 200.
	Status int `json:"-"`
	// DeploymentID is the queued deployment.
	DeploymentID *uuid.UUID `json:"deployment_id,omitempty"`
	// Ignored names an event berth has no use for ("ping").
	Ignored string `json:"ignored,omitempty"`
	// Skipped says why a relevant event deployed nothing.
	Skipped string `json:"skipped,omitempty"`
	// Note adds context, e.g. that watch paths could not be checked.
	Note string `json:"note,omitempty"`
	// PreviewID is the preview application created or updated.
	PreviewID *uuid.UUID `json:"preview_id,omitempty"`
	// RemovedPreviewID is the preview removed when its pull request closed.
	RemovedPreviewID *uuid.UUID `json:"removed_preview_id,omitempty"`
	// URL is the preview's address.
	URL string `json:"url,omitempty"`
}

func skipped(format string, args ...any) Result {
	return Result{Status: http.StatusOK, Skipped: fmt.Sprintf(format, args...)}
}

func queued(d store.Deployment) Result {
	id := d.ID
	return Result{Status: http.StatusAccepted, DeploymentID: &id}
}

// Receiver handles webhooks.
type Receiver struct {
	store     *store.Store
	providers Providers
	svc       *service.Services
	log       *slog.Logger
	outbound  URLChecker
	host      *hostaccess.Guard
}

// Options are the receiver's collaborators.
type Options struct {
	Store     *store.Store
	Providers Providers
	// Services is the service layer deployments and previews go through;
	// nil builds one on Store, HostAccess and Deployer.
	Services *service.Services
	// Deployer queues deployments when Services is nil; nil answers
	// deployment events with ErrUnavailable.
	Deployer Deployer
	Logger   *slog.Logger
	// Outbound checks a connection's base URL again before a commit status
	// is posted to it (*netguard.Guard); nil checks nothing.
	Outbound URLChecker
	// HostAccess checks what a preview adds to its parent's settings (a
	// fork's clone URL naming a path on the berth host); nil uses one on
	// Store.
	HostAccess *hostaccess.Guard
}

// URLChecker re-checks an address a tenant aimed requests at right before
// it is used.
type URLChecker interface {
	RecheckURL(ctx context.Context, field, raw string) error
}

// New returns a receiver.
func New(o Options) *Receiver {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HostAccess == nil {
		o.HostAccess = hostaccess.NewGuard(o.Store, nil)
	}
	if o.Services == nil {
		o.Services = service.New(service.Deps{Store: o.Store, HostAccess: o.HostAccess, Deployer: o.Deployer, Logger: o.Logger})
	}
	return &Receiver{store: o.Store, providers: o.Providers, svc: o.Services, log: o.Logger,
		outbound: o.Outbound, host: o.HostAccess}
}

// application loads the (non-preview) application of a webhook id.
func (r *Receiver) application(ctx context.Context, hook string) (store.Application, error) {
	if hook == "" || len(hook) > 200 {
		return store.Application{}, ErrUnauthenticated
	}
	a, err := r.store.ApplicationByWebhook(ctx, hook)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.PreviewOf != nil) {
		return store.Application{}, ErrUnauthenticated
	}
	return a, err
}

// access returns the provider and credentials the application uses.
func (r *Receiver) access(ctx context.Context, a store.Application) (string, *sdk.Credentials, error) {
	var conn *store.GitConnection
	if a.GitConnectionID != nil {
		c, err := r.store.GetGitConnection(ctx, *a.GitConnectionID)
		if err != nil {
			return "", nil, fmt.Errorf("load git connection: %w", err)
		}
		conn = &c
	}
	provider, creds := deploy.GitAccess(a, conn)
	return provider, creds, nil
}

// Git verifies a git host's webhook with the application's provider plugin
// and acts on it.
func (r *Receiver) Git(ctx context.Context, hook string, header http.Header, body []byte) (Result, error) {
	a, err := r.application(ctx, hook)
	if err != nil {
		return Result{}, err
	}
	if a.SourceType != "git" {
		// Answer like a bad signature: the caller proved nothing yet.
		return Result{}, ErrUnauthenticated
	}
	providerID, creds, err := r.access(ctx, a)
	if err != nil {
		return Result{}, err
	}
	secret, err := r.store.WebhookSecret(ctx, a.ID)
	if err != nil {
		return Result{}, err
	}
	gp, err := r.providers.GitProvider(ctx, providerID)
	if err != nil {
		return Result{}, &ProviderError{Err: err}
	}
	parsed, err := gp.ParseWebhook(ctx, &sdk.ParseWebhookRequest{Header: header, Body: body, Secret: secret})
	switch {
	case errors.Is(err, sdk.ErrUnauthenticated):
		return Result{}, ErrUnauthenticated
	case errors.Is(err, sdk.ErrInvalidArgument):
		return Result{}, &InvalidError{Msg: err.Error()}
	case err != nil:
		return Result{}, &ProviderError{Err: err}
	}
	if parsed.Ignored || parsed.Event == nil {
		reason := parsed.IgnoredReason
		if reason == "" {
			reason = "event"
		}
		return Result{Status: http.StatusOK, Ignored: reason}, nil
	}
	if !r.svc.CanDeploy() {
		return Result{}, ErrUnavailable
	}
	ev := parsed.Event
	target := statusTarget{provider: providerID, credentials: creds, repository: ev.Repository}
	if target.repository == "" {
		target.repository = a.GitRepository
	}
	switch ev.Type {
	case sdk.WebhookPush, sdk.WebhookTag:
		return r.push(ctx, a, ev, target)
	case sdk.WebhookPullRequest:
		return r.pullRequest(ctx, a, ev, target)
	}
	return Result{Status: http.StatusOK, Ignored: fmt.Sprintf("event type %q", ev.Type)}, nil
}

// statusTarget is where commit statuses of an event go.
type statusTarget struct {
	provider    string
	credentials *sdk.Credentials
	repository  string
}

// push deploys a matching branch push or tag.
func (r *Receiver) push(ctx context.Context, a store.Application, ev *sdk.WebhookEvent, target statusTarget) (Result, error) {
	switch {
	case ev.Deleted:
		return skipped("%s was deleted", strings.TrimPrefix(strings.TrimPrefix(ev.Ref, "refs/heads/"), "refs/tags/")), nil
	case !a.AutoDeploy:
		return skipped("auto_deploy is off for this application"), nil
	}
	ref := ev.Ref
	if ev.Type == sdk.WebhookTag {
		if a.DeployTrigger != "tag" {
			return skipped("tag %s: the application deploys on pushes to a branch (deploy_trigger branch)", ev.Tag), nil
		}
		if !automation.TagMatches(a.TagPattern, ev.Tag) {
			return skipped("tag %s does not match tag_pattern %q", ev.Tag, a.TagPattern), nil
		}
		if ref == "" {
			ref = "refs/tags/" + ev.Tag
		}
	} else {
		if a.DeployTrigger == "tag" {
			return skipped("push to %s: the application deploys on tags (deploy_trigger tag)", ev.Branch), nil
		}
		want := branchName(a.GitRef)
		if want == "" {
			return skipped("the application has no git_ref: set the branch to deploy on push"), nil
		}
		if ev.Branch != want {
			return skipped("push to %s; the application deploys %s", ev.Branch, want), nil
		}
		if ref == "" {
			ref = "refs/heads/" + ev.Branch
		}
	}
	var note string
	if len(a.WatchPaths) > 0 {
		if len(ev.ChangedPaths) == 0 {
			note = "the provider sent no changed paths: deployed without watch_paths filtering"
		} else if !automation.PathsMatch(a.WatchPaths, ev.ChangedPaths) {
			return skipped("no changed path matches watch_paths"), nil
		}
	}
	d, err := r.svc.Deployments.Deploy(ctx, service.System, a, service.DeployInput{Trigger: TriggerPush, GitRef: ref, CommitSHA: ev.Commit,
		StatusRepository: target.repository, StatusContext: ContextDeploy})
	if err != nil {
		return Result{}, err
	}
	res := queued(d)
	res.Note = note
	return res, nil
}

// pullRequest creates, updates or removes the preview of a pull request.
func (r *Receiver) pullRequest(ctx context.Context, a store.Application, ev *sdk.WebhookEvent, target statusTarget) (Result, error) {
	pr := ev.PullRequest
	if pr == nil || pr.Number <= 0 || pr.Number > 1<<31-1 {
		return Result{}, &InvalidError{Msg: "pull request event without a pull request number"}
	}
	number := int(pr.Number)
	action := normaliseAction(pr.Action)
	if action == actionIgnored {
		return Result{Status: http.StatusOK, Ignored: fmt.Sprintf("pull request action %q", pr.Action)}, nil
	}
	if action == actionClose {
		return r.closePreview(ctx, a, number, "pull request closed")
	}
	if !a.Preview.Enabled {
		return skipped("previews are disabled for this application"), nil
	}
	if a.Preview.Label != "" && !slices.Contains(pr.Labels, a.Preview.Label) {
		// A pull request without the label has no preview. The provider
		// plugins report label changes as "updated" (the SDK's normalised
		// actions), so any event showing the label gone removes it.
		if res, err := r.closePreview(ctx, a, number, "label removed"); err != nil || res.RemovedPreviewID != nil {
			return res, err
		}
		return skipped("pull request #%d does not carry the label %q", number, a.Preview.Label), nil
	}
	if action == actionLabel && a.Preview.Label == "" {
		return Result{Status: http.StatusOK, Ignored: "label change (no label filter)"}, nil
	}
	if pr.Draft {
		return skipped("pull request #%d is a draft: previews start when it is ready for review", number), nil
	}
	fork := pr.HeadRepository != "" && ev.Repository != "" && pr.HeadRepository != ev.Repository
	if fork && !a.Preview.Forks {
		return skipped("pull request #%d comes from the fork %s: previews of forks are off (preview.forks), since they would run its code with the application's variables", number, pr.HeadRepository), nil
	}
	commit := pr.HeadCommit
	if commit == "" {
		commit = ev.Commit
	}
	repository := a.GitRepository
	if fork {
		repository = pr.HeadCloneURL
		if repository == "" {
			return skipped("pull request #%d comes from a fork without a clone URL", number), nil
		}
	}
	// A preview inherits its parent's settings, which someone allowed to set
	// them chose; nobody signed in asks for it, so anything it adds (a
	// fork's clone URL on the berth host) is checked as a tenant's.
	previewSpec := a.Spec()
	previewSpec.GitRepository = repository
	previewSpec.Ports = nil
	if err := r.host.CheckChange(ctx, nil, a.OrganizationID, hostaccess.ApplicationUses(a.Spec()), hostaccess.ApplicationUses(previewSpec)); err != nil {
		var fe *hostaccess.ForbiddenError
		if errors.As(err, &fe) {
			return skipped("pull request #%d: %v", number, err), nil
		}
		return Result{}, err
	}
	existing, err := r.store.GetPreview(ctx, a.ID, number)
	switch {
	case errors.Is(err, store.ErrNotFound):
		n, err := r.store.CountPreviews(ctx, a.ID)
		if err != nil {
			return Result{}, err
		}
		if n >= a.Preview.Limit {
			msg := fmt.Sprintf("preview limit reached (%d per application): close another pull request or raise preview.limit", a.Preview.Limit)
			r.postStatus(ctx, target, commit, sdk.CommitFailure, msg)
			return skipped("%s", msg), nil
		}
	case err != nil:
		return Result{}, err
	default:
		_ = existing
	}
	host, err := automation.RenderHost(a.Preview.HostPattern, number, a.Name, pr.HeadRef)
	if err != nil {
		return skipped("preview host: %v", err), nil
	}
	ref := commit
	if ref == "" {
		ref = "refs/heads/" + pr.HeadRef
	}
	preview, d, err := r.svc.Previews.Upsert(ctx, service.System, a, service.PreviewInput{
		Spec: store.PreviewSpec{Number: number, HeadRef: pr.HeadRef, Repository: repository}, Host: host,
		Deployment: store.NewDeployment{Trigger: TriggerPullRequest, GitRef: ref, CommitSHA: commit,
			StatusRepository: target.repository, StatusContext: ContextPreview}, PullRequestURL: pr.URL})
	if errors.Is(err, service.ErrPreviewHostTaken) {
		return skipped("preview host %s is already used by another domain", host), nil
	}
	if err != nil {
		return Result{}, err
	}
	res := queued(d)
	res.PreviewID = &preview.ID
	scheme := "http"
	if a.Preview.HTTPS != "none" {
		scheme = "https"
	}
	res.URL = scheme + "://" + host + "/"
	return res, nil
}

// closePreview removes a pull request's preview: its deployments are
// cancelled, then its service, release images, domains and row go.
func (r *Receiver) closePreview(ctx context.Context, a store.Application, number int, why string) (Result, error) {
	preview, err := r.store.GetPreview(ctx, a.ID, number)
	if errors.Is(err, store.ErrNotFound) {
		return skipped("pull request #%d has no preview", number), nil
	}
	if err != nil {
		return Result{}, err
	}
	if err := r.RemovePreviews(ctx, []store.Application{preview}); err != nil {
		return Result{}, err
	}
	r.log.Info("preview removed", "application", a.ID, "preview", preview.ID, "number", number, "reason", why)
	return Result{Status: http.StatusOK, RemovedPreviewID: &preview.ID}, nil
}

// RemovePreviews removes preview applications with their services, images,
// domains and deployments.
func (r *Receiver) RemovePreviews(ctx context.Context, previews []store.Application) error {
	return r.svc.Previews.Remove(ctx, service.System, previews)
}

// postStatus posts a commit status outside a deployment (e.g. the preview
// limit); failures are logged.
func (r *Receiver) postStatus(ctx context.Context, t statusTarget, commit string, state sdk.CommitState, description string) {
	if commit == "" || t.repository == "" {
		return
	}
	if len(description) > 140 {
		description = description[:137] + "..."
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var err error
	if r.outbound != nil && t.credentials != nil {
		err = r.outbound.RecheckURL(ctx, "base_url", t.credentials.BaseURL)
	}
	var gp sdk.GitProvider
	if err == nil {
		gp, err = r.providers.GitProvider(ctx, t.provider)
	}
	if err == nil {
		_, err = gp.SetCommitStatus(ctx, &sdk.SetCommitStatusRequest{Repository: t.repository, Commit: commit, State: state,
			Context: ContextPreview, Description: description, Credentials: t.credentials})
	}
	if err != nil && !errors.Is(err, sdk.ErrUnimplemented) {
		r.log.Warn("posting a commit status failed", "repository", t.repository, "commit", commit, "err", err)
	}
}

// Deploy handles the generic deploy URL: token checked, then the
// application's configured ref (or ref) is deployed.
func (r *Receiver) Deploy(ctx context.Context, hook, token, ref string) (Result, error) {
	a, err := r.authenticateToken(ctx, hook, token)
	if err != nil {
		return Result{}, err
	}
	if ref != "" && a.SourceType != "git" {
		return Result{}, &InvalidError{Msg: "ref: only applies to applications built from git"}
	}
	if !r.svc.CanDeploy() {
		return Result{}, ErrUnavailable
	}
	d, err := r.svc.Deployments.Deploy(ctx, service.System, a, service.DeployInput{Trigger: TriggerWebhook, GitRef: ref})
	if err != nil {
		return Result{}, err
	}
	return queued(d), nil
}

// AuthenticateToken checks a deploy token for a webhook id.
func (r *Receiver) AuthenticateToken(ctx context.Context, hook, token string) error {
	_, err := r.authenticateToken(ctx, hook, token)
	return err
}

func (r *Receiver) authenticateToken(ctx context.Context, hook, token string) (store.Application, error) {
	a, err := r.application(ctx, hook)
	if err != nil {
		return a, err
	}
	ok, err := r.store.CheckDeployToken(ctx, a.ID, token)
	if err != nil {
		return a, err
	}
	if !ok {
		return a, ErrUnauthenticated
	}
	return a, nil
}
