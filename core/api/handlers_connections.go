package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/core/deploy"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// GitProviders reaches git provider plugins. An id no plugin has is an
// error wrapping ErrUnknownPlugin.
type GitProviders interface {
	GitProvider(ctx context.Context, id string) (sdk.GitProvider, error)
}

// GitConnectionRequest creates or changes a git connection. On PATCH,
// omitted fields keep their value; credentials are replaced as a whole.
type GitConnectionRequest struct {
	// OrganizationID owns the connection (on create; default: your only organization).
	OrganizationID *string `json:"organization_id"`
	Name           *string `json:"name"`
	// Provider is the git provider plugin, e.g. "github" or "git.github".
	Provider *string `json:"provider"`
	// BaseURL is the API root of a self-hosted instance (empty: the public service).
	BaseURL *string `json:"base_url"`
	// Credentials are write-only: a token; a username and app password; or
	// a GitHub App id, installation id and private key.
	Credentials *store.ConnectionCredentials `json:"credentials"`
}

// ConnectionTest is the outcome of testing a connection's credentials.
type ConnectionTest struct {
	OK bool `json:"ok"`
	// Repositories is how many repositories the credentials can see
	// (counted up to 1000).
	Repositories int  `json:"repositories"`
	More         bool `json:"more"`
}

// Repository is a repository a connection can deploy.
type Repository struct {
	FullName      string `json:"full_name"`
	CloneURL      string `json:"clone_url"`
	WebURL        string `json:"web_url"`
	DefaultBranch string `json:"default_branch"`
	Private       bool   `json:"private"`
}

// Branch is a branch of a repository.
type Branch struct {
	Name    string `json:"name"`
	Commit  string `json:"commit"`
	Default bool   `json:"default"`
}

// RepositoryList is one page of a connection's repositories.
type RepositoryList struct {
	Items []Repository `json:"items"`
	// NextPageToken is passed as ?page_token= for the next page; empty on the last.
	NextPageToken string `json:"next_page_token"`
}

// BranchList lists a repository's branches.
type BranchList struct {
	Items []Branch `json:"items"`
}

func (s *Server) connectionRoutes() []Route {
	p := Prefix + "/git-connections"
	return []Route{
		{Method: "GET", Path: p, Summary: "List git connections", Tag: "git", Query: withPage(QueryParam{"organization_id", "only this organization's connections", "string"}), Response: List[store.GitConnection]{}, Access: signedIn, Handler: s.listConnections},
		{Method: "POST", Path: p, Summary: "Connect a git host account (admins); credentials are write-only", Tag: "git", Status: 201, Access: forAdmins, Do: JSON(s.createConnection)},
		{Method: "GET", Path: p + "/:id", Summary: "Get a git connection", Tag: "git", Access: forViewers, Resource: service.ConnectionResource, Do: Plain(s.getConnection)},
		{Method: "PATCH", Path: p + "/:id", Summary: "Change a git connection (admins)", Tag: "git", Access: forAdmins, Resource: service.ConnectionResource, Do: JSON(s.updateConnection)},
		{Method: "DELETE", Path: p + "/:id", Summary: "Delete a git connection (admins); its applications fall back to their own credentials", Tag: "git", Status: 204, Access: forAdmins, Resource: service.ConnectionResource, Do: Plain(s.deleteConnection)},
		{Method: "POST", Path: p + "/:id/test", Summary: "Check the credentials by listing repositories (admins)", Tag: "git", Access: forAdmins, Resource: service.ConnectionResource, Do: Plain(s.testConnection)},
		{Method: "GET", Path: p + "/:id/repositories", Summary: "Repositories the connection can see, one page at a time", Tag: "git", Query: []QueryParam{{"query", "filter by name", "string"}, {"page_token", "next_page_token of the previous page", "string"}, {"limit", "page size hint, 1 to 100", "integer"}}, Access: forMembers, Resource: service.ConnectionResource, Do: Plain(s.listRepositories)},
		{Method: "GET", Path: p + "/:id/branches", Summary: "A repository's branches", Tag: "git", Query: []QueryParam{{"repository", "owner/repo or clone URL (required)", "string"}}, Access: forMembers, Resource: service.ConnectionResource, Do: Plain(s.listBranches)},
	}
}

func (s *Server) listConnections(c *fiber.Ctx) error {
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	orgs := orgIDs(principal(c))
	if org, err := queryID(c, "organization_id"); err != nil {
		return err
	} else if org != uuid.Nil {
		orgs = []uuid.UUID{org}
		if _, member := principal(c).Roles[org]; !member {
			orgs = nil
		}
	}
	items, more, err := s.store.ListGitConnections(c.UserContext(), orgs, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(items, more, func(g store.GitConnection) uuid.UUID { return g.ID }))
}

// change is the service's input for the request.
func (r GitConnectionRequest) change() service.ConnectionChange {
	return service.ConnectionChange{Name: r.Name, Provider: r.Provider, BaseURL: r.BaseURL, Credentials: r.Credentials}
}

func (s *Server) createConnection(c *fiber.Ctx, req GitConnectionRequest) (store.GitConnection, error) {
	var org uuid.UUID
	if req.OrganizationID != nil {
		id, err := uuid.Parse(*req.OrganizationID)
		if err != nil {
			return store.GitConnection{}, invalid("organization_id", "%q is not a valid id", *req.OrganizationID)
		}
		org = id
	}
	return s.svc.Connections.Create(c.UserContext(), principal(c), org, req.change(), s.outbound(c))
}

func (s *Server) getConnection(c *fiber.Ctx) (store.GitConnection, error) {
	return resolved(c).Connection, nil
}

func (s *Server) updateConnection(c *fiber.Ctx, req GitConnectionRequest) (store.GitConnection, error) {
	if req.OrganizationID != nil {
		return store.GitConnection{}, badRequest("organization_id", "cannot be changed")
	}
	return s.svc.Connections.Update(c.UserContext(), principal(c), resolved(c).Connection, req.change(), s.outbound(c))
}

func (s *Server) deleteConnection(c *fiber.Ctx) (NoContent, error) {
	return NoContent{}, s.svc.Connections.Delete(c.UserContext(), principal(c), resolved(c).Connection)
}

// provider returns the connection's plugin, mapping a missing one to a
// 422, after checking its base URL again (it is about to be used).
func (s *Server) provider(c *fiber.Ctx, conn store.GitConnection) (sdk.GitProvider, error) {
	if s.opts.GitProviders == nil {
		return nil, &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable", Message: "git providers are not available on this server"}
	}
	if err := s.outbound(c).RecheckURL(c.UserContext(), "base_url", conn.BaseURL); err != nil {
		return nil, err
	}
	gp, err := s.opts.GitProviders.GitProvider(c.UserContext(), conn.Provider)
	if err != nil {
		return nil, s.providerError(c, conn.Provider, err)
	}
	return gp, nil
}

// providerError renders a provider plugin's failure: refused credentials
// and bad arguments are the caller's (422), anything else is the
// provider's (502). What the git host answered is logged, never shown
// (describeOutbound).
func (s *Server) providerError(c *fiber.Ctx, id string, err error) error {
	switch {
	case errors.Is(err, ErrUnknownPlugin):
		return invalid("provider", "no git provider plugin %q is installed", id)
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, sdk.ErrUnauthenticated):
		return invalid("credentials", "%s: %s", id, s.describeOutbound(c, id, err))
	case errors.Is(err, sdk.ErrInvalidArgument), errors.Is(err, sdk.ErrNotFound), errors.Is(err, sdk.ErrNotConfigured):
		return invalid("", "%s: %s", id, s.describeOutbound(c, id, err))
	case errors.Is(err, sdk.ErrUnimplemented):
		return invalid("provider", "%s cannot do this: %v", id, err)
	}
	return &Error{Status: fiber.StatusBadGateway, Code: "provider_failed", Message: fmt.Sprintf("%s: %s", id, s.describeOutbound(c, id, err))}
}

func (s *Server) testConnection(c *fiber.Ctx) (ConnectionTest, error) {
	conn := resolved(c).Connection
	gp, err := s.provider(c, conn)
	if err != nil {
		return ConnectionTest{}, err
	}
	out := ConnectionTest{OK: true}
	token := ""
	for page := 0; page < 10; page++ {
		resp, err := gp.ListRepositories(c.UserContext(), &sdk.ListRepositoriesRequest{Credentials: deploy.ConnectionCredentials(conn),
			PageToken: token, PageSize: 100})
		if err != nil {
			return ConnectionTest{}, s.providerError(c, conn.Provider, err)
		}
		out.Repositories += len(resp.Repositories)
		if token = resp.NextPageToken; token == "" {
			return out, nil
		}
	}
	out.More = true
	return out, nil
}

func (s *Server) listRepositories(c *fiber.Ctx) (RepositoryList, error) {
	conn := resolved(c).Connection
	size := 0
	if v := c.Query("limit"); v != "" {
		var err error
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 100 {
			return RepositoryList{}, badRequest("limit", "must be an integer from 1 to 100")
		}
	}
	gp, err := s.provider(c, conn)
	if err != nil {
		return RepositoryList{}, err
	}
	resp, err := gp.ListRepositories(c.UserContext(), &sdk.ListRepositoriesRequest{Credentials: deploy.ConnectionCredentials(conn),
		Query: c.Query("query"), PageToken: c.Query("page_token"), PageSize: size})
	if err != nil {
		return RepositoryList{}, s.providerError(c, conn.Provider, err)
	}
	items := []Repository{}
	for _, r := range resp.Repositories {
		items = append(items, Repository{FullName: r.FullName, CloneURL: r.CloneURL, WebURL: r.WebURL, DefaultBranch: r.DefaultBranch, Private: r.Private})
	}
	return RepositoryList{Items: items, NextPageToken: resp.NextPageToken}, nil
}

func (s *Server) listBranches(c *fiber.Ctx) (BranchList, error) {
	conn := resolved(c).Connection
	repo := c.Query("repository")
	if repo == "" {
		return BranchList{}, badRequest("repository", "is required")
	}
	if strings.HasPrefix(repo, "-") || len(repo) > 2048 {
		return BranchList{}, badRequest("repository", "%q is not a repository", repo)
	}
	if err := s.outbound(c).CheckRepository(c.UserContext(), "repository", repo); err != nil {
		return BranchList{}, err
	}
	gp, err := s.provider(c, conn)
	if err != nil {
		return BranchList{}, err
	}
	resp, err := gp.ListBranches(c.UserContext(), &sdk.ListBranchesRequest{Repository: repo, Credentials: deploy.ConnectionCredentials(conn)})
	if err != nil {
		return BranchList{}, s.providerError(c, conn.Provider, err)
	}
	items := []Branch{}
	for _, b := range resp.Branches {
		items = append(items, Branch{Name: b.Name, Commit: b.Commit, Default: b.Default})
	}
	return BranchList{Items: items}, nil
}
