package github

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

// Webhook headers GitHub sends.
const (
	headerEvent     = "X-GitHub-Event"
	headerSignature = "X-Hub-Signature-256"
)

// maxPushCommits is the most commits GitHub lists in a push payload; a
// push listing that many may have had more, so its changed paths are
// unknown.
const maxPushCommits = 2048

// zeroSHA is the "after" of a deleted ref.
var zeroSHA = strings.Repeat("0", 40)

// ParseWebhook verifies a GitHub webhook delivery and parses it.
//
// The X-Hub-Signature-256 header must be "sha256=" and the hex
// HMAC-SHA256 of the raw body keyed with the secret (compared in constant
// time); a missing or wrong signature, or an empty secret, is an error
// wrapping sdk.ErrUnauthenticated. Then, by X-GitHub-Event:
//
//   - push: a branch push (Type push, Deleted when the branch was deleted)
//     or a tag push (Type tag);
//   - pull_request: opened and reopened; synchronize, labeled, unlabeled,
//     ready_for_review, converted_to_draft and base branch edits as
//     "updated"; closed (Merged when merged). Other actions are ignored;
//   - ping and every other event: ignored, with the reason.
func (p *Provider) ParseWebhook(_ context.Context, req *sdk.ParseWebhookRequest) (*sdk.ParseWebhookResponse, error) {
	if req.Secret == "" {
		return nil, fmt.Errorf("github webhook: no secret is configured; unsigned deliveries are refused: %w", sdk.ErrUnauthenticated)
	}
	sig := req.Header.Get(headerSignature)
	if sig == "" {
		return nil, fmt.Errorf("github webhook: no %s header (set the webhook's secret on GitHub): %w", headerSignature, sdk.ErrUnauthenticated)
	}
	if !hmacsig.ValidPrefixed(req.Secret, req.Body, sig) {
		return nil, fmt.Errorf("github webhook: the %s signature does not match the body and secret: %w", headerSignature, sdk.ErrUnauthenticated)
	}
	event := req.Header.Get(headerEvent)
	if event == "" {
		return nil, fmt.Errorf("github webhook: no %s header: %w", headerEvent, sdk.ErrInvalidArgument)
	}
	if event != "push" && event != "pull_request" {
		reason := fmt.Sprintf("GitHub %q events are not used by berth", event)
		if event == "ping" {
			reason = "ping: GitHub checked that the webhook works"
		}
		return ignored(reason), nil
	}
	if body := bytes.TrimSpace(req.Body); !bytes.HasPrefix(body, []byte("{")) {
		return nil, fmt.Errorf("github webhook: the %s payload is not JSON (set the webhook's content type to application/json): %w", event, sdk.ErrInvalidArgument)
	}
	if event == "push" {
		return parsePush(req.Body)
	}
	return parsePullRequest(req.Body)
}

// ignored is the answer to a delivery berth does not act on.
var ignored = hookevent.Ignored

// hookUser is the sender of a webhook payload.
type hookUser struct {
	Login string `json:"login"`
}

// pushPayload is the part of a push event berth uses.
type pushPayload struct {
	Ref        string               `json:"ref"`
	Before     string               `json:"before"`
	After      string               `json:"after"`
	Deleted    bool                 `json:"deleted"`
	Commits    []hookevent.Commit   `json:"commits"`
	Repository hookevent.Repository `json:"repository"`
	Sender     hookUser             `json:"sender"`
}

func parsePush(body []byte) (*sdk.ParseWebhookResponse, error) {
	var p pushPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("github webhook: malformed push payload: %v: %w", err, sdk.ErrInvalidArgument)
	}
	ev := &sdk.WebhookEvent{
		Repository: p.Repository.FullName,
		CloneURL:   p.Repository.CloneURL,
		Commit:     p.After,
		Before:     p.Before,
		Sender:     p.Sender.Login,
		Deleted:    p.Deleted || p.After == zeroSHA,
	}
	if ev.Deleted {
		ev.Commit = ""
	}
	if !hookevent.SetRef(ev, p.Ref) {
		return ignored(fmt.Sprintf("push to %q, neither a branch nor a tag", p.Ref)), nil
	}
	if len(p.Commits) < maxPushCommits && !ev.Deleted {
		ev.ChangedPaths = hookevent.ChangedPaths(p.Commits)
	}
	return &sdk.ParseWebhookResponse{Event: ev}, nil
}

// pullRequestPayload is the part of a pull_request event berth uses.
type pullRequestPayload struct {
	Action      string                `json:"action"`
	Number      int64                 `json:"number"`
	PullRequest hookevent.PullRequest `json:"pull_request"`
	Changes     struct {
		Base json.RawMessage `json:"base"`
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
	case "synchronize", "labeled", "unlabeled", "ready_for_review", "converted_to_draft":
		return "updated", true
	case "edited":
		// Only a new base branch changes what would be deployed.
		return "updated", len(p.Changes.Base) > 0 && string(p.Changes.Base) != "null"
	}
	return "", false
}

func parsePullRequest(body []byte) (*sdk.ParseWebhookResponse, error) {
	var p pullRequestPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("github webhook: malformed pull_request payload: %v: %w", err, sdk.ErrInvalidArgument)
	}
	action, ok := pullRequestAction(&p)
	if !ok {
		return ignored(fmt.Sprintf("pull request action %q is not used by berth", p.Action)), nil
	}
	return &sdk.ParseWebhookResponse{Event: p.PullRequest.Event(action, p.Number, p.Repository, p.Sender.Login)}, nil
}
