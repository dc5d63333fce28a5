package bitbucket

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/berth-dev/berth/providers/git/internal/hmacsig"
	"github.com/berth-dev/berth/providers/git/internal/hookevent"
	"github.com/berth-dev/berth/sdk"
)

// ParseWebhook verifies a Bitbucket Cloud webhook against req.Secret and
// parses repo:push and pull request events. Bitbucket signs the body with
// the webhook's secret: X-Hub-Signature "sha256=<hex HMAC-SHA256>",
// compared in constant time; a missing or wrong signature, or no secret,
// is an error wrapping sdk.ErrUnauthenticated. The event is X-Event-Key.
func (p *Provider) ParseWebhook(_ context.Context, req *sdk.ParseWebhookRequest) (*sdk.ParseWebhookResponse, error) {
	if err := verify(req.Header, req.Body, req.Secret); err != nil {
		return nil, fmt.Errorf("bitbucket: webhook: %w", err)
	}
	event := req.Header.Get("X-Event-Key")
	if event == "" {
		return nil, fmt.Errorf("bitbucket: webhook: no X-Event-Key header: %w", sdk.ErrInvalidArgument)
	}
	if !json.Valid(req.Body) {
		return nil, fmt.Errorf("bitbucket: webhook %q: the body is not valid JSON: %w", event, sdk.ErrInvalidArgument)
	}
	var (
		ev      *sdk.WebhookEvent
		ignored string
		err     error
	)
	switch {
	case event == "repo:push":
		ev, ignored, err = parsePush(req.Body)
	case pullRequestActions[event] != "":
		ev, err = parsePullRequest(event, req.Body)
	case event == "diagnostics:ping":
		ignored = "ping"
	default:
		ignored = fmt.Sprintf("Bitbucket event %q is not used by berth", event)
	}
	if err != nil {
		return nil, fmt.Errorf("bitbucket: webhook %q: %w", event, err)
	}
	if ignored != "" {
		return hookevent.Ignored(ignored), nil
	}
	return &sdk.ParseWebhookResponse{Event: ev}, nil
}

// verify checks X-Hub-Signature.
func verify(h http.Header, body []byte, secret string) error {
	unauthenticated := func(why string) error { return fmt.Errorf("%s: %w", why, sdk.ErrUnauthenticated) }
	if secret == "" {
		return unauthenticated("no webhook secret is configured, so the request cannot be verified")
	}
	sig := h.Get("X-Hub-Signature")
	if sig == "" {
		return unauthenticated("the request has no X-Hub-Signature header (set the secret on the Bitbucket webhook)")
	}
	hexSum, ok := strings.CutPrefix(sig, "sha256=")
	if _, err := hex.DecodeString(hexSum); !ok || err != nil {
		return unauthenticated("X-Hub-Signature is not sha256=<hex>")
	}
	if !hmacsig.ValidHex(secret, body, hexSum) {
		return unauthenticated("X-Hub-Signature does not match the body and the webhook secret")
	}
	return nil
}

// hookRepository is a repository object of Bitbucket's webhook payloads.
type hookRepository struct {
	FullName string `json:"full_name"`
	Links    struct {
		HTML link `json:"html"`
	} `json:"links"`
}

// cloneURL is the https clone URL of a webhook's repository.
func (r hookRepository) cloneURL() string {
	if r.Links.HTML.Href == "" {
		return ""
	}
	return strings.TrimSuffix(r.Links.HTML.Href, "/") + ".git"
}

// hookActor is the account that caused an event.
type hookActor struct {
	Nickname    string `json:"nickname"`
	DisplayName string `json:"display_name"`
}

func (a hookActor) name() string {
	if a.Nickname != "" {
		return a.Nickname
	}
	return a.DisplayName
}

// hookRef is the old or new state of a ref in a push.
type hookRef struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Target struct {
		Hash string `json:"hash"`
	} `json:"target"`
}

// pushPayload is the part of a repo:push event berth uses.
type pushPayload struct {
	Actor      hookActor      `json:"actor"`
	Repository hookRepository `json:"repository"`
	Push       struct {
		Changes []struct {
			New    *hookRef `json:"new"`
			Old    *hookRef `json:"old"`
			Closed bool     `json:"closed"`
		} `json:"changes"`
	} `json:"push"`
}

// parsePush parses a repo:push event. A push that updates several refs
// lists one change each; the event describes the first. Bitbucket's
// payload lists no files, so ChangedPaths stays nil (unknown).
func parsePush(body []byte) (*sdk.WebhookEvent, string, error) {
	var p pushPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, "", fmt.Errorf("the body is not a push event: %v: %w", err, sdk.ErrInvalidArgument)
	}
	if len(p.Push.Changes) == 0 {
		return nil, "a push without changes", nil
	}
	change := p.Push.Changes[0]
	ref := change.New
	if ref == nil {
		ref = change.Old
	}
	if ref == nil {
		return nil, "", fmt.Errorf("a push change has neither a new nor an old ref: %w", sdk.ErrInvalidArgument)
	}
	ev := &sdk.WebhookEvent{
		Type:       sdk.WebhookPush,
		Repository: p.Repository.FullName,
		CloneURL:   p.Repository.cloneURL(),
		Sender:     p.Actor.name(),
		Deleted:    change.New == nil,
	}
	if change.New != nil {
		ev.Commit = change.New.Target.Hash
	}
	if change.Old != nil {
		ev.Before = change.Old.Target.Hash
	}
	switch ref.Type {
	case "branch", "named_branch":
		ev.Ref, ev.Branch = "refs/heads/"+ref.Name, ref.Name
	case "tag", "annotated_tag":
		ev.Type, ev.Ref, ev.Tag = sdk.WebhookTag, "refs/tags/"+ref.Name, ref.Name
	default:
		return nil, fmt.Sprintf("push of a %q ref", ref.Type), nil
	}
	return ev, "", nil
}

// pullRequestActions maps Bitbucket's pull request events to berth's
// actions. Bitbucket pull requests have no labels.
var pullRequestActions = map[string]string{
	"pullrequest:created":   "opened",
	"pullrequest:updated":   "updated",
	"pullrequest:fulfilled": "closed",
	"pullrequest:rejected":  "closed",
}

// pullRequestPayload is the part of a pull request event berth uses.
type pullRequestPayload struct {
	Actor       hookActor      `json:"actor"`
	Repository  hookRepository `json:"repository"`
	PullRequest struct {
		ID     int64  `json:"id"`
		Title  string `json:"title"`
		State  string `json:"state"`
		Draft  bool   `json:"draft"`
		Source struct {
			Branch struct {
				Name string `json:"name"`
			} `json:"branch"`
			Commit struct {
				Hash string `json:"hash"`
			} `json:"commit"`
			Repository hookRepository `json:"repository"`
		} `json:"source"`
		Destination struct {
			Branch struct {
				Name string `json:"name"`
			} `json:"branch"`
		} `json:"destination"`
		Links struct {
			HTML link `json:"html"`
		} `json:"links"`
	} `json:"pullrequest"`
}

// parsePullRequest parses a pull request event. Bitbucket gives the head
// commit abbreviated (12 hex digits), as HeadCommit and Commit carry it.
func parsePullRequest(event string, body []byte) (*sdk.WebhookEvent, error) {
	var p pullRequestPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("the body is not a pull request event: %v: %w", err, sdk.ErrInvalidArgument)
	}
	pr := p.PullRequest
	head := pr.Source.Repository
	if head.FullName == "" {
		head = p.Repository
	}
	return &sdk.WebhookEvent{
		Type:       sdk.WebhookPullRequest,
		Repository: p.Repository.FullName,
		CloneURL:   p.Repository.cloneURL(),
		Ref:        "refs/heads/" + pr.Source.Branch.Name,
		Branch:     pr.Source.Branch.Name,
		Commit:     pr.Source.Commit.Hash,
		Sender:     p.Actor.name(),
		PullRequest: &sdk.PullRequest{
			Number:         pr.ID,
			Action:         pullRequestActions[event],
			Title:          pr.Title,
			HeadRef:        pr.Source.Branch.Name,
			HeadCommit:     pr.Source.Commit.Hash,
			BaseRef:        pr.Destination.Branch.Name,
			URL:            pr.Links.HTML.Href,
			HeadRepository: head.FullName,
			HeadCloneURL:   head.cloneURL(),
			Merged:         event == "pullrequest:fulfilled" || pr.State == "MERGED",
			Draft:          pr.Draft,
		},
	}, nil
}
