// Package generic implements berth's generic git provider (id git.generic):
// it fetches from any git host over https, ssh or the local file system with
// the system git, and lists branches with git ls-remote, through the git
// client the providers share (providers/git/internal/gitclient, which says
// how credentials are kept out of process listings and logs). Host-specific
// features (webhooks, commit statuses, repository search) belong to the
// providers of each host.
package generic

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/providers/git/internal/gitclient"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin id.
const ID = "git.generic"

// Version is the plugin's version.
const Version = "1.0.0"

// Settings are the plugin's settings. Their tags make the settings schema.
type Settings struct {
	// AllowLocal allows absolute paths and file:// URLs as repositories
	// (default true).
	AllowLocal *bool `json:"allow_local,omitempty" jsonschema:"title=Allow local repositories,default=true" jsonschema_description:"Allow absolute paths and file:// URLs on the berth host as repositories. Turn off when people you do not trust can create apps."`
	// Submodules makes Fetch check out submodules recursively (default
	// true).
	Submodules *bool `json:"submodules,omitempty" jsonschema:"title=Submodules,default=true" jsonschema_description:"Check out submodules, recursively, after fetching. Submodules of remote repositories cannot point at local paths."`
	// SSHKnownHosts is known_hosts content that SSH host keys are checked
	// against. Empty: host keys are accepted on first use (per fetch).
	SSHKnownHosts string `json:"ssh_known_hosts,omitempty" jsonschema:"title=SSH known hosts,format=textarea" jsonschema_description:"known_hosts lines (for example from ssh-keyscan) that SSH host keys must match. Empty: a host key is accepted on first use, without verification."`
	// Repositories are the clone URLs ListRepositories offers.
	Repositories []string `json:"repositories,omitempty" jsonschema:"title=Repositories" jsonschema_description:"Clone URLs (https://, ssh://, git@host:path or absolute paths) offered in the repository picker."`
}

// settingsSchema is the settings' schema.
var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Generic git", "Fetches from any git host over https, ssh or the local file system."))

// Provider is the generic git provider. The zero value is not ready: use New.
type Provider struct {
	sdk.UnimplementedGitProvider

	mu       sync.RWMutex
	settings Settings
}

// New returns a Provider with the default settings.
func New() *Provider { return &Provider{} }

// Info describes the plugin.
func (p *Provider) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:           ID,
		Version:      Version,
		Description:  "Fetches from any git host over https (token or password), ssh (deploy key) or a local path, with the system git.",
		Capabilities: []sdk.Capability{sdk.CapListRepositories},
	}, nil
}

// ConfigSchema returns the settings schema; the provider has no per-app
// settings.
func (p *Provider) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: settingsSchema}, nil
}

// Configure validates and applies settings, naming each bad field.
func (p *Provider) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s Settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	var errs sdk.ConfigError
	for i, line := range strings.Split(s.SSHKnownHosts, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(strings.Fields(line)) < 3 {
			errs.Add("ssh_known_hosts", fmt.Sprintf("line %d is not a known_hosts entry (want: host key-type key)", i+1))
		}
	}
	for i, repo := range s.Repositories {
		r, err := gitclient.ParseRemote(repo)
		switch {
		case err != nil:
			errs.Add(fmt.Sprintf("repositories[%d]", i), strings.TrimSuffix(err.Error(), ": "+sdk.ErrInvalidArgument.Error()))
		case r.Password != "":
			errs.Add(fmt.Sprintf("repositories[%d]", i), "must not contain a password: give credentials with the app")
		case r.Transport == gitclient.TransportLocal && !boolOr(s.AllowLocal, true):
			errs.Add(fmt.Sprintf("repositories[%d]", i), "is a local path but allow_local is off")
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.settings = s
	p.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// current returns the settings in force.
func (p *Provider) current() Settings {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.settings
}

// boolOr is *b, or def when b is nil.
func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// options are the git client's options of the settings in force.
func (p *Provider) options() gitclient.Options {
	s := p.current()
	return gitclient.Options{AllowLocal: boolOr(s.AllowLocal, true), Submodules: boolOr(s.Submodules, true), SSHKnownHosts: s.SSHKnownHosts}
}

// Fetch clones req.Repository into req.Dir, or fetches into the clone
// already there, and checks out req.Ref (see gitclient.Fetch). Submodules
// follow unless the settings turn them off.
func (p *Provider) Fetch(ctx context.Context, req *sdk.FetchRequest) (*sdk.FetchResponse, error) {
	return gitclient.Fetch(ctx, p.options(), req)
}

// ListBranches lists the repository's branches with git ls-remote, sorted
// by name, marking the default one.
func (p *Provider) ListBranches(ctx context.Context, req *sdk.ListBranchesRequest) (*sdk.ListBranchesResponse, error) {
	return gitclient.ListBranches(ctx, p.options(), req)
}

// ListRepositories lists the repositories of the settings whose URL
// contains req.Query, sorted by name, a page at a time. A generic git host
// has no API to list repositories with.
func (p *Provider) ListRepositories(ctx context.Context, req *sdk.ListRepositoriesRequest) (*sdk.ListRepositoriesResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	var repos []sdk.Repository
	for _, raw := range p.current().Repositories {
		r, err := gitclient.ParseRemote(raw)
		if err != nil || (req.Query != "" && !strings.Contains(strings.ToLower(raw), strings.ToLower(req.Query))) {
			continue
		}
		repo := sdk.Repository{FullName: r.Name(), CloneURL: r.URL}
		if r.Transport == gitclient.TransportHTTP {
			repo.WebURL = strings.TrimSuffix(r.URL, ".git")
		}
		repos = append(repos, repo)
	}
	sort.Slice(repos, func(i, j int) bool { return repos[i].FullName < repos[j].FullName })
	start := 0
	if req.PageToken != "" {
		n, err := strconv.Atoi(req.PageToken)
		if err != nil || n < 0 || n > len(repos) {
			return nil, fmt.Errorf("list repositories: bad page token %q: %w", req.PageToken, sdk.ErrInvalidArgument)
		}
		start = n
	}
	size := req.PageSize
	if size <= 0 {
		size = 100
	}
	end := min(start+size, len(repos))
	out := &sdk.ListRepositoriesResponse{Repositories: repos[start:end]}
	if end < len(repos) {
		out.NextPageToken = strconv.Itoa(end)
	}
	return out, nil
}
