package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/core/deploy"
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
		{Method: "POST", Path: p, Summary: "Connect a git host account (admins); credentials are write-only", Tag: "git", Body: GitConnectionRequest{}, Response: store.GitConnection{}, Status: 201, Access: forAdmins, Handler: s.createConnection},
		{Method: "GET", Path: p + "/:id", Summary: "Get a git connection", Tag: "git", Response: store.GitConnection{}, Access: forViewers, Handler: s.getConnection},
		{Method: "PATCH", Path: p + "/:id", Summary: "Change a git connection (admins)", Tag: "git", Body: GitConnectionRequest{}, Response: store.GitConnection{}, Access: forAdmins, Handler: s.updateConnection},
		{Method: "DELETE", Path: p + "/:id", Summary: "Delete a git connection (admins); its applications fall back to their own credentials", Tag: "git", Status: 204, Access: forAdmins, Handler: s.deleteConnection},
		{Method: "POST", Path: p + "/:id/test", Summary: "Check the credentials by listing repositories (admins)", Tag: "git", Response: ConnectionTest{}, Access: forAdmins, Handler: s.testConnection},
		{Method: "GET", Path: p + "/:id/repositories", Summary: "Repositories the connection can see, one page at a time", Tag: "git", Query: []QueryParam{{"query", "filter by name", "string"}, {"page_token", "next_page_token of the previous page", "string"}, {"limit", "page size hint, 1 to 100", "integer"}}, Response: RepositoryList{}, Access: forMembers, Handler: s.listRepositories},
		{Method: "GET", Path: p + "/:id/branches", Summary: "A repository's branches", Tag: "git", Query: []QueryParam{{"repository", "owner/repo or clone URL (required)", "string"}}, Response: BranchList{}, Access: forMembers, Handler: s.listBranches},
	}
}

func (s *Server) loadConnection(c *fiber.Ctx, min store.Role) (store.GitConnection, error) {
	id, err := pathID(c, "id", "git connection")
	if err != nil {
		return store.GitConnection{}, err
	}
	conn, err := s.store.GetGitConnection(c.UserContext(), id)
	if err != nil {
		return conn, notFoundAs(err, "git connection")
	}
	return conn, authorize(c, conn.OrganizationID, min, "git connection")
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

func (r GitConnectionRequest) apply(spec *store.GitConnectionSpec) {
	if r.Name != nil {
		spec.Name = strings.TrimSpace(*r.Name)
	}
	if r.Provider != nil {
		spec.Provider = strings.TrimSpace(*r.Provider)
		if spec.Provider != "" && !strings.HasPrefix(spec.Provider, "git.") {
			spec.Provider = "git." + spec.Provider
		}
	}
	if r.BaseURL != nil {
		spec.BaseURL = strings.TrimRight(strings.TrimSpace(*r.BaseURL), "/")
	}
	if r.Credentials != nil {
		spec.Credentials = *r.Credentials
	}
}

func validateConnection(spec store.GitConnectionSpec) error {
	if err := validateText("name", spec.Name, 1, 60); err != nil {
		return err
	}
	if spec.Provider == "" {
		return invalid("provider", "is required, e.g. github, gitlab, gitea, bitbucket")
	}
	if err := validateSlug("provider", strings.TrimPrefix(spec.Provider, "git."), 40); err != nil {
		return err
	}
	if spec.BaseURL != "" {
		u, err := url.Parse(spec.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return invalid("base_url", "%q is not an http(s) URL", spec.BaseURL)
		}
	}
	c := spec.Credentials
	switch c.Kind() {
	case "token":
	case "app_password":
		if c.Username == "" || c.AppPassword == "" {
			return invalid("credentials", "username and app_password go together")
		}
		if c.Token != "" {
			return invalid("credentials", "send either a token or a username and app_password")
		}
	case "app":
		if c.AppID == "" || c.InstallationID == "" || c.PrivateKey == "" {
			return invalid("credentials", "app_id, installation_id and private_key go together")
		}
		if _, err := strconv.ParseUint(c.AppID, 10, 64); err != nil {
			return invalid("credentials.app_id", "must be a number")
		}
		if _, err := strconv.ParseUint(c.InstallationID, 10, 64); err != nil {
			return invalid("credentials.installation_id", "must be a number")
		}
		if !strings.Contains(c.PrivateKey, "-----BEGIN") {
			return invalid("credentials.private_key", "must be a PEM private key")
		}
		if c.Token != "" || c.AppPassword != "" {
			return invalid("credentials", "send one kind of credentials")
		}
	default:
		return invalid("credentials", "are required: a token, a username and app_password, or app_id, installation_id and private_key")
	}
	for field, v := range map[string]string{"token": c.Token, "username": c.Username, "app_password": c.AppPassword} {
		if len(v) > 4096 || strings.ContainsAny(v, "\r\n\x00") {
			return invalid("credentials."+field, "must be one line of at most 4096 characters")
		}
	}
	if len(c.PrivateKey) > 16<<10 {
		return invalid("credentials.private_key", "must be at most 16 KiB")
	}
	return nil
}

func (s *Server) createConnection(c *fiber.Ctx) error {
	var req GitConnectionRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	p := principal(c)
	var org uuid.UUID
	if req.OrganizationID != nil {
		id, err := uuid.Parse(*req.OrganizationID)
		if err != nil {
			return invalid("organization_id", "%q is not a valid id", *req.OrganizationID)
		}
		org = id
	} else if len(p.Roles) == 1 {
		for id := range p.Roles {
			org = id
		}
	} else {
		return invalid("organization_id", "is required: you belong to several organizations")
	}
	if err := authorize(c, org, store.RoleAdmin, "organization"); err != nil {
		return err
	}
	var spec store.GitConnectionSpec
	req.apply(&spec)
	if err := validateConnection(spec); err != nil {
		return err
	}
	if err := s.outbound(c).CheckURL(c.UserContext(), "base_url", spec.BaseURL); err != nil {
		return err
	}
	conn, err := s.store.CreateGitConnection(c.UserContext(), org, spec)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(conn)
}

func (s *Server) getConnection(c *fiber.Ctx) error {
	conn, err := s.loadConnection(c, store.RoleViewer)
	if err != nil {
		return err
	}
	return c.JSON(conn)
}

func (s *Server) updateConnection(c *fiber.Ctx) error {
	conn, err := s.loadConnection(c, store.RoleAdmin)
	if err != nil {
		return err
	}
	var req GitConnectionRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.OrganizationID != nil {
		return badRequest("organization_id", "cannot be changed")
	}
	spec := store.GitConnectionSpec{Name: conn.Name, Provider: conn.Provider, BaseURL: conn.BaseURL, Credentials: conn.Credentials}
	req.apply(&spec)
	if spec.BaseURL != conn.BaseURL && req.Credentials == nil {
		return invalid("credentials", "must be sent again when base_url changes, so saved credentials are never sent to a new host")
	}
	if err := validateConnection(spec); err != nil {
		return err
	}
	if spec.BaseURL != conn.BaseURL {
		if err := s.outbound(c).CheckURL(c.UserContext(), "base_url", spec.BaseURL); err != nil {
			return err
		}
	}
	conn, err = s.store.UpdateGitConnection(c.UserContext(), conn.ID, spec)
	if err != nil {
		return err
	}
	return c.JSON(conn)
}

func (s *Server) deleteConnection(c *fiber.Ctx) error {
	conn, err := s.loadConnection(c, store.RoleAdmin)
	if err != nil {
		return err
	}
	if err := s.store.DeleteGitConnection(c.UserContext(), conn.ID); err != nil {
		return notFoundAs(err, "git connection")
	}
	return c.SendStatus(fiber.StatusNoContent)
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

func (s *Server) testConnection(c *fiber.Ctx) error {
	conn, err := s.loadConnection(c, store.RoleAdmin)
	if err != nil {
		return err
	}
	gp, err := s.provider(c, conn)
	if err != nil {
		return err
	}
	out := ConnectionTest{OK: true}
	token := ""
	for page := 0; page < 10; page++ {
		resp, err := gp.ListRepositories(c.UserContext(), &sdk.ListRepositoriesRequest{Credentials: deploy.ConnectionCredentials(conn),
			PageToken: token, PageSize: 100})
		if err != nil {
			return s.providerError(c, conn.Provider, err)
		}
		out.Repositories += len(resp.Repositories)
		if token = resp.NextPageToken; token == "" {
			return c.JSON(out)
		}
	}
	out.More = true
	return c.JSON(out)
}

func (s *Server) listRepositories(c *fiber.Ctx) error {
	conn, err := s.loadConnection(c, store.RoleMember)
	if err != nil {
		return err
	}
	size := 0
	if v := c.Query("limit"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 100 {
			return badRequest("limit", "must be an integer from 1 to 100")
		}
	}
	gp, err := s.provider(c, conn)
	if err != nil {
		return err
	}
	resp, err := gp.ListRepositories(c.UserContext(), &sdk.ListRepositoriesRequest{Credentials: deploy.ConnectionCredentials(conn),
		Query: c.Query("query"), PageToken: c.Query("page_token"), PageSize: size})
	if err != nil {
		return s.providerError(c, conn.Provider, err)
	}
	items := []Repository{}
	for _, r := range resp.Repositories {
		items = append(items, Repository{FullName: r.FullName, CloneURL: r.CloneURL, WebURL: r.WebURL, DefaultBranch: r.DefaultBranch, Private: r.Private})
	}
	return c.JSON(RepositoryList{Items: items, NextPageToken: resp.NextPageToken})
}

func (s *Server) listBranches(c *fiber.Ctx) error {
	conn, err := s.loadConnection(c, store.RoleMember)
	if err != nil {
		return err
	}
	repo := c.Query("repository")
	if repo == "" {
		return badRequest("repository", "is required")
	}
	if strings.HasPrefix(repo, "-") || len(repo) > 2048 {
		return badRequest("repository", "%q is not a repository", repo)
	}
	if err := s.outbound(c).CheckRepository(c.UserContext(), "repository", repo); err != nil {
		return err
	}
	gp, err := s.provider(c, conn)
	if err != nil {
		return err
	}
	resp, err := gp.ListBranches(c.UserContext(), &sdk.ListBranchesRequest{Repository: repo, Credentials: deploy.ConnectionCredentials(conn)})
	if err != nil {
		return s.providerError(c, conn.Provider, err)
	}
	items := []Branch{}
	for _, b := range resp.Branches {
		items = append(items, Branch{Name: b.Name, Commit: b.Commit, Default: b.Default})
	}
	return c.JSON(BranchList{Items: items})
}
