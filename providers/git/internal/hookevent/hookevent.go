// Package hookevent builds the sdk's webhook events from git hosts'
// payloads: the parts hosts share (a push's changed paths, refs named
// refs/heads/... or refs/tags/..., label sets, ignored deliveries) and the
// repository and pull request objects of GitHub's payload format, which
// Gitea (and Forgejo) reproduce. Event names, actions, headers and
// signatures differ per host and stay in each provider.
package hookevent

import (
	"sort"
	"strings"

	"github.com/berth-dev/berth/sdk"
)

// Ignored is the answer to a delivery berth does not act on.
func Ignored(reason string) *sdk.ParseWebhookResponse {
	return &sdk.ParseWebhookResponse{Ignored: true, IgnoredReason: reason}
}

// SortedUnique sorts names (in place) and drops duplicates and empty
// names; nil when none is left.
func SortedUnique(names []string) []string {
	var out []string
	sort.Strings(names)
	for i, n := range names {
		if n != "" && (i == 0 || n != names[i-1]) {
			out = append(out, n)
		}
	}
	return out
}

// Commit is a commit of a push payload (GitHub, Gitea, GitLab) with the
// paths it changed.
type Commit struct {
	Added    []string `json:"added"`
	Modified []string `json:"modified"`
	Removed  []string `json:"removed"`
}

// ChangedPaths is every path the commits changed, sorted, once each; nil
// when none. Whether the payload listed every commit is for the caller to
// decide.
func ChangedPaths(commits []Commit) []string {
	var paths []string
	for _, c := range commits {
		paths = append(append(append(paths, c.Added...), c.Modified...), c.Removed...)
	}
	return SortedUnique(paths)
}

// SetRef sets the event's Ref and, by the ref's prefix, its Type and
// Branch (refs/heads/...: a push) or Tag (refs/tags/...). It reports
// false, leaving Type, Branch and Tag alone, for any other ref.
func SetRef(ev *sdk.WebhookEvent, ref string) bool {
	ev.Ref = ref
	if branch, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		ev.Type, ev.Branch = sdk.WebhookPush, branch
		return true
	}
	if tag, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		ev.Type, ev.Tag = sdk.WebhookTag, tag
		return true
	}
	return false
}

// Repository is the repository object of GitHub-format payloads.
type Repository struct {
	FullName string `json:"full_name"`
	CloneURL string `json:"clone_url"`
}

// PullRequest is the pull_request object of GitHub-format payloads.
type PullRequest struct {
	Number  int64  `json:"number"`
	HTMLURL string `json:"html_url"`
	Title   string `json:"title"`
	Draft   bool   `json:"draft"`
	Merged  bool   `json:"merged"`
	Labels  []struct {
		Name string `json:"name"`
	} `json:"labels"`
	Head struct {
		Ref  string      `json:"ref"`
		SHA  string      `json:"sha"`
		Repo *Repository `json:"repo"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

// Event is the sdk event of a pull request delivery on repo: action is
// berth's (opened, updated, closed, reopened), number the payload's
// top-level one (used when the object has none), sender who caused it.
func (pr *PullRequest) Event(action string, number int64, repo Repository, sender string) *sdk.WebhookEvent {
	if pr.Number != 0 {
		number = pr.Number
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
		Draft:      pr.Draft,
	}
	var labels []string
	for _, l := range pr.Labels {
		labels = append(labels, l.Name)
	}
	out.Labels = SortedUnique(labels)
	if pr.Head.Repo != nil {
		out.HeadRepository, out.HeadCloneURL = pr.Head.Repo.FullName, pr.Head.Repo.CloneURL
	}
	return &sdk.WebhookEvent{
		Type:        sdk.WebhookPullRequest,
		Repository:  repo.FullName,
		CloneURL:    repo.CloneURL,
		Ref:         "refs/heads/" + pr.Head.Ref,
		Branch:      pr.Head.Ref,
		Commit:      pr.Head.SHA,
		Sender:      sender,
		PullRequest: out,
	}
}
