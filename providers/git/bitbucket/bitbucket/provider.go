// Package bitbucket implements berth's Bitbucket Cloud git provider (id
// git.bitbucket): it fetches over https with an access token (repository,
// project or workspace), an Atlassian API token or a legacy app password
// (or over ssh with an access key), lists repositories and branches with
// the REST API 2.0, verifies and parses webhooks, and sets build statuses
// on commits.
//
// Connections differ per request: the credentials come with every call.
// The plugin's settings only hold defaults.
package bitbucket

import (
	"context"
	"encoding/base64"
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
const ID = "git.bitbucket"

// Version is the plugin's version.
const Version = "1.0.0"

// DefaultBaseURL is the API root used when neither the connection nor the
// settings name one.
const DefaultBaseURL = "https://api.bitbucket.org/2.0"

// apiPath is the API's path under its host when a base URL has none.
const apiPath = "/2.0"

// spec is the plugin's description and the wording of its settings.
var spec = hostsettings.Spec{
	Info: sdk.InfoResponse{
		ID:           ID,
		Version:      Version,
		Description:  "Bitbucket Cloud: fetch with an access token, API token or app password, list repositories and branches, push and pull request webhooks, build statuses.",
		Capabilities: []sdk.Capability{sdk.CapListRepositories, sdk.CapWebhooks, sdk.CapCommitStatus},
	},
	Title:              "Bitbucket Cloud",
	Description:        "Defaults for Bitbucket Cloud connections. Each connection brings its own access token, or username and API token / app password.",
	BaseURLTitle:       "API URL",
	DefaultBaseURL:     DefaultBaseURL,
	BaseURLDescription: "Root of the Bitbucket Cloud REST API. Repositories are cloned from the same host without its \"api.\" prefix (https://bitbucket.org). Change it only to go through a proxy.",
	TimeoutTitle:       "API timeout (seconds)",
	TimeoutDescription: "How long one call to the Bitbucket API may take.",
	MaxTimeoutSeconds:  300,
}

// Provider is the Bitbucket git provider. Use New. Its settings (base_url,
// timeout_seconds) are hostsettings': defaults for connections, which
// bring their own credentials on every request.
type Provider struct {
	sdk.UnimplementedGitProvider
	*hostsettings.Plugin

	fetcher *clonefetch.Fetcher
}

// New returns a Provider with the default settings.
func New() *Provider {
	return &Provider{Plugin: hostsettings.New(spec), fetcher: clonefetch.New("bitbucket")}
}

// repository connects with creds and resolves a repository on the
// connection's host; errors name the operation op ("list branches").
func (p *Provider) repository(creds *sdk.Credentials, repository, op string) (*hostconn.Conn, repoaddr.Address, error) {
	return hostconn.Open(p.connect, creds, repository, "bitbucket: "+op)
}

// connect prepares the API client and host for creds: the API root is
// creds.BaseURL, else the settings' base_url, else api.bitbucket.org/2.0
// ("/2.0" is added to a root without a path; the web host bitbucket.org is
// taken as api.bitbucket.org). Repositories live on the API's host
// without its "api." prefix.
func (p *Provider) connect(creds *sdk.Credentials) (*hostconn.Conn, error) {
	if creds == nil {
		creds = &sdk.Credentials{}
	}
	raw := p.BaseURL(creds)
	api, err := restapi.ParseBaseURL(raw)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(api.Host, "bitbucket.org") {
		api.Host = "api.bitbucket.org"
	}
	if api.Path == "" {
		api.Path = apiPath
	}
	web := &url.URL{Scheme: api.Scheme, Host: api.Host}
	if h, ok := strings.CutPrefix(strings.ToLower(api.Host), "api."); ok {
		web.Host = h
	}
	h, err := headers(creds)
	if err != nil {
		return nil, err
	}
	return &hostconn.Conn{
		API:  &restapi.Client{Provider: "bitbucket", Base: api, Timeout: p.Timeout(), Header: h, CredentialName: "credentials"},
		Host: repoaddr.Host{Web: web, MinSegments: 2, MaxSegments: 2, PagePaths: true},
	}, nil
}

// headers returns the headers of API calls: the User-Agent and what
// authenticates them, an access token as a bearer token, or a username (or
// Atlassian account email) and API token or app password with basic
// authentication. No credentials: anonymous calls (public repositories
// only).
func headers(creds *sdk.Credentials) (http.Header, error) {
	h := http.Header{"User-Agent": {"berth-git-bitbucket/" + Version}}
	switch {
	case creds.Token != "":
		h.Set("Authorization", "Bearer "+creds.Token)
	case creds.Password != "":
		if creds.Username == "" {
			return nil, fmt.Errorf("bitbucket: an API token or app password needs the username (or the Atlassian account email for an API token): %w", sdk.ErrInvalidArgument)
		}
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(creds.Username+":"+creds.Password)))
	}
	return h, nil
}

// gitCredentials translates a connection's credentials to what Bitbucket
// expects over git's https: an access token with the user "x-token-auth";
// an API token, given with the account's email, with the user
// "x-bitbucket-api-token-auth"; an app password (or an API token given with
// the Bitbucket username) with that username. SSH keys pass through.
func gitCredentials(creds *sdk.Credentials) *sdk.Credentials {
	if creds == nil {
		return nil
	}
	out := clonefetch.SSHKeys(creds)
	switch {
	case creds.Token != "":
		out.Username, out.Password = "x-token-auth", creds.Token
	case creds.Password != "" && strings.Contains(creds.Username, "@"):
		out.Username, out.Password = "x-bitbucket-api-token-auth", creds.Password
	case creds.Password != "":
		out.Username, out.Password = creds.Username, creds.Password
	}
	return out
}

// Fetch checks out req.Ref of a Bitbucket repository ("workspace/slug",
// its https URL or its ssh URL) into req.Dir with the system git.
func (p *Provider) Fetch(ctx context.Context, req *sdk.FetchRequest) (*sdk.FetchResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bitbucket: fetch: %w", err)
	}
	_, ref, err := p.repository(req.Credentials, req.Repository, "fetch")
	if err != nil {
		return nil, err
	}
	return p.fetcher.Fetch(ctx, req, ref.CloneURL, gitCredentials(req.Credentials))
}

// repositoryPath is the API path of a repository, "/repositories/ws/slug".
func repositoryPath(name string) string {
	ws, slug, _ := strings.Cut(name, "/")
	return "/repositories/" + url.PathEscape(ws) + "/" + url.PathEscape(slug)
}
