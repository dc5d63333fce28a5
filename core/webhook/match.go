package webhook

import "strings"

// branchName strips refs/heads/ from a ref.
func branchName(ref string) string { return strings.TrimPrefix(ref, "refs/heads/") }

// PR actions after normalisation.
const (
	actionOpen    = "open"
	actionUpdate  = "update"
	actionClose   = "close"
	actionLabel   = "label"
	actionIgnored = ""
)

// normaliseAction maps the providers' pull request actions (GitHub,
// Gitea, GitLab, Bitbucket spellings, and the SDK's normalised
// opened|updated|closed|reopened) onto what berth does with them.
func normaliseAction(action string) string {
	switch strings.ToLower(action) {
	case "opened", "open", "reopened", "reopen", "created":
		return actionOpen
	case "updated", "update", "synchronize", "synchronized", "ready_for_review":
		return actionUpdate
	case "closed", "close", "merged", "merge", "declined", "fulfilled", "rejected":
		return actionClose
	case "labeled", "unlabeled", "label_updated", "label_cleared":
		return actionLabel
	}
	return actionIgnored
}
