// Package commitstatus checks the commit status requests berth's hosted
// git providers (GitHub, Gitea) send and builds the body both hosts
// document for POST /repos/{owner}/{repo}/statuses/{sha}: {state,
// target_url, description, context}.
package commitstatus

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/sdk"
)

// DefaultContext is the context of a status whose request names none.
const DefaultContext = "berth"

// Body is the JSON body of a commit status request.
type Body struct {
	State       string `json:"state"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
	Context     string `json:"context"`
}

// fullSHA matches a full SHA-1 or SHA-256 commit id.
var fullSHA = regexp.MustCompile(`^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$`)

// New checks req (a full commit SHA, one of the four states, an http(s)
// target URL or none) and returns its body, with the description cut to
// descriptionLimit characters and the context defaulting to
// DefaultContext. Errors wrap sdk.ErrInvalidArgument and start with
// provider.
func New(provider string, req *sdk.SetCommitStatusRequest, descriptionLimit int) (*Body, error) {
	if !fullSHA.MatchString(req.Commit) {
		return nil, fmt.Errorf("%s: commit %q is not a full commit SHA: %w", provider, req.Commit, sdk.ErrInvalidArgument)
	}
	switch req.State {
	case sdk.CommitPending, sdk.CommitSuccess, sdk.CommitFailure, sdk.CommitError:
	default:
		return nil, fmt.Errorf("%s: unknown commit state %q (want pending, success, failure or error): %w", provider, req.State, sdk.ErrInvalidArgument)
	}
	if req.TargetURL != "" {
		if u, err := url.Parse(req.TargetURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s: target URL %q is not an http(s) URL: %w", provider, req.TargetURL, sdk.ErrInvalidArgument)
		}
	}
	name := strings.TrimSpace(req.Context)
	if name == "" {
		name = DefaultContext
	}
	return &Body{
		State:       string(req.State),
		TargetURL:   req.TargetURL,
		Description: Truncate(req.Description, descriptionLimit),
		Context:     name,
	}, nil
}

// Truncate trims s and cuts it to at most n characters (not bytes), ending
// with "…" when cut.
func Truncate(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n || n < 1 {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}
