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
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/providers/git/generic/generic"
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

// defaultTimeout bounds each API request when the settings do not.
const defaultTimeout = 30 * time.Second

// Settings are the plugin's settings. Connections carry their own
// credentials (and optionally their own BaseURL) on every request.
type Settings struct {
	// BaseURL is the API root for connections without one: empty for
	// github.com, "https://HOST/api/v3" for GitHub Enterprise Server.
	BaseURL string `json:"base_url,omitempty"`
	// TimeoutSeconds bounds each API request (default 30).
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

const settingsSchema = `{
  "type": "object",
  "title": "GitHub",
  "description": "github.com and GitHub Enterprise Server. Tokens and GitHub App keys are set per connection.",
  "properties": {
    "base_url": {
      "type": "string", "format": "uri", "title": "API URL", "default": "https://api.github.com",
      "description": "API root used by connections that do not set their own: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server."
    },
    "timeout_seconds": {
      "type": "integer", "title": "Request timeout (seconds)", "minimum": 1, "maximum": 600, "default": 30,
      "description": "How long one GitHub API request may take."
    }
  },
  "additionalProperties": false
}`

// Provider is the GitHub provider. Use New.
type Provider struct {
	sdk.UnimplementedGitProvider

	mu       sync.RWMutex
	settings Settings

	fetcher *generic.Provider
	http    *http.Client
	tokens  *tokenCache
	// now is the clock (tests move it).
	now func() time.Time
}

// New returns a Provider with the default settings.
func New() *Provider {
	fetcher := generic.New()
	// Repositories are always on GitHub: local paths are never fetched.
	if _, err := fetcher.Configure(context.Background(), &sdk.ConfigureRequest{Settings: json.RawMessage(`{"allow_local": false}`)}); err != nil {
		panic(fmt.Sprintf("github: configuring the generic fetcher: %v", err))
	}
	return &Provider{fetcher: fetcher, http: &http.Client{}, tokens: newTokenCache(), now: time.Now}
}

// Info describes the plugin.
func (p *Provider) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:           ID,
		Version:      Version,
		Description:  "GitHub and GitHub Enterprise Server: fetch with a token or a GitHub App, list repositories and branches, webhooks and commit statuses.",
		Capabilities: []sdk.Capability{sdk.CapListRepositories, sdk.CapWebhooks, sdk.CapCommitStatus},
	}, nil
}

// ConfigSchema returns the settings schema.
func (p *Provider) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: json.RawMessage(settingsSchema)}, nil
}

// Configure validates and applies settings, naming each bad field.
func (p *Provider) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s Settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	var errs sdk.ConfigError
	if s.BaseURL != "" {
		if _, _, err := endpoints(s.BaseURL); err != nil {
			errs.Add("base_url", err.Error())
		}
	}
	if s.TimeoutSeconds < 0 || s.TimeoutSeconds > 600 {
		errs.Add("timeout_seconds", "must be between 1 and 600")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.settings = s
	p.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

func (p *Provider) current() Settings {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.settings
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
	u, err := url.Parse(strings.TrimSpace(base))
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("base URL %q is not a URL: %w", base, sdk.ErrInvalidArgument)
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, nil, fmt.Errorf("base URL %q: want an https:// URL: %w", base, sdk.ErrInvalidArgument)
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, nil, fmt.Errorf("base URL %q: want scheme://host[/path] without credentials, query or fragment: %w", base, sdk.ErrInvalidArgument)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
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
// settings'). It makes no request.
func (p *Provider) connection(creds *sdk.Credentials) (*conn, error) {
	c := &conn{}
	if creds != nil {
		c.creds = *creds
	}
	base := c.creds.BaseURL
	if base == "" {
		base = p.current().BaseURL
	}
	var err error
	if c.api, c.web, err = endpoints(base); err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	return c, nil
}

// timeout is the per-request timeout of the settings.
func (p *Provider) timeout() time.Duration {
	if s := p.current().TimeoutSeconds; s > 0 {
		return time.Duration(s) * time.Second
	}
	return defaultTimeout
}

// client returns an API client that sends no credentials.
func (p *Provider) client(c *conn) *restapi.Client {
	h := http.Header{}
	h.Set("Accept", "application/vnd.github+json")
	h.Set("X-GitHub-Api-Version", apiVersion)
	h.Set("User-Agent", "berth-git-github/"+Version)
	return &restapi.Client{Provider: "github", Base: c.api, HTTP: p.http, Timeout: p.timeout(), Header: h}
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

// repository resolves a repository name or URL on the connection's host.
func (c *conn) repository(repository string) (repoaddr.Address, error) {
	a, err := repoaddr.Resolve(repository, c.web)
	if err != nil {
		return a, fmt.Errorf("github: %w", err)
	}
	return a, nil
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
