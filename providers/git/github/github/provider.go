// Package github implements berth's GitHub provider (id git.github) for
// github.com and GitHub Enterprise Server: it fetches code (through the
// generic git provider, with the credentials GitHub expects over https),
// lists repositories and branches through the REST API, verifies and parses
// webhooks, and sets commit statuses.
//
// A connection authenticates with a personal access token (classic or
// fine-grained) in Credentials.Token, or as a GitHub App installation
// (Credentials.App): the provider signs a short-lived RS256 JWT with the
// app's private key, exchanges it for an installation token and caches that
// token until a minute before it expires. Tokens are never logged.
package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/berth-dev/berth/providers/git/internal/clonefetch"
	"github.com/berth-dev/berth/providers/git/internal/hostsettings"
	"github.com/berth-dev/berth/providers/git/internal/repoaddr"
	"github.com/berth-dev/berth/providers/git/internal/restapi"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin id.
const ID = "git.github"

// Version is the plugin's version.
const Version = "1.0.0"

// PublicAPI is the API root of github.com.
const PublicAPI = "https://api.github.com"

// apiVersion is the REST API version requested (X-GitHub-Api-Version).
const apiVersion = "2022-11-28"

// spec is the plugin's description and the wording of its settings.
var spec = hostsettings.Spec{
	Info: sdk.InfoResponse{
		ID:           ID,
		Version:      Version,
		Description:  "GitHub and GitHub Enterprise Server: fetch with a token or a GitHub App, list repositories and branches, webhooks and commit statuses.",
		Capabilities: []sdk.Capability{sdk.CapListRepositories, sdk.CapWebhooks, sdk.CapCommitStatus},
	},
	Title:              "GitHub",
	Description:        "github.com and GitHub Enterprise Server. Tokens and GitHub App keys are set per connection.",
	BaseURLTitle:       "API URL",
	DefaultBaseURL:     PublicAPI,
	BaseURLDescription: "API root used by connections that do not set their own: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server.",
	TimeoutTitle:       "Request timeout (seconds)",
	TimeoutDescription: "How long one GitHub API request may take.",
	MaxTimeoutSeconds:  600,
}

// Provider is the GitHub provider. Use New. Its settings (base_url,
// timeout_seconds) are hostsettings'; connections carry their own
// credentials (and optionally their own BaseURL) on every request.
type Provider struct {
	sdk.UnimplementedGitProvider
	*hostsettings.Plugin

	fetcher *clonefetch.Fetcher
	http    *http.Client
	tokens  *tokenCache
	// now is the clock (tests move it).
	now func() time.Time
}

// New returns a Provider with the default settings.
func New() *Provider {
	return &Provider{Plugin: hostsettings.New(spec), fetcher: clonefetch.New("github"), http: &http.Client{}, tokens: newTokenCache(), now: time.Now}
}

// endpoints derives the API root and the web root (where repositories are
// cloned from) of a base URL:
//
//	""                          https://api.github.com  https://github.com
//	https://api.github.com      https://api.github.com  https://github.com
//	https://github.com          https://api.github.com  https://github.com
//	https://api.X.ghe.com       (as given)              https://X.ghe.com
//	https://HOST/api/v3         (as given)              https://HOST
//	https://HOST                https://HOST/api/v3     https://HOST
func endpoints(base string) (api, web *url.URL, err error) {
	if base == "" {
		base = PublicAPI
	}
	u, err := restapi.ParseBaseURL(base)
	if err != nil {
		return nil, nil, err
	}
	u.RawPath = ""
	host := strings.ToLower(u.Hostname())
	root := func(path string) *url.URL { return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: path} }
	switch {
	case host == "github.com" || host == "api.github.com":
		api, _ := url.Parse(PublicAPI)
		web, _ := url.Parse("https://github.com")
		return api, web, nil
	case strings.HasPrefix(host, "api.") && u.Path == "":
		web := root("")
		web.Host = u.Host[len("api."):]
		return u, web, nil
	case strings.HasSuffix(u.Path, "/api/v3"):
		return u, root(strings.TrimSuffix(u.Path, "/api/v3")), nil
	default:
		return root(u.Path + "/api/v3"), root(u.Path), nil
	}
}

// conn is one request's view of a connection: where its API and
// repositories are, and how it authenticates.
type conn struct {
	api   *url.URL
	web   *url.URL
	creds sdk.Credentials
}

// connection resolves the endpoints of creds (their BaseURL, else the
// settings', else github.com). It makes no request.
func (p *Provider) connection(creds *sdk.Credentials) (*conn, error) {
	c := &conn{}
	if creds != nil {
		c.creds = *creds
	}
	var err error
	if c.api, c.web, err = endpoints(p.BaseURL(creds)); err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	return c, nil
}

// client returns an API client that sends no credentials.
func (p *Provider) client(c *conn) *restapi.Client {
	h := http.Header{}
	h.Set("Accept", "application/vnd.github+json")
	h.Set("X-GitHub-Api-Version", apiVersion)
	h.Set("User-Agent", "berth-git-github/"+Version)
	return &restapi.Client{Provider: "github", Base: c.api, HTTP: p.http, Timeout: p.Timeout(), Header: h}
}

// token returns the token the connection authenticates with: an
// installation token for a GitHub App, else Token (or Password, where a
// token is often pasted), else "" (anonymous: public repositories only).
func (p *Provider) token(ctx context.Context, c *conn) (string, error) {
	switch {
	case c.creds.App != nil:
		return p.installationToken(ctx, c)
	case c.creds.Token != "":
		return c.creds.Token, nil
	default:
		return c.creds.Password, nil
	}
}

// authorized returns an API client that authenticates as the connection,
// and the token it uses ("" when anonymous).
func (p *Provider) authorized(ctx context.Context, c *conn) (*restapi.Client, string, error) {
	tok, err := p.token(ctx, c)
	if err != nil {
		return nil, "", err
	}
	api := p.client(c)
	if tok != "" {
		api.Header.Set("Authorization", "Bearer "+tok)
	}
	return api, tok, nil
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
		return nil, a, fmt.Errorf("github: %w", err)
	}
	return c, a, nil
}

// forgetOnReject drops a cached installation token that GitHub refused, so
// that the next call exchanges a new one.
func (p *Provider) forgetOnReject(c *conn, err error) {
	if c.creds.App == nil {
		return
	}
	var e *restapi.Error
	if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
		p.tokens.forget(cacheKey(c))
	}
}
