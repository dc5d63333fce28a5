package gitlab

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/providers/git/internal/hmacsig"
	"github.com/berth-dev/berth/providers/git/internal/hookevent"
	"github.com/berth-dev/berth/sdk"
)

// signingTokenPrefix starts a GitLab webhook signing token. A secret with
// this prefix is verified as a signature; any other as the secret token.
const signingTokenPrefix = "whsec_"

// signatureTolerance is how far a signed webhook's timestamp may be from
// now: older deliveries are refused as replays.
const signatureTolerance = 5 * time.Minute

// zeroCommit is the commit id GitLab sends for a deleted branch or tag.
const zeroCommit = "0000000000000000000000000000000000000000"

// ParseWebhook verifies a GitLab webhook against req.Secret and parses
// push, tag push and merge request events (also when they come as system
// hooks). Verification follows GitLab:
//
//   - a secret starting with "whsec_" is a signing token: the request must
//     carry webhook-id, webhook-timestamp (within five minutes) and
//     webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>";
//   - any other secret is the secret token, which GitLab sends as is in
//     X-Gitlab-Token (it does not cover the body: prefer a signing token
//     where the instance offers one).
//
// Comparisons are constant-time. Failures wrap sdk.ErrUnauthenticated.
func (p *Provider) ParseWebhook(_ context.Context, req *sdk.ParseWebhookRequest) (*sdk.ParseWebhookResponse, error) {
	if err := verify(req.Header, req.Body, req.Secret); err != nil {
		return nil, fmt.Errorf("gitlab: webhook: %w", err)
	}
	event := req.Header.Get("X-Gitlab-Event")
	if event == "" {
		return nil, fmt.Errorf("gitlab: webhook: no X-Gitlab-Event header: %w", sdk.ErrInvalidArgument)
	}
	var kind struct {
		ObjectKind string `json:"object_kind"`
	}
	if err := json.Unmarshal(req.Body, &kind); err != nil {
		return nil, fmt.Errorf("gitlab: webhook %q: the body is not valid JSON: %v: %w", event, err, sdk.ErrInvalidArgument)
	}
	objectKind := map[string]string{
		"Push Hook":          "push",
		"Tag Push Hook":      "tag_push",
		"Merge Request Hook": "merge_request",
	}[event]
	if event == "System Hook" {
		// Instance-wide hooks send the project payloads under one event name.
		objectKind = kind.ObjectKind
	}
	var (
		ev      *sdk.WebhookEvent
		ignored string
		err     error
	)
	switch objectKind {
	case "push", "tag_push":
		ev, err = parsePush(req.Body)
	case "merge_request":
		ev, ignored, err = parseMergeRequest(req.Body)
	default:
		ignored = fmt.Sprintf("GitLab event %q is not used by berth", event)
	}
	if err != nil {
		return nil, fmt.Errorf("gitlab: webhook %q: %w", event, err)
	}
	if ignored != "" {
		return hookevent.Ignored(ignored), nil
	}
	return &sdk.ParseWebhookResponse{Event: ev}, nil
}

// verify checks a webhook's secret token or signature.
func verify(h http.Header, body []byte, secret string) error {
	unauthenticated := func(why string) error { return fmt.Errorf("%s: %w", why, sdk.ErrUnauthenticated) }
	if secret == "" {
		return unauthenticated("no webhook secret is configured, so the request cannot be verified")
	}
	if !strings.HasPrefix(secret, signingTokenPrefix) {
		token := h.Get("X-Gitlab-Token")
		if token == "" {
			return unauthenticated("the request has no X-Gitlab-Token header (set the secret token on the GitLab webhook)")
		}
		if !hmacsig.EqualSecrets(token, secret) {
			return unauthenticated("X-Gitlab-Token does not match the webhook secret")
		}
		return nil
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, signingTokenPrefix))
	if err != nil || len(key) == 0 {
		return unauthenticated("the webhook secret starts with whsec_ but is not a base64 signing token")
	}
	id, ts, signatures := h.Get("Webhook-Id"), h.Get("Webhook-Timestamp"), h.Get("Webhook-Signature")
	if id == "" || ts == "" || signatures == "" {
		return unauthenticated("the request is not signed (webhook-id, webhook-timestamp and webhook-signature headers expected: set the signing token on the GitLab webhook)")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return unauthenticated("webhook-timestamp is not a Unix time")
	}
	if d := time.Since(time.Unix(sec, 0)); d > signatureTolerance || d < -signatureTolerance {
		return unauthenticated(fmt.Sprintf("webhook-timestamp is %s away from now (more than %s: a replay or a skewed clock)", d.Abs().Round(time.Second), signatureTolerance))
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	for _, sig := range strings.Fields(signatures) {
		version, value, ok := strings.Cut(sig, ",")
		if ok && version == "v1" && hmac.Equal([]byte(value), want) {
			return nil
		}
	}
	return unauthenticated("webhook-signature does not match the body and the signing token")
}

// hookProject is the project object of GitLab's webhook payloads.
type hookProject struct {
	PathWithNamespace string `json:"path_with_namespace"`
	GitHTTPURL        string `json:"git_http_url"`
}

// pushPayload is the part of a push or tag push event berth uses.
type pushPayload struct {
	Before            string             `json:"before"`
	After             string             `json:"after"`
	Ref               string             `json:"ref"`
	UserUsername      string             `json:"user_username"`
	Project           hookProject        `json:"project"`
	TotalCommitsCount int                `json:"total_commits_count"`
	Commits           []hookevent.Commit `json:"commits"`
}

// parsePush parses a push or tag push event. ChangedPaths is left nil when
// the payload does not list every commit (GitLab sends at most 20), so that
// a watch-path filter never skips a change it cannot see.
func parsePush(body []byte) (*sdk.WebhookEvent, error) {
	var p pushPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("the body is not a push event: %v: %w", err, sdk.ErrInvalidArgument)
	}
	ev := &sdk.WebhookEvent{
		Type:       sdk.WebhookPush,
		Repository: p.Project.PathWithNamespace,
		CloneURL:   p.Project.GitHTTPURL,
		Commit:     p.After,
		Before:     p.Before,
		Sender:     p.UserUsername,
		Deleted:    p.After == zeroCommit,
	}
	if ev.Before == zeroCommit {
		ev.Before = ""
	}
	if ev.Deleted {
		ev.Commit = ""
	}
	if !hookevent.SetRef(ev, p.Ref) {
		return nil, fmt.Errorf("ref %q is neither a branch nor a tag: %w", p.Ref, sdk.ErrInvalidArgument)
	}
	if ev.Type == sdk.WebhookPush && !ev.Deleted && len(p.Commits) >= p.TotalCommitsCount {
		ev.ChangedPaths = hookevent.ChangedPaths(p.Commits)
	}
	return ev, nil
}

// mergeRequestPayload is the part of a merge request event berth uses.
type mergeRequestPayload struct {
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	Project          hookProject `json:"project"`
	ObjectAttributes struct {
		IID            int64       `json:"iid"`
		Title          string      `json:"title"`
		SourceBranch   string      `json:"source_branch"`
		TargetBranch   string      `json:"target_branch"`
		State          string      `json:"state"`
		Action         string      `json:"action"`
		URL            string      `json:"url"`
		Draft          bool        `json:"draft"`
		WorkInProgress bool        `json:"work_in_progress"`
		Source         hookProject `json:"source"`
		LastCommit     struct {
			ID string `json:"id"`
		} `json:"last_commit"`
		Labels []hookLabel `json:"labels"`
	} `json:"object_attributes"`
	Labels []hookLabel `json:"labels"`
}

// hookLabel is a label of a merge request.
type hookLabel struct {
	Title string `json:"title"`
}

// mergeRequestActions maps GitLab's merge request actions to berth's. A
// label change comes as "update", like new commits.
var mergeRequestActions = map[string]string{
	"open":   "opened",
	"reopen": "reopened",
	"update": "updated",
	"close":  "closed",
	"merge":  "closed",
}

// parseMergeRequest parses a merge request event; actions berth has no
// use for (approvals) are ignored with a reason.
func parseMergeRequest(body []byte) (*sdk.WebhookEvent, string, error) {
	var p mergeRequestPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, "", fmt.Errorf("the body is not a merge request event: %v: %w", err, sdk.ErrInvalidArgument)
	}
	a := p.ObjectAttributes
	action, ok := mergeRequestActions[a.Action]
	if !ok {
		return nil, fmt.Sprintf("merge request action %q is not used by berth", a.Action), nil
	}
	labels := p.Labels
	if labels == nil {
		labels = a.Labels
	}
	var names []string
	for _, l := range labels {
		names = append(names, l.Title)
	}
	headRepo := a.Source.PathWithNamespace
	headClone := a.Source.GitHTTPURL
	if headRepo == "" {
		headRepo, headClone = p.Project.PathWithNamespace, p.Project.GitHTTPURL
	}
	return &sdk.WebhookEvent{
		Type:       sdk.WebhookPullRequest,
		Repository: p.Project.PathWithNamespace,
		CloneURL:   p.Project.GitHTTPURL,
		Ref:        "refs/heads/" + a.SourceBranch,
		Branch:     a.SourceBranch,
		Commit:     a.LastCommit.ID,
		Sender:     p.User.Username,
		PullRequest: &sdk.PullRequest{
			Number:         a.IID,
			Action:         action,
			Title:          a.Title,
			HeadRef:        a.SourceBranch,
			HeadCommit:     a.LastCommit.ID,
			BaseRef:        a.TargetBranch,
			URL:            a.URL,
			Labels:         hookevent.SortedUnique(names),
			HeadRepository: headRepo,
			HeadCloneURL:   headClone,
			Merged:         a.Action == "merge" || a.State == "merged",
			Draft:          a.Draft || a.WorkInProgress,
		},
	}, "", nil
}
