package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/providers/git/internal/commitstatus"
	"github.com/berth-dev/berth/providers/git/internal/restapi"
	"github.com/berth-dev/berth/sdk"
)

// maxPageSize is the largest per_page GitLab accepts.
const maxPageSize = 100

// defaultPageSize is the page size of ListRepositories when none is asked.
const defaultPageSize = 50

// maxBranchPages bounds how many pages of branches ListBranches follows.
const maxBranchPages = 200

// descriptionLimit is the longest commit status description GitLab keeps.
const descriptionLimit = 255

// project is the part of GitLab's project object berth uses.
type project struct {
	PathWithNamespace string `json:"path_with_namespace"`
	WebURL            string `json:"web_url"`
	DefaultBranch     string `json:"default_branch"`
	Visibility        string `json:"visibility"`
}

// ListRepositories lists the projects the token's user is a member of
// (GET /projects?membership=true, archived ones left out), sorted by path,
// one page at a time. PageToken is GitLab's page number, from the
// X-Next-Page header; Query is GitLab's search, namespaces included.
func (p *Provider) ListRepositories(ctx context.Context, req *sdk.ListRepositoriesRequest) (*sdk.ListRepositoriesResponse, error) {
	conn, err := p.connect(req.Credentials)
	if err != nil {
		return nil, fmt.Errorf("gitlab: list repositories: %w", err)
	}
	page := "1"
	if req.PageToken != "" {
		if n, err := strconv.Atoi(req.PageToken); err != nil || n < 1 {
			return nil, fmt.Errorf("gitlab: list repositories: bad page token %q: %w", req.PageToken, sdk.ErrInvalidArgument)
		}
		page = req.PageToken
	}
	size := req.PageSize
	if size <= 0 {
		size = defaultPageSize
	}
	size = min(size, maxPageSize)
	q := url.Values{
		"membership": {"true"},
		"archived":   {"false"},
		"order_by":   {"path"},
		"sort":       {"asc"},
		"per_page":   {strconv.Itoa(size)},
		"page":       {page},
	}
	if req.Query != "" {
		q.Set("search", req.Query)
		q.Set("search_namespaces", "true")
	}
	var projects []project
	resp, err := conn.API.Get(ctx, "/projects", q, &projects)
	if err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	out := &sdk.ListRepositoriesResponse{NextPageToken: nextPage(resp.Header.Get("X-Next-Page"))}
	for _, pr := range projects {
		out.Repositories = append(out.Repositories, sdk.Repository{
			FullName:      pr.PathWithNamespace,
			CloneURL:      conn.Host.CloneURL(pr.PathWithNamespace),
			WebURL:        pr.WebURL,
			DefaultBranch: pr.DefaultBranch,
			Private:       pr.Visibility != "public",
		})
	}
	return out, nil
}

// nextPage validates an X-Next-Page value: a page number, or "" on the
// last page.
func nextPage(v string) string {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err != nil || n < 1 {
		return ""
	}
	return v
}

// ListBranches lists every branch of a project (following X-Next-Page),
// sorted by name, with the default branch marked.
func (p *Provider) ListBranches(ctx context.Context, req *sdk.ListBranchesRequest) (*sdk.ListBranchesResponse, error) {
	conn, ref, err := p.repository(req.Credentials, req.Repository, "list branches")
	if err != nil {
		return nil, err
	}
	base := "/projects/" + projectPath(ref.FullName) + "/repository/branches"
	out := &sdk.ListBranchesResponse{}
	anyDefault := false
	page := "1"
	for range maxBranchPages {
		var branches []struct {
			Name    string `json:"name"`
			Default bool   `json:"default"`
			Commit  struct {
				ID string `json:"id"`
			} `json:"commit"`
		}
		q := url.Values{"per_page": {strconv.Itoa(maxPageSize)}, "page": {page}}
		resp, err := conn.API.Get(ctx, base, q, &branches)
		if err != nil {
			return nil, fmt.Errorf("list branches of %s: %w", ref.FullName, err)
		}
		for _, b := range branches {
			out.Branches = append(out.Branches, sdk.Branch{Name: b.Name, Commit: b.Commit.ID, Default: b.Default})
			anyDefault = anyDefault || b.Default
		}
		if page = nextPage(resp.Header.Get("X-Next-Page")); page == "" {
			break
		}
	}
	if !anyDefault && len(out.Branches) > 0 {
		// Instances older than the branches' "default" field: ask the
		// project.
		var pr project
		if _, err := conn.API.Get(ctx, "/projects/"+projectPath(ref.FullName), nil, &pr); err != nil {
			return nil, fmt.Errorf("reading the default branch of %s: %w", ref.FullName, err)
		}
		for i := range out.Branches {
			out.Branches[i].Default = out.Branches[i].Name == pr.DefaultBranch
		}
	}
	sort.Slice(out.Branches, func(i, j int) bool { return out.Branches[i].Name < out.Branches[j].Name })
	return out, nil
}

// gitlabStates maps berth's commit states to GitLab's.
var gitlabStates = map[sdk.CommitState]string{
	sdk.CommitPending: "pending", sdk.CommitSuccess: "success", sdk.CommitFailure: "failed", sdk.CommitError: "failed",
}

// commitStatus is the body of POST /projects/:id/statuses/:sha.
type commitStatus struct {
	State       string `json:"state"`
	Name        string `json:"name"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
}

// SetCommitStatus sets a commit status (POST /projects/:id/statuses/:sha)
// named after req.Context ("berth" when empty). GitLab refuses to set a
// status to the state it already has (400 "Cannot transition status via
// :enqueue from :pending"); that answer counts as success.
func (p *Provider) SetCommitStatus(ctx context.Context, req *sdk.SetCommitStatusRequest) (*sdk.SetCommitStatusResponse, error) {
	status, err := commitstatus.Check("gitlab: set commit status", req, commitstatus.Abbreviated)
	if err != nil {
		return nil, err
	}
	state := gitlabStates[status.State]
	conn, ref, err := p.repository(req.Credentials, req.Repository, "set commit status")
	if err != nil {
		return nil, err
	}
	body := commitStatus{
		State:       state,
		Name:        status.Context,
		TargetURL:   status.TargetURL,
		Description: restapi.Truncate(status.Description, descriptionLimit),
	}
	_, err = conn.API.Do(ctx, http.MethodPost, "/projects/"+projectPath(ref.FullName)+"/statuses/"+req.Commit, body, nil)
	var apiErr *restapi.Error
	if errors.As(err, &apiErr) && apiErr.Status == 400 && alreadyInState(apiErr.Message, state) {
		return &sdk.SetCommitStatusResponse{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("set commit status on %s@%s: %w", ref.FullName, req.Commit, err)
	}
	return &sdk.SetCommitStatusResponse{}, nil
}

// alreadyInState reports whether GitLab refused a status because it
// already is in state: "Cannot transition status via :enqueue from
// :pending (...)".
func alreadyInState(message, state string) bool {
	return strings.Contains(message, "Cannot transition status via") && strings.Contains(message+" ", "from :"+state+" ")
}
