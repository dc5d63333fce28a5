// Package gitlab implements berth's GitLab git provider (id git.gitlab) for
// gitlab.com and self-managed GitLab instances: it fetches over https with a
// personal, project or group access token (or over ssh with a deploy key),
// lists projects and branches with the REST API v4, verifies and parses
// webhooks, and sets commit statuses.
//
// Connections differ per request: the credentials (the token, and BaseURL
// for a self-managed instance) come with every call. The plugin's settings
// only hold defaults.
package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/berth-dev/berth/providers/git/internal/clonefetch"
	"github.com/berth-dev/berth/providers/git/internal/hostconn"
	"github.com/berth-dev/berth/providers/git/internal/hostsettings"
	"github.com/berth-dev/berth/providers/git/internal/repoaddr"
	"github.com/berth-dev/berth/providers/git/internal/restapi"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin id.
const ID = "git.gitlab"

// Version is the plugin's version.
const Version = "1.0.0"

// DefaultBaseURL is the GitLab used when neither the connection nor the
// settings name one.
const DefaultBaseURL = "https://gitlab.com"

// apiPath is where the REST API v4 lives under an instance's root.
const apiPath = "/api/v4"

// spec is the plugin's description and the wording of its settings.
var spec = hostsettings.Spec{
	Info: sdk.InfoResponse{
		ID:           ID,
		Version:      Version,
		Description:  "GitLab.com and self-managed GitLab: fetch with an access token or deploy key, list projects and branches, merge request and push webhooks, commit statuses.",
		Capabilities: []sdk.Capability{sdk.CapListRepositories, sdk.CapWebhooks, sdk.CapCommitStatus},
	},
	Title:              "GitLab",
	Description:        "Defaults for GitLab connections. Each connection brings its own access token and may name its own instance.",
	BaseURLTitle:       "GitLab URL",
	DefaultBaseURL:     DefaultBaseURL,
	BaseURLDescription: "Root URL of the GitLab instance used by connections that do not name one, for example https://gitlab.example.com (the API is under /api/v4).",
	TimeoutTitle:       "API timeout (seconds)",
	TimeoutDescription: "How long one call to the GitLab API may take.",
	MaxTimeoutSeconds:  300,
}

// Provider is the GitLab git provider. Use New. Its settings (base_url,
// timeout_seconds) are hostsettings': defaults for connections, which
// bring their own credentials on every request.
type Provider struct {
	sdk.UnimplementedGitProvider
	*hostsettings.Plugin

	fetcher *clonefetch.Fetcher
}

// New returns a Provider with the default settings.
func New() *Provider {
	return &Provider{Plugin: hostsettings.New(spec), fetcher: clonefetch.New("gitlab")}
}

// repository connects with creds and resolves a repository on the
// connection's host; errors name the operation op ("list branches").
func (p *Provider) repository(creds *sdk.Credentials, repository, op string) (*hostconn.Conn, repoaddr.Address, error) {
	return hostconn.Open(p.connect, creds, repository, "gitlab: "+op)
}

// connect prepares the API client and host for creds: the instance is
// creds.BaseURL, else the settings' base_url, else gitlab.com. A BaseURL
// ending in /api/v4 is accepted too.
func (p *Provider) connect(creds *sdk.Credentials) (*hostconn.Conn, error) {
	if creds == nil {
		creds = &sdk.Credentials{}
	}
	raw := p.BaseURL(creds)
	web, err := restapi.ParseBaseURL(raw)
	if err != nil {
		return nil, err
	}
	web.Path = strings.TrimSuffix(web.Path, apiPath)
	web.RawPath = ""
	api, err := restapi.ParseBaseURL(web.String() + apiPath)
	if err != nil {
		return nil, err
	}
	h := http.Header{"User-Agent": {"berth-git-gitlab/" + Version}}
	if token := apiToken(creds); token != "" {
		// Personal, project, group and OAuth tokens are all accepted as a
		// bearer token.
		h.Set("Authorization", "Bearer "+token)
	}
	return &hostconn.Conn{
		API:  &restapi.Client{Provider: "gitlab", Base: api, Timeout: p.Timeout(), Header: h, CredentialName: "token"},
		Host: repoaddr.Host{Web: web, MinSegments: 2, WebSeparator: "/-/"},
	}, nil
}

// apiToken is the token the API is called with: Token, or a token given as
// the Password.
func apiToken(creds *sdk.Credentials) string {
	if creds.Token != "" {
		return creds.Token
	}
	return creds.Password
}

// gitCredentials translates a connection's credentials to what GitLab
// expects over git's https: the user "oauth2" (or the given username, as
// deploy tokens need) with the token as the password. SSH keys pass
// through.
func gitCredentials(creds *sdk.Credentials) *sdk.Credentials {
	if creds == nil {
		return nil
	}
	out := clonefetch.SSHKeys(creds)
	if token := apiToken(creds); token != "" {
		out.Username = creds.Username
		if out.Username == "" {
			out.Username = "oauth2"
		}
		out.Password = token
	}
	return out
}

// Fetch checks out req.Ref of a GitLab project ("group/project", its https
// URL or its ssh URL, on the connection's instance) into req.Dir with the
// system git.
func (p *Provider) Fetch(ctx context.Context, req *sdk.FetchRequest) (*sdk.FetchResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gitlab: fetch: %w", err)
	}
	_, ref, err := p.repository(req.Credentials, req.Repository, "fetch")
	if err != nil {
		return nil, err
	}
	return p.fetcher.Fetch(ctx, req, ref.CloneURL, gitCredentials(req.Credentials))
}

// projectPath is the API's id for a project: its full path, URL-encoded
// ("group%2Fsub%2Fproject").
func projectPath(name string) string {
	return url.PathEscape(name)
}
