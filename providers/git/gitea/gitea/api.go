package gitea

import (
	"context"
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

// Pagination limits. Gitea serves at most MAX_RESPONSE_ITEMS (50 by
// default) items a page.
const (
	maxPageSize    = 50
	maxBranchPages = 200
)

// descriptionLimit bounds a commit status description. Gitea documents no
// limit (it stores TEXT); statuses are shown on one line, so berth keeps
// them short.
const descriptionLimit = 255

// apiRepository is a repository as the REST API returns it.
type apiRepository struct {
	FullName      string `json:"full_name"`
	CloneURL      string `json:"clone_url"`
	HTMLURL       string `json:"html_url"`
	DefaultBranch string `json:"default_branch"`
	Private       bool   `json:"private"`
}

// ListRepositories lists, a page at a time, the repositories of the
// token's user — owned, collaborations and organization teams — with GET
// /api/v1/user/repos?limit&page. NextPageToken is Gitea's rel="next" link,
// only ever followed on the connection's API root. Query filters each page
// by name, so a page may come back short, or empty with a next token.
func (p *Provider) ListRepositories(ctx context.Context, req *sdk.ListRepositoriesRequest) (*sdk.ListRepositoriesResponse, error) {
	c, err := p.connection(req.Credentials)
	if err != nil {
		return nil, err
	}
	if !c.authenticated() {
		return nil, fmt.Errorf("gitea: listing repositories needs an access token: %w", sdk.ErrUnauthenticated)
	}
	api := p.client(c)
	ref := req.PageToken
	if ref == "" {
		size := req.PageSize
		if size <= 0 || size > maxPageSize {
			size = maxPageSize
		}
		ref = "user/repos?" + url.Values{"limit": {strconv.Itoa(size)}, "page": {"1"}}.Encode()
	} else if u, err := api.Resolve(ref); err != nil || !strings.HasSuffix(u.Path, "/user/repos") {
		return nil, fmt.Errorf("gitea: page token %q is not a page of user/repos on %s: %w", ref, c.api.Redacted(), sdk.ErrInvalidArgument)
	}
	var repos []apiRepository
	resp, err := api.Do(ctx, http.MethodGet, ref, nil, &repos)
	if err != nil {
		return nil, fmt.Errorf("gitea: listing repositories: %w", err)
	}
	res := &sdk.ListRepositoriesResponse{Repositories: []sdk.Repository{}, NextPageToken: resp.Next}
	query := strings.ToLower(strings.TrimSpace(req.Query))
	for _, r := range repos {
		if query == "" || strings.Contains(strings.ToLower(r.FullName), query) {
			res.Repositories = append(res.Repositories, sdk.Repository{
				FullName: r.FullName, CloneURL: r.CloneURL, WebURL: r.HTMLURL, DefaultBranch: r.DefaultBranch, Private: r.Private,
			})
		}
	}
	return res, nil
}

// ListBranches lists every branch of a repository (GET
// /api/v1/repos/{owner}/{repo}/branches, following the Link header through
// all pages), sorted by name, marking the default branch (from GET
// /api/v1/repos/{owner}/{repo}).
func (p *Provider) ListBranches(ctx context.Context, req *sdk.ListBranchesRequest) (*sdk.ListBranchesResponse, error) {
	c, addr, err := p.repository(req.Credentials, req.Repository)
	if err != nil {
		return nil, err
	}
	api := p.client(c)
	var repo apiRepository
	if _, err := api.Do(ctx, http.MethodGet, repoPath(addr), nil, &repo); err != nil {
		return nil, fmt.Errorf("gitea: repository %s: %w", addr.FullName, err)
	}
	res := &sdk.ListBranchesResponse{Branches: []sdk.Branch{}}
	ref := repoPath(addr) + "/branches?" + url.Values{"limit": {strconv.Itoa(maxPageSize)}, "page": {"1"}}.Encode()
	type branch struct {
		Name   string `json:"name"`
		Commit struct {
			ID string `json:"id"`
		} `json:"commit"`
	}
	err = restapi.EachPage(ctx, api, ref, maxBranchPages, func(branches []branch) bool {
		for _, b := range branches {
			res.Branches = append(res.Branches, sdk.Branch{Name: b.Name, Commit: b.Commit.ID, Default: b.Name == repo.DefaultBranch})
		}
		return len(branches) > 0 // an empty page ends the listing, whatever the Link header says
	})
	if err != nil {
		return nil, fmt.Errorf("gitea: branches of %s: %w", addr.FullName, err)
	}
	sort.Slice(res.Branches, func(i, j int) bool { return res.Branches[i].Name < res.Branches[j].Name })
	return res, nil
}

// SetCommitStatus creates a commit status: POST
// /api/v1/repos/{owner}/{repo}/statuses/{sha} with {state, target_url,
// description, context}, the shape GitHub uses too. The context defaults
// to "berth".
func (p *Provider) SetCommitStatus(ctx context.Context, req *sdk.SetCommitStatusRequest) (*sdk.SetCommitStatusResponse, error) {
	c, addr, err := p.repository(req.Credentials, req.Repository)
	if err != nil {
		return nil, err
	}
	body, err := commitstatus.New("gitea", req, descriptionLimit)
	if err != nil {
		return nil, err
	}
	if !c.authenticated() {
		return nil, fmt.Errorf("gitea: setting a commit status needs an access token: %w", sdk.ErrUnauthenticated)
	}
	path := repoPath(addr) + "/statuses/" + strings.ToLower(req.Commit)
	if _, err := p.client(c).Do(ctx, http.MethodPost, path, body, nil); err != nil {
		return nil, fmt.Errorf("gitea: commit status on %s@%s: %w", addr.FullName, req.Commit, err)
	}
	return &sdk.SetCommitStatusResponse{}, nil
}
