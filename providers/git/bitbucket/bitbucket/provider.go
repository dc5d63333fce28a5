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
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/providers/git/generic/generic"
	"github.com/berth-dev/berth/providers/git/internal/gitlabbitbucket/reporef"
	"github.com/berth-dev/berth/providers/git/internal/gitlabbitbucket/restapi"
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

// Settings are the plugin's settings: defaults for connections.
type Settings struct {
	// BaseURL is the API root used when a connection's credentials have no
	// BaseURL (default https://api.bitbucket.org/2.0).
	BaseURL string `json:"base_url,omitempty"`
	// TimeoutSeconds bounds each API call (default 30).
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

const settingsSchema = `{
  "type": "object",
  "title": "Bitbucket Cloud",
  "description": "Defaults for Bitbucket Cloud connections. Each connection brings its own access token, or username and API token / app password.",
  "properties": {
    "base_url": {
      "type": "string", "format": "uri", "title": "API URL", "default": "https://api.bitbucket.org/2.0",
      "description": "Root of the Bitbucket Cloud REST API. Repositories are cloned from the same host without its \"api.\" prefix (https://bitbucket.org). Change it only to go through a proxy."
    },
    "timeout_seconds": {
      "type": "integer", "title": "API timeout (seconds)", "minimum": 1, "maximum": 300, "default": 30,
      "description": "How long one call to the Bitbucket API may take."
    }
  },
  "additionalProperties": false
}`

// Provider is the Bitbucket Cloud git provider. Use New.
type Provider struct {
	sdk.UnimplementedGitProvider

	git *generic.Provider

	mu       sync.RWMutex
	settings Settings
}

// New returns a Provider with the default settings.
func New() *Provider {
	git := generic.New()
	// Fetch only ever reaches the Bitbucket host: no local paths.
	if _, err := git.Configure(context.Background(), &sdk.ConfigureRequest{Settings: json.RawMessage(`{"allow_local": false}`)}); err != nil {
		panic(fmt.Sprintf("bitbucket: configuring the generic git client: %v", err))
	}
	return &Provider{git: git}
}

// Info describes the plugin.
func (p *Provider) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:          ID,
		Version:     Version,
		Description: "Bitbucket Cloud: fetch with an access token, API token or app password, list repositories and branches, push and pull request webhooks, build statuses.",
		Capabilities: []sdk.Capability{
			sdk.CapListRepositories, sdk.CapWebhooks, sdk.CapCommitStatus,
		},
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
		if _, err := restapi.ParseBaseURL(s.BaseURL); err != nil {
			errs.Add("base_url", "must be an http or https URL without credentials, query or fragment")
		}
	}
	if s.TimeoutSeconds < 0 || s.TimeoutSeconds > 300 {
		errs.Add("timeout_seconds", "must be between 1 and 300")
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

// connection is one request's view of Bitbucket.
type connection struct {
	api  *restapi.Client
	host reporef.Host
}

// connect prepares the API client and host for creds: the API root is
// creds.BaseURL, else the settings' base_url, else api.bitbucket.org/2.0
// ("/2.0" is added to a root without a path; the web host bitbucket.org is
// taken as api.bitbucket.org). Repositories live on the API's host
// without its "api." prefix.
func (p *Provider) connect(creds *sdk.Credentials) (*connection, error) {
	s := p.current()
	if creds == nil {
		creds = &sdk.Credentials{}
	}
	raw := creds.BaseURL
	if raw == "" {
		raw = s.BaseURL
	}
	if raw == "" {
		raw = DefaultBaseURL
	}
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
	authorize, err := authorization(creds)
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(s.TimeoutSeconds) * time.Second
	client, err := restapi.New(restapi.Config{
		Provider:  "bitbucket",
		BaseURL:   api.String(),
		Timeout:   timeout,
		UserAgent: "berth-git-bitbucket/" + Version,
		Authorize: authorize,
	})
	if err != nil {
		return nil, err
	}
	return &connection{
		api:  client,
		host: reporef.Host{Web: web, MinSegments: 2, MaxSegments: 2},
	}, nil
}

// authorization returns what authenticates API calls: an access token as
// a bearer token, or a username (or Atlassian account email) and API token
// or app password with basic authentication. No credentials: anonymous
// calls (public repositories only).
func authorization(creds *sdk.Credentials) (func(http.Header), error) {
	switch {
	case creds.Token != "":
		return func(h http.Header) { h.Set("Authorization", "Bearer "+creds.Token) }, nil
	case creds.Password != "":
		if creds.Username == "" {
			return nil, fmt.Errorf("bitbucket: an API token or app password needs the username (or the Atlassian account email for an API token): %w", sdk.ErrInvalidArgument)
		}
		basic := base64.StdEncoding.EncodeToString([]byte(creds.Username + ":" + creds.Password))
		return func(h http.Header) { h.Set("Authorization", "Basic "+basic) }, nil
	}
	return nil, nil
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
	out := &sdk.Credentials{SSHPrivateKey: creds.SSHPrivateKey, SSHKnownHosts: creds.SSHKnownHosts}
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
	conn, err := p.connect(req.Credentials)
	if err != nil {
		return nil, fmt.Errorf("bitbucket: fetch: %w", err)
	}
	ref, err := conn.host.Parse(req.Repository)
	if err != nil {
		return nil, fmt.Errorf("bitbucket: fetch: %w", err)
	}
	fetch := *req
	fetch.Repository = ref.CloneURL
	fetch.Credentials = gitCredentials(req.Credentials)
	r, err := p.git.Fetch(ctx, &fetch)
	if err != nil {
		return nil, fmt.Errorf("bitbucket: %w", err)
	}
	return r, nil
}

// repositoryPath is the API path of a repository, "/repositories/ws/slug".
func repositoryPath(name string) string {
	ws, slug, _ := strings.Cut(name, "/")
	return "/repositories/" + url.PathEscape(ws) + "/" + url.PathEscape(slug)
}
