package gitea

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/berth-dev/berth/providers/git/internal/hmacsig"
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

func ignored(reason string) *sdk.ParseWebhookResponse {
	return &sdk.ParseWebhookResponse{Ignored: true, IgnoredReason: reason}
}

// hookRepository is the repository of a webhook payload.
type hookRepository struct {
	FullName string `json:"full_name"`
	CloneURL string `json:"clone_url"`
}

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
	Ref          string `json:"ref"`
	Before       string `json:"before"`
	After        string `json:"after"`
	TotalCommits int    `json:"total_commits"`
	Commits      []struct {
		Added    []string `json:"added"`
		Removed  []string `json:"removed"`
		Modified []string `json:"modified"`
	} `json:"commits"`
	Repository hookRepository `json:"repository"`
	Sender     hookUser       `json:"sender"`
	Pusher     hookUser       `json:"pusher"`
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
		Ref:        p.Ref,
		Commit:     p.After,
		Before:     p.Before,
		Sender:     sender,
		Deleted:    isZero(p.After),
	}
	if ev.Deleted {
		ev.Commit = ""
	}
	if branch, ok := strings.CutPrefix(p.Ref, "refs/heads/"); ok {
		ev.Type, ev.Branch = sdk.WebhookPush, branch
	} else if tag, ok := strings.CutPrefix(p.Ref, "refs/tags/"); ok {
		ev.Type, ev.Tag = sdk.WebhookTag, tag
	} else {
		return ignored(fmt.Sprintf("push to %q, neither a branch nor a tag", p.Ref)), nil
	}
	if len(p.Commits) > 0 && p.TotalCommits <= len(p.Commits) && !ev.Deleted {
		var paths []string
		for _, c := range p.Commits {
			paths = append(append(append(paths, c.Added...), c.Modified...), c.Removed...)
		}
		ev.ChangedPaths = sortedUnique(paths)
	}
	return &sdk.ParseWebhookResponse{Event: ev}, nil
}

// deletePayload is a delete event: Ref is the short branch or tag name.
type deletePayload struct {
	Ref        string         `json:"ref"`
	RefType    string         `json:"ref_type"`
	Repository hookRepository `json:"repository"`
	Sender     hookUser       `json:"sender"`
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
	Action      string `json:"action"`
	Number      int64  `json:"number"`
	PullRequest struct {
		Number  int64  `json:"number"`
		HTMLURL string `json:"html_url"`
		Title   string `json:"title"`
		Draft   bool   `json:"draft"`
		Merged  bool   `json:"merged"`
		Labels  []struct {
			Name string `json:"name"`
		} `json:"labels"`
		Head struct {
			Ref  string          `json:"ref"`
			SHA  string          `json:"sha"`
			Repo *hookRepository `json:"repo"`
		} `json:"head"`
		Base struct {
			Ref string `json:"ref"`
		} `json:"base"`
	} `json:"pull_request"`
	Changes struct {
		Ref json.RawMessage `json:"ref"`
	} `json:"changes"`
	Repository hookRepository `json:"repository"`
	Sender     hookUser       `json:"sender"`
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
	pr := p.PullRequest
	number := pr.Number
	if number == 0 {
		number = p.Number
	}
	out := &sdk.PullRequest{
		Number:     number,
		Action:     action,
		Title:      pr.Title,
		HeadRef:    pr.Head.Ref,
		HeadCommit: pr.Head.SHA,
		BaseRef:    pr.Base.Ref,
		URL:        pr.HTMLURL,
		Merged:     pr.Merged,
		Draft:      pr.Draft || hasWIPPrefix(pr.Title),
	}
	var labels []string
	for _, l := range pr.Labels {
		labels = append(labels, l.Name)
	}
	out.Labels = sortedUnique(labels)
	if pr.Head.Repo != nil {
		out.HeadRepository, out.HeadCloneURL = pr.Head.Repo.FullName, pr.Head.Repo.CloneURL
	}
	return &sdk.ParseWebhookResponse{Event: &sdk.WebhookEvent{
		Type:        sdk.WebhookPullRequest,
		Repository:  p.Repository.FullName,
		CloneURL:    p.Repository.CloneURL,
		Ref:         "refs/heads/" + pr.Head.Ref,
		Branch:      pr.Head.Ref,
		Commit:      pr.Head.SHA,
		Sender:      p.Sender.name(),
		PullRequest: out,
	}}, nil
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

// sortedUnique sorts names and drops duplicates and empty names; nil when
// none is left.
func sortedUnique(names []string) []string {
	var out []string
	sort.Strings(names)
	for i, n := range names {
		if n != "" && (i == 0 || n != names[i-1]) {
			out = append(out, n)
		}
	}
	return out
}
