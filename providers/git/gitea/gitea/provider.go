// Package gitea implements berth's Gitea provider (id git.gitea) for
// self-hosted Gitea (and Forgejo, which keeps Gitea's API) and gitea.com:
// it fetches code (through the generic git provider, authenticating with
// the connection's access token), lists repositories and branches through
// the REST API under /api/v1, verifies and parses webhooks, and sets commit
// statuses.
//
// A connection authenticates with a Gitea access token in
// Credentials.Token (sent as "Authorization: token ..."), or with a user
// name and password when the instance allows basic authentication.
package gitea

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/berth-dev/berth/providers/git/internal/clonefetch"
	"github.com/berth-dev/berth/providers/git/internal/hostsettings"
	"github.com/berth-dev/berth/providers/git/internal/repoaddr"
	"github.com/berth-dev/berth/providers/git/internal/restapi"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin id.
const ID = "git.gitea"

// Version is the plugin's version.
const Version = "1.0.0"

// PublicURL is the instance used when neither the connection nor the
// settings name one.
const PublicURL = "https://gitea.com"

// apiPath is where Gitea serves its REST API under the instance's URL.
const apiPath = "/api/v1"

// spec is the plugin's description and the wording of its settings.
var spec = hostsettings.Spec{
	Info: sdk.InfoResponse{
		ID:           ID,
		Version:      Version,
		Description:  "Gitea and Forgejo: fetch with an access token, list repositories and branches, webhooks and commit statuses.",
		Capabilities: []sdk.Capability{sdk.CapListRepositories, sdk.CapWebhooks, sdk.CapCommitStatus},
	},
	Title:              "Gitea",
	Description:        "Self-hosted Gitea or Forgejo, and gitea.com. Access tokens are set per connection.",
	BaseURLTitle:       "Instance URL",
	DefaultBaseURL:     PublicURL,
	BaseURLDescription: "URL of the Gitea instance used by connections that do not set their own, for example https://git.example.com (the API is under /api/v1).",
	TimeoutTitle:       "Request timeout (seconds)",
	TimeoutDescription: "How long one Gitea API request may take.",
	MaxTimeoutSeconds:  600,
}

// Provider is the Gitea provider. Use New. Its settings (base_url,
// timeout_seconds) are hostsettings'; connections carry their own
// credentials (and usually their own BaseURL) on every request.
type Provider struct {
	sdk.UnimplementedGitProvider
	*hostsettings.Plugin

	fetcher *clonefetch.Fetcher
	http    *http.Client
}

// New returns a Provider with the default settings.
func New() *Provider {
	return &Provider{Plugin: hostsettings.New(spec), fetcher: clonefetch.New("gitea"), http: &http.Client{}}
}

// endpoints derives the API root and the web root (where repositories are
// cloned from) of an instance URL. The URL may name the API root itself:
//
//	https://git.example.com             https://git.example.com/api/v1        https://git.example.com
//	https://example.com/gitea/api/v1    https://example.com/gitea/api/v1      https://example.com/gitea
func endpoints(base string) (api, web *url.URL, err error) {
	if base == "" {
		base = PublicURL
	}
	u, err := restapi.ParseBaseURL(base)
	if err != nil {
		return nil, nil, err
	}
	path := strings.TrimSuffix(u.Path, apiPath)
	web = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: path}
	api = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: path + apiPath}
	return api, web, nil
}

// conn is one request's view of a connection.
type conn struct {
	api   *url.URL
	web   *url.URL
	creds sdk.Credentials
}

// connection resolves the endpoints of creds (their BaseURL, else the
// settings', else gitea.com). It makes no request.
func (p *Provider) connection(creds *sdk.Credentials) (*conn, error) {
	c := &conn{}
	if creds != nil {
		c.creds = *creds
	}
	var err error
	if c.api, c.web, err = endpoints(p.BaseURL(creds)); err != nil {
		return nil, fmt.Errorf("gitea: %w", err)
	}
	return c, nil
}

// authenticated reports whether the connection has credentials.
func (c *conn) authenticated() bool {
	return c.creds.Token != "" || (c.creds.Username != "" && c.creds.Password != "")
}

// client returns an API client authenticated as the connection: "token
// <token>", else basic authentication, else anonymous.
func (p *Provider) client(c *conn) *restapi.Client {
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "berth-git-gitea/"+Version)
	switch {
	case c.creds.Token != "":
		h.Set("Authorization", "token "+c.creds.Token)
	case c.creds.Username != "" && c.creds.Password != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.creds.Username+":"+c.creds.Password)))
	}
	return &restapi.Client{Provider: "gitea", Base: c.api, HTTP: p.http, Timeout: p.Timeout(), Header: h}
}

// repository resolves the connection of creds and a repository name or
// URL on its host.
func (p *Provider) repository(creds *sdk.Credentials, repository string) (*conn, repoaddr.Address, error) {
	c, err := p.connection(creds)
	if err != nil {
		return nil, repoaddr.Address{}, err
	}
	a, err := repoaddr.Host{Web: c.web, MinSegments: 2, MaxSegments: 2}.Parse(repository)
	if err != nil {
		return nil, a, fmt.Errorf("gitea: %w", err)
	}
	return c, a, nil
}

// repoPath is the API path of a repository.
func repoPath(a repoaddr.Address) string {
	return "repos/" + url.PathEscape(a.Owner) + "/" + url.PathEscape(a.Name)
}
