package bitbucket

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/berth-dev/berth/providers/git/internal/commitstatus"
	"github.com/berth-dev/berth/providers/git/internal/restapi"
	"github.com/berth-dev/berth/sdk"
)

// maxPageSize is the largest pagelen Bitbucket accepts for these lists.
const maxPageSize = 100

// defaultPageSize is the page size of ListRepositories when none is asked.
const defaultPageSize = 50

// maxBranchPages bounds how many pages of branches ListBranches follows.
const maxBranchPages = 200

// Limits of a build status's fields.
const (
	keyLimit         = 40
	nameLimit        = 255
	descriptionLimit = 255
)

// page is Bitbucket's paginated list: the values and the URL of the next
// page, absent on the last one.
type page[T any] struct {
	Values []T    `json:"values"`
	Next   string `json:"next"`
}

// link is a Bitbucket link object.
type link struct {
	Href string `json:"href"`
}

// repository is the part of Bitbucket's repository object berth uses.
type repository struct {
	FullName   string `json:"full_name"`
	IsPrivate  bool   `json:"is_private"`
	Mainbranch *struct {
		Name string `json:"name"`
	} `json:"mainbranch"`
	Links struct {
		HTML link `json:"html"`
	} `json:"links"`
}

// ListRepositories lists the repositories the credentials are a member of
// (GET /repositories?role=member), in Bitbucket's order, one page at a
// time. PageToken is the "next" URL Bitbucket returned (it may carry a
// cursor), followed only under the API root; Query filters full names
// (BBQL full_name ~ "...").
func (p *Provider) ListRepositories(ctx context.Context, req *sdk.ListRepositoriesRequest) (*sdk.ListRepositoriesResponse, error) {
	conn, err := p.connect(req.Credentials)
	if err != nil {
		return nil, fmt.Errorf("bitbucket: list repositories: %w", err)
	}
	var repos page[repository]
	if req.PageToken != "" {
		if _, err := conn.API.GetURL(ctx, req.PageToken, &repos); err != nil {
			return nil, fmt.Errorf("list repositories: page token: %w", err)
		}
	} else {
		size := req.PageSize
		if size <= 0 {
			size = defaultPageSize
		}
		q := url.Values{
			"role":    {"member"},
			"pagelen": {strconv.Itoa(min(size, maxPageSize))},
		}
		if req.Query != "" {
			q.Set("q", `full_name ~ `+bbqlString(req.Query))
		}
		if _, err := conn.API.Get(ctx, "/repositories", q, &repos); err != nil {
			return nil, fmt.Errorf("list repositories: %w", err)
		}
	}
	out := &sdk.ListRepositoriesResponse{}
	if repos.Next != "" {
		if _, err := conn.API.CheckURL(repos.Next); err != nil {
			return nil, fmt.Errorf("list repositories: next page: %w", err)
		}
		out.NextPageToken = repos.Next
	}
	for _, r := range repos.Values {
		repo := sdk.Repository{
			FullName: r.FullName,
			CloneURL: conn.Host.CloneURL(r.FullName),
			WebURL:   r.Links.HTML.Href,
			Private:  r.IsPrivate,
		}
		if r.Mainbranch != nil {
			repo.DefaultBranch = r.Mainbranch.Name
		}
		out.Repositories = append(out.Repositories, repo)
	}
	return out, nil
}

// bbqlString quotes s as a BBQL string literal.
func bbqlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// ListBranches lists every branch of a repository (following "next"),
// sorted by name, with the main branch marked.
func (p *Provider) ListBranches(ctx context.Context, req *sdk.ListBranchesRequest) (*sdk.ListBranchesResponse, error) {
	conn, ref, err := p.repository(req.Credentials, req.Repository, "list branches")
	if err != nil {
		return nil, err
	}
	var repo repository
	if _, err := conn.API.Get(ctx, repositoryPath(ref.FullName), nil, &repo); err != nil {
		return nil, fmt.Errorf("list branches of %s: %w", ref.FullName, err)
	}
	mainBranch := ""
	if repo.Mainbranch != nil {
		mainBranch = repo.Mainbranch.Name
	}
	type branch struct {
		Name   string `json:"name"`
		Target struct {
			Hash string `json:"hash"`
		} `json:"target"`
	}
	out := &sdk.ListBranchesResponse{}
	var branches page[branch]
	_, err = conn.API.Get(ctx, repositoryPath(ref.FullName)+"/refs/branches", url.Values{"pagelen": {strconv.Itoa(maxPageSize)}}, &branches)
	for pages := 1; ; pages++ {
		if err != nil {
			return nil, fmt.Errorf("list branches of %s: %w", ref.FullName, err)
		}
		for _, b := range branches.Values {
			out.Branches = append(out.Branches, sdk.Branch{Name: b.Name, Commit: b.Target.Hash, Default: b.Name == mainBranch})
		}
		if branches.Next == "" || pages >= maxBranchPages {
			break
		}
		next := branches.Next
		branches = page[branch]{}
		_, err = conn.API.GetURL(ctx, next, &branches)
	}
	sort.Slice(out.Branches, func(i, j int) bool { return out.Branches[i].Name < out.Branches[j].Name })
	return out, nil
}

// bitbucketStates maps berth's commit states to Bitbucket's.
var bitbucketStates = map[sdk.CommitState]string{
	sdk.CommitPending: "INPROGRESS", sdk.CommitSuccess: "SUCCESSFUL", sdk.CommitFailure: "FAILED", sdk.CommitError: "FAILED",
}

// buildStatus is the body of POST .../commit/{sha}/statuses/build.
type buildStatus struct {
	Key         string `json:"key"`
	State       string `json:"state"`
	URL         string `json:"url"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// SetCommitStatus sets a build status on a commit (POST
// /repositories/{workspace}/{slug}/commit/{sha}/statuses/build). Its key is
// req.Context ("berth" when empty; shortened with a hash beyond Bitbucket's
// 40 characters), so a later state replaces the earlier one; its URL, which
// Bitbucket requires, is req.TargetURL or else the repository's page.
func (p *Provider) SetCommitStatus(ctx context.Context, req *sdk.SetCommitStatusRequest) (*sdk.SetCommitStatusResponse, error) {
	status, err := commitstatus.Check("bitbucket: set commit status", req, commitstatus.Abbreviated)
	if err != nil {
		return nil, err
	}
	conn, ref, err := p.repository(req.Credentials, req.Repository, "set commit status")
	if err != nil {
		return nil, err
	}
	target := status.TargetURL
	if target == "" {
		target = conn.Host.WebURL(ref.FullName)
	}
	body := buildStatus{
		Key:         statusKey(status.Context),
		State:       bitbucketStates[status.State],
		URL:         target,
		Name:        restapi.Truncate(status.Context, nameLimit),
		Description: restapi.Truncate(status.Description, descriptionLimit),
	}
	if _, err := conn.API.Do(ctx, http.MethodPost, repositoryPath(ref.FullName)+"/commit/"+req.Commit+"/statuses/build", body, nil); err != nil {
		return nil, fmt.Errorf("set commit status on %s@%s: %w", ref.FullName, req.Commit, err)
	}
	return &sdk.SetCommitStatusResponse{}, nil
}

// statusKey is a build status key for a context: the context itself when
// it fits Bitbucket's 40 characters, else its start and a hash of the
// whole, so that the same context always gets the same key.
func statusKey(context string) string {
	if len(context) <= keyLimit {
		return context
	}
	sum := sha256.Sum256([]byte(context))
	suffix := "-" + hex.EncodeToString(sum[:])[:12]
	prefix := context[:keyLimit-len(suffix)]
	for !utf8.ValidString(prefix) {
		prefix = prefix[:len(prefix)-1]
	}
	return prefix + suffix
}
