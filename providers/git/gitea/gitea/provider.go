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
	"context"
	"encoding/base64"
	"encoding/json"
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
const ID = "git.gitea"

// Version is the plugin's version.
const Version = "1.0.0"

// PublicURL is the instance used when neither the connection nor the
// settings name one.
const PublicURL = "https://gitea.com"

// apiPath is where Gitea serves its REST API under the instance's URL.
const apiPath = "/api/v1"

// defaultTimeout bounds each API request when the settings do not.
const defaultTimeout = 30 * time.Second

// Settings are the plugin's settings. Connections carry their own
// credentials (and usually their own BaseURL) on every request.
type Settings struct {
	// BaseURL is the instance for connections without one
	// ("https://git.example.com"); empty means gitea.com.
	BaseURL string `json:"base_url,omitempty"`
	// TimeoutSeconds bounds each API request (default 30).
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

const settingsSchema = `{
  "type": "object",
  "title": "Gitea",
  "description": "Self-hosted Gitea or Forgejo, and gitea.com. Access tokens are set per connection.",
  "properties": {
    "base_url": {
      "type": "string", "format": "uri", "title": "Instance URL", "default": "https://gitea.com",
      "description": "URL of the Gitea instance used by connections that do not set their own, for example https://git.example.com (the API is under /api/v1)."
    },
    "timeout_seconds": {
      "type": "integer", "title": "Request timeout (seconds)", "minimum": 1, "maximum": 600, "default": 30,
      "description": "How long one Gitea API request may take."
    }
  },
  "additionalProperties": false
}`

// Provider is the Gitea provider. Use New.
type Provider struct {
	sdk.UnimplementedGitProvider

	mu       sync.RWMutex
	settings Settings

	fetcher *generic.Provider
	http    *http.Client
}

// New returns a Provider with the default settings.
func New() *Provider {
	fetcher := generic.New()
	// Repositories are always on the Gitea instance: local paths are never
	// fetched.
	if _, err := fetcher.Configure(context.Background(), &sdk.ConfigureRequest{Settings: json.RawMessage(`{"allow_local": false}`)}); err != nil {
		panic(fmt.Sprintf("gitea: configuring the generic fetcher: %v", err))
	}
	return &Provider{fetcher: fetcher, http: &http.Client{}}
}

// Info describes the plugin.
func (p *Provider) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:           ID,
		Version:      Version,
		Description:  "Gitea and Forgejo: fetch with an access token, list repositories and branches, webhooks and commit statuses.",
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
// cloned from) of an instance URL. The URL may name the API root itself:
//
//	https://git.example.com             https://git.example.com/api/v1        https://git.example.com
//	https://example.com/gitea/api/v1    https://example.com/gitea/api/v1      https://example.com/gitea
func endpoints(base string) (api, web *url.URL, err error) {
	if base == "" {
		base = PublicURL
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
	path := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), apiPath)
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
	base := c.creds.BaseURL
	if base == "" {
		base = p.current().BaseURL
	}
	var err error
	if c.api, c.web, err = endpoints(base); err != nil {
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
	timeout := defaultTimeout
	if s := p.current().TimeoutSeconds; s > 0 {
		timeout = time.Duration(s) * time.Second
	}
	return &restapi.Client{Provider: "gitea", Base: c.api, HTTP: p.http, Timeout: timeout, Header: h}
}

// repository resolves a repository name or URL on the connection's
// instance.
func (c *conn) repository(repository string) (repoaddr.Address, error) {
	a, err := repoaddr.Resolve(repository, c.web)
	if err != nil {
		return a, fmt.Errorf("gitea: %w", err)
	}
	return a, nil
}

// repoPath is the API path of a repository.
func repoPath(a repoaddr.Address) string {
	return "repos/" + url.PathEscape(a.Owner) + "/" + url.PathEscape(a.Name)
}
