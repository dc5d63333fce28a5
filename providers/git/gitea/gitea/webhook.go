package gitea

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/providers/git/internal/hmacsig"
	"github.com/berth-dev/berth/providers/git/internal/hookevent"
	"github.com/berth-dev/berth/sdk"
)

// Webhook headers Gitea sends. X-Gitea-Signature is the hex HMAC-SHA256 of
// the body; newer releases (and Forgejo) also send GitHub's
// X-Hub-Signature-256 ("sha256=<hex>").
const (
	headerEvent        = "X-Gitea-Event"
	headerSignature    = "X-Gitea-Signature"
	headerHubSignature = "X-Hub-Signature-256"
)

// wipPrefixes are Gitea's default WORK_IN_PROGRESS_PREFIXES: a pull request
// whose title starts with one is a draft on releases whose payload has no
// "draft" field.
var wipPrefixes = []string{"wip:", "[wip]"}

// ParseWebhook verifies a Gitea webhook delivery and parses it.
//
// The delivery must carry X-Gitea-Signature (hex HMAC-SHA256 of the raw
// body keyed with the secret) or X-Hub-Signature-256 ("sha256=<hex>"), and
// every one present must match (compared in constant time); a missing or
// wrong signature, or an empty secret, is an error wrapping
// sdk.ErrUnauthenticated. Then, by X-Gitea-Event:
//
//   - push: a branch push (Type push) or a tag push (Type tag, Deleted when
//     the tag was deleted). Changed paths are left unknown (nil) when Gitea
//     listed fewer commits than were pushed (total_commits);
//   - delete of a branch: Type push with Deleted (Gitea sends no push
//     event for a deleted branch); a deleted tag is ignored here, its push
//     event carries it;
//   - pull_request: opened and reopened; synchronized, label_updated,
//     label_cleared and base branch edits as "updated"; closed (Merged when
//     merged). Other actions (assigned, milestoned, reviewed...) are ignored;
//   - every other event: ignored, with the reason. Gitea has no ping: its
//     "Test delivery" button sends a push event.
func (p *Provider) ParseWebhook(_ context.Context, req *sdk.ParseWebhookRequest) (*sdk.ParseWebhookResponse, error) {
	if err := verify(req); err != nil {
		return nil, err
	}
	event := req.Header.Get(headerEvent)
	switch event {
	case "":
		return nil, fmt.Errorf("gitea webhook: no %s header: %w", headerEvent, sdk.ErrInvalidArgument)
	case "push", "delete", "pull_request":
	default:
		return ignored(fmt.Sprintf("Gitea %q events are not used by berth", event)), nil
	}
	if body := bytes.TrimSpace(req.Body); !bytes.HasPrefix(body, []byte("{")) {
		return nil, fmt.Errorf("gitea webhook: the %s payload is not JSON (set the webhook's content type to application/json): %w", event, sdk.ErrInvalidArgument)
	}
	switch event {
	case "push":
		return parsePush(req.Body)
	case "delete":
		return parseDelete(req.Body)
	default:
		return parsePullRequest(req.Body)
	}
}

// verify checks the delivery's signatures against the secret.
func verify(req *sdk.ParseWebhookRequest) error {
	if req.Secret == "" {
		return fmt.Errorf("gitea webhook: no secret is configured; unsigned deliveries are refused: %w", sdk.ErrUnauthenticated)
	}
	gitea, hub := req.Header.Get(headerSignature), req.Header.Get(headerHubSignature)
	if gitea == "" && hub == "" {
		return fmt.Errorf("gitea webhook: no %s or %s header (set the webhook's secret in Gitea): %w", headerSignature, headerHubSignature, sdk.ErrUnauthenticated)
	}
	if gitea != "" && !hmacsig.ValidHex(req.Secret, req.Body, gitea) {
		return fmt.Errorf("gitea webhook: the %s signature does not match the body and secret: %w", headerSignature, sdk.ErrUnauthenticated)
	}
	if hub != "" && !hmacsig.ValidPrefixed(req.Secret, req.Body, hub) {
		return fmt.Errorf("gitea webhook: the %s signature does not match the body and secret: %w", headerHubSignature, sdk.ErrUnauthenticated)
	}
	return nil
}

// ignored is the answer to a delivery berth does not act on.
var ignored = hookevent.Ignored

// hookUser is a user of a webhook payload.
type hookUser struct {
	Login    string `json:"login"`
	Username string `json:"username"`
}

func (u hookUser) name() string {
	if u.Login != "" {
		return u.Login
	}
	return u.Username
}

// isZero reports whether sha is Gitea's empty commit id (all zeros, SHA-1
// or SHA-256).
func isZero(sha string) bool { return sha != "" && strings.Trim(sha, "0") == "" }

// pushPayload is the part of a push event berth uses.
type pushPayload struct {
	Ref          string               `json:"ref"`
	Before       string               `json:"before"`
	After        string               `json:"after"`
	TotalCommits int                  `json:"total_commits"`
	Commits      []hookevent.Commit   `json:"commits"`
	Repository   hookevent.Repository `json:"repository"`
	Sender       hookUser             `json:"sender"`
	Pusher       hookUser             `json:"pusher"`
}

func parsePush(body []byte) (*sdk.ParseWebhookResponse, error) {
	var p pushPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("gitea webhook: malformed push payload: %v: %w", err, sdk.ErrInvalidArgument)
	}
	sender := p.Sender.name()
	if sender == "" {
		sender = p.Pusher.name()
	}
	ev := &sdk.WebhookEvent{
		Repository: p.Repository.FullName,
		CloneURL:   p.Repository.CloneURL,
		Commit:     p.After,
		Before:     p.Before,
		Sender:     sender,
		Deleted:    isZero(p.After),
	}
	if ev.Deleted {
		ev.Commit = ""
	}
	if !hookevent.SetRef(ev, p.Ref) {
		return ignored(fmt.Sprintf("push to %q, neither a branch nor a tag", p.Ref)), nil
	}
	if p.TotalCommits <= len(p.Commits) && !ev.Deleted {
		ev.ChangedPaths = hookevent.ChangedPaths(p.Commits)
	}
	return &sdk.ParseWebhookResponse{Event: ev}, nil
}

// deletePayload is a delete event: Ref is the short branch or tag name.
type deletePayload struct {
	Ref        string               `json:"ref"`
	RefType    string               `json:"ref_type"`
	Repository hookevent.Repository `json:"repository"`
	Sender     hookUser             `json:"sender"`
}

func parseDelete(body []byte) (*sdk.ParseWebhookResponse, error) {
	var p deletePayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("gitea webhook: malformed delete payload: %v: %w", err, sdk.ErrInvalidArgument)
	}
	if p.RefType != "branch" {
		return ignored(fmt.Sprintf("deleted %s %q: its push event carries the deletion", p.RefType, p.Ref)), nil
	}
	branch := strings.TrimPrefix(p.Ref, "refs/heads/")
	return &sdk.ParseWebhookResponse{Event: &sdk.WebhookEvent{
		Type:       sdk.WebhookPush,
		Repository: p.Repository.FullName,
		CloneURL:   p.Repository.CloneURL,
		Ref:        "refs/heads/" + branch,
		Branch:     branch,
		Sender:     p.Sender.name(),
		Deleted:    true,
	}}, nil
}

// pullRequestPayload is the part of a pull_request event berth uses.
type pullRequestPayload struct {
	Action      string                `json:"action"`
	Number      int64                 `json:"number"`
	PullRequest hookevent.PullRequest `json:"pull_request"`
	Changes     struct {
		Ref json.RawMessage `json:"ref"`
	} `json:"changes"`
	Repository hookevent.Repository `json:"repository"`
	Sender     hookUser             `json:"sender"`
}

// pullRequestAction normalises a pull_request action to opened, updated,
// closed or reopened; ok is false for actions berth ignores.
func pullRequestAction(p *pullRequestPayload) (string, bool) {
	switch p.Action {
	case "opened", "closed", "reopened":
		return p.Action, true
	case "synchronized", "label_updated", "label_cleared":
		return "updated", true
	case "edited":
		// Only a new target branch (changes.ref) changes what would be
		// deployed; title and body edits do not.
		return "updated", len(p.Changes.Ref) > 0 && string(p.Changes.Ref) != "null"
	}
	return "", false
}

func parsePullRequest(body []byte) (*sdk.ParseWebhookResponse, error) {
	var p pullRequestPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("gitea webhook: malformed pull_request payload: %v: %w", err, sdk.ErrInvalidArgument)
	}
	action, ok := pullRequestAction(&p)
	if !ok {
		return ignored(fmt.Sprintf("pull request action %q is not used by berth", p.Action)), nil
	}
	ev := p.PullRequest.Event(action, p.Number, p.Repository, p.Sender.name())
	ev.PullRequest.Draft = ev.PullRequest.Draft || hasWIPPrefix(p.PullRequest.Title)
	return &sdk.ParseWebhookResponse{Event: ev}, nil
}

// hasWIPPrefix reports whether a title marks a work-in-progress pull
// request with one of Gitea's default prefixes.
func hasWIPPrefix(title string) bool {
	t := strings.ToLower(strings.TrimSpace(title))
	for _, p := range wipPrefixes {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}
