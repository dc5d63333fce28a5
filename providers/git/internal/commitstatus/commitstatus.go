// Package commitstatus checks the commit status requests berth's hosted
// git providers send, and builds the body GitHub and Gitea both document
// for POST /repos/{owner}/{repo}/statuses/{sha}: {state, target_url,
// description, context}. GitLab and Bitbucket build their own bodies from
// a checked Request.
package commitstatus

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/providers/git/internal/restapi"
	"github.com/berth-dev/berth/sdk"
)

// DefaultContext is the context of a status whose request names none.
const DefaultContext = "berth"

// Commit ids a host accepts.
var (
	// FullSHA matches a full SHA-1 or SHA-256 commit id (GitHub, Gitea).
	FullSHA = regexp.MustCompile(`^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$`)
	// Abbreviated matches a full or abbreviated lower-case commit id
	// (GitLab, Bitbucket).
	Abbreviated = regexp.MustCompile(`^[0-9a-f]{7,64}$`)
)

// Request is a checked commit status request.
type Request struct {
	// State is one of the sdk's four states.
	State sdk.CommitState
	// Commit is the commit id, as given.
	Commit string
	// Context is the request's context, trimmed, or DefaultContext.
	Context string
	// TargetURL is an http(s) URL, or "".
	TargetURL string
	// Description is the request's description, trimmed.
	Description string
}

// Check checks req: a commit id commit matches, one of the four states, an
// http(s) target URL or none. Errors wrap sdk.ErrInvalidArgument and start
// with provider.
func Check(provider string, req *sdk.SetCommitStatusRequest, commit *regexp.Regexp) (*Request, error) {
	if !commit.MatchString(req.Commit) {
		return nil, fmt.Errorf("%s: commit %q is not a commit id the host accepts: %w", provider, req.Commit, sdk.ErrInvalidArgument)
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
	return &Request{State: req.State, Commit: req.Commit, Context: name, TargetURL: req.TargetURL, Description: strings.TrimSpace(req.Description)}, nil
}

// Body is the JSON body of a GitHub or Gitea commit status request.
type Body struct {
	State       string `json:"state"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
	Context     string `json:"context"`
}

// New checks req (see Check; a full commit SHA) and returns its GitHub and
// Gitea body, with the description cut to descriptionLimit characters.
func New(provider string, req *sdk.SetCommitStatusRequest, descriptionLimit int) (*Body, error) {
	r, err := Check(provider, req, FullSHA)
	if err != nil {
		return nil, err
	}
	return &Body{
		State:       string(r.State),
		TargetURL:   r.TargetURL,
		Description: restapi.Truncate(r.Description, descriptionLimit),
		Context:     r.Context,
	}, nil
}
