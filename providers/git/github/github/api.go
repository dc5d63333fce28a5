package github

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

// Pagination limits. GitHub serves at most 100 items a page.
const (
	maxPageSize    = 100
	maxBranchPages = 100
)

// descriptionLimit is GitHub's limit on a commit status description, in
// characters.
const descriptionLimit = 140

// apiRepository is a repository as the REST API returns it.
type apiRepository struct {
	FullName      string `json:"full_name"`
	CloneURL      string `json:"clone_url"`
	HTMLURL       string `json:"html_url"`
	DefaultBranch string `json:"default_branch"`
	Private       bool   `json:"private"`
}

func (r apiRepository) sdk() sdk.Repository {
	return sdk.Repository{FullName: r.FullName, CloneURL: r.CloneURL, WebURL: r.HTMLURL, DefaultBranch: r.DefaultBranch, Private: r.Private}
}

// ListRepositories lists, a page at a time, the repositories the
// connection can see: GET /user/repos for a token (owned, collaborator and
// organization repositories, sorted by full name), GET
// /installation/repositories for a GitHub App. NextPageToken is GitHub's
// rel="next" link, only ever followed on the connection's API root. Query
// filters each page by name (GitHub's listing has no filter), so a page may
// come back short, or empty with a next token.
func (p *Provider) ListRepositories(ctx context.Context, req *sdk.ListRepositoriesRequest) (*sdk.ListRepositoriesResponse, error) {
	c, err := p.connection(req.Credentials)
	if err != nil {
		return nil, err
	}
	api, tok, err := p.authorized(ctx, c)
	if err != nil {
		return nil, err
	}
	if tok == "" {
		return nil, fmt.Errorf("github: listing repositories needs a token or GitHub App credentials: %w", sdk.ErrUnauthenticated)
	}
	endpoint := "user/repos"
	if c.creds.App != nil {
		endpoint = "installation/repositories"
	}
	ref := req.PageToken
	if ref == "" {
		size := req.PageSize
		if size <= 0 || size > maxPageSize {
			size = maxPageSize
		}
		q := url.Values{"per_page": {strconv.Itoa(size)}}
		if c.creds.App == nil {
			q.Set("sort", "full_name")
			q.Set("direction", "asc")
		}
		ref = endpoint + "?" + q.Encode()
	} else if u, err := api.Resolve(ref); err != nil || !strings.HasSuffix(u.Path, "/"+endpoint) {
		return nil, fmt.Errorf("github: page token %q is not a page of %s on %s: %w", ref, endpoint, c.api.Redacted(), sdk.ErrInvalidArgument)
	}

	var repos []apiRepository
	var out any = &repos
	var installation struct {
		Repositories []apiRepository `json:"repositories"`
	}
	if c.creds.App != nil {
		out = &installation
	}
	resp, err := api.Do(ctx, http.MethodGet, ref, nil, out)
	if err != nil {
		p.forgetOnReject(c, err)
		return nil, fmt.Errorf("github: listing repositories: %w", err)
	}
	if c.creds.App != nil {
		repos = installation.Repositories
	}
	res := &sdk.ListRepositoriesResponse{Repositories: []sdk.Repository{}, NextPageToken: resp.Next}
	query := strings.ToLower(strings.TrimSpace(req.Query))
	for _, r := range repos {
		if query == "" || strings.Contains(strings.ToLower(r.FullName), query) {
			res.Repositories = append(res.Repositories, r.sdk())
		}
	}
	return res, nil
}

// ListBranches lists every branch of a repository (GET
// /repos/{owner}/{repo}/branches, following the Link header through all
// pages), sorted by name, marking the default branch (from GET
// /repos/{owner}/{repo}).
func (p *Provider) ListBranches(ctx context.Context, req *sdk.ListBranchesRequest) (*sdk.ListBranchesResponse, error) {
	c, addr, err := p.repository(req.Credentials, req.Repository)
	if err != nil {
		return nil, err
	}
	api, _, err := p.authorized(ctx, c)
	if err != nil {
		return nil, err
	}
	repoPath := "repos/" + url.PathEscape(addr.Owner) + "/" + url.PathEscape(addr.Name)
	var repo apiRepository
	if _, err := api.Do(ctx, http.MethodGet, repoPath, nil, &repo); err != nil {
		p.forgetOnReject(c, err)
		return nil, fmt.Errorf("github: repository %s: %w", addr.FullName, err)
	}
	res := &sdk.ListBranchesResponse{Branches: []sdk.Branch{}}
	ref := repoPath + "/branches?per_page=" + strconv.Itoa(maxPageSize)
	type branch struct {
		Name   string `json:"name"`
		Commit struct {
			SHA string `json:"sha"`
		} `json:"commit"`
	}
	err = restapi.EachPage(ctx, api, ref, maxBranchPages, func(branches []branch) bool {
		for _, b := range branches {
			res.Branches = append(res.Branches, sdk.Branch{Name: b.Name, Commit: b.Commit.SHA, Default: b.Name == repo.DefaultBranch})
		}
		return true
	})
	if err != nil {
		p.forgetOnReject(c, err)
		return nil, fmt.Errorf("github: branches of %s: %w", addr.FullName, err)
	}
	sort.Slice(res.Branches, func(i, j int) bool { return res.Branches[i].Name < res.Branches[j].Name })
	return res, nil
}

// SetCommitStatus creates a commit status: POST
// /repos/{owner}/{repo}/statuses/{sha} with {state, target_url,
// description, context}. The description is cut to GitHub's 140
// characters; the context defaults to "berth".
func (p *Provider) SetCommitStatus(ctx context.Context, req *sdk.SetCommitStatusRequest) (*sdk.SetCommitStatusResponse, error) {
	c, addr, err := p.repository(req.Credentials, req.Repository)
	if err != nil {
		return nil, err
	}
	body, err := commitstatus.New("github", req, descriptionLimit)
	if err != nil {
		return nil, err
	}
	api, tok, err := p.authorized(ctx, c)
	if err != nil {
		return nil, err
	}
	if tok == "" {
		return nil, fmt.Errorf("github: setting a commit status needs a token or GitHub App credentials: %w", sdk.ErrUnauthenticated)
	}
	path := "repos/" + url.PathEscape(addr.Owner) + "/" + url.PathEscape(addr.Name) + "/statuses/" + strings.ToLower(req.Commit)
	if _, err := api.Do(ctx, http.MethodPost, path, body, nil); err != nil {
		p.forgetOnReject(c, err)
		return nil, fmt.Errorf("github: commit status on %s@%s: %w", addr.FullName, req.Commit, err)
	}
	return &sdk.SetCommitStatusResponse{}, nil
}
