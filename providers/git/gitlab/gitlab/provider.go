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
const ID = "git.gitlab"

// Version is the plugin's version.
const Version = "1.0.0"

// DefaultBaseURL is the GitLab used when neither the connection nor the
// settings name one.
const DefaultBaseURL = "https://gitlab.com"

// apiPath is where the REST API v4 lives under an instance's root.
const apiPath = "/api/v4"

// Settings are the plugin's settings: defaults for connections.
type Settings struct {
	// BaseURL is the root of the GitLab instance used when a connection's
	// credentials have no BaseURL ("https://gitlab.example.com"; default
	// https://gitlab.com).
	BaseURL string `json:"base_url,omitempty"`
	// TimeoutSeconds bounds each API call (default 30).
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

const settingsSchema = `{
  "type": "object",
  "title": "GitLab",
  "description": "Defaults for GitLab connections. Each connection brings its own access token and may name its own instance.",
  "properties": {
    "base_url": {
      "type": "string", "format": "uri", "title": "GitLab URL", "default": "https://gitlab.com",
      "description": "Root URL of the GitLab instance used by connections that do not name one, for example https://gitlab.example.com (the API is under /api/v4)."
    },
    "timeout_seconds": {
      "type": "integer", "title": "API timeout (seconds)", "minimum": 1, "maximum": 300, "default": 30,
      "description": "How long one call to the GitLab API may take."
    }
  },
  "additionalProperties": false
}`

// Provider is the GitLab git provider. Use New.
type Provider struct {
	sdk.UnimplementedGitProvider

	git *generic.Provider

	mu       sync.RWMutex
	settings Settings
}

// New returns a Provider with the default settings.
func New() *Provider {
	git := generic.New()
	// Fetch only ever reaches the GitLab host: no local paths.
	if _, err := git.Configure(context.Background(), &sdk.ConfigureRequest{Settings: json.RawMessage(`{"allow_local": false}`)}); err != nil {
		panic(fmt.Sprintf("gitlab: configuring the generic git client: %v", err))
	}
	return &Provider{git: git}
}

// Info describes the plugin.
func (p *Provider) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:          ID,
		Version:     Version,
		Description: "GitLab.com and self-managed GitLab: fetch with an access token or deploy key, list projects and branches, merge request and push webhooks, commit statuses.",
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

// connection is one request's view of a GitLab instance.
type connection struct {
	api  *restapi.Client
	host reporef.Host
}

// connect prepares the API client and host for creds: the instance is
// creds.BaseURL, else the settings' base_url, else gitlab.com. A BaseURL
// ending in /api/v4 is accepted too.
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
	web, err := restapi.ParseBaseURL(raw)
	if err != nil {
		return nil, err
	}
	web.Path = strings.TrimSuffix(web.Path, apiPath)
	web.RawPath = ""
	timeout := time.Duration(s.TimeoutSeconds) * time.Second
	token := apiToken(creds)
	api, err := restapi.New(restapi.Config{
		Provider:       "gitlab",
		BaseURL:        web.String() + apiPath,
		Timeout:        timeout,
		CredentialName: "token",
		UserAgent:      "berth-git-gitlab/" + Version,
		Authorize: func(h http.Header) {
			if token != "" {
				// Personal, project, group and OAuth tokens are all
				// accepted as a bearer token.
				h.Set("Authorization", "Bearer "+token)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return &connection{
		api:  api,
		host: reporef.Host{Web: web, MinSegments: 2, WebSeparator: "/-/"},
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
	out := &sdk.Credentials{SSHPrivateKey: creds.SSHPrivateKey, SSHKnownHosts: creds.SSHKnownHosts}
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
	conn, err := p.connect(req.Credentials)
	if err != nil {
		return nil, fmt.Errorf("gitlab: fetch: %w", err)
	}
	ref, err := conn.host.Parse(req.Repository)
	if err != nil {
		return nil, fmt.Errorf("gitlab: fetch: %w", err)
	}
	fetch := *req
	fetch.Repository = ref.CloneURL
	fetch.Credentials = gitCredentials(req.Credentials)
	r, err := p.git.Fetch(ctx, &fetch)
	if err != nil {
		return nil, fmt.Errorf("gitlab: %w", err)
	}
	return r, nil
}

// projectPath is the API's id for a project: its full path, URL-encoded
// ("group%2Fsub%2Fproject").
func projectPath(name string) string {
	return url.PathEscape(name)
}
