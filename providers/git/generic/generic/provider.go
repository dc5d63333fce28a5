// Package generic implements berth's generic git provider (id git.generic):
// it fetches from any git host over https, ssh or the local file system with
// the system git, and lists branches with git ls-remote. Host-specific
// features (webhooks, commit statuses, repository search) belong to the
// providers of each host.
//
// Security: git runs with an argument list (never a shell) in a private,
// temporary HOME; credentials reach it only through environment
// configuration (an http.extraHeader scoped to the repository's origin, an
// SSH key file readable by the plugin alone and deleted after the call), so
// they never show in a process listing, and they are scrubbed from every log
// line and error. Repositories and refs that git could read as options are
// refused, and submodules of remote repositories cannot use local paths.
package generic

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/berth-dev/berth/plugins/settingsschema"
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
		r, err := parseRemote(repo)
		switch {
		case err != nil:
			errs.Add(fmt.Sprintf("repositories[%d]", i), strings.TrimSuffix(err.Error(), ": "+sdk.ErrInvalidArgument.Error()))
		case r.Password != "":
			errs.Add(fmt.Sprintf("repositories[%d]", i), "must not contain a password: give credentials with the app")
		case r.Transport == transportLocal && !boolOr(s.AllowLocal, true):
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

func (p *Provider) current() Settings {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.settings
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// open validates a repository against the settings and prepares a session
// to reach it.
func (p *Provider) open(repository string, creds *sdk.Credentials) (*session, error) {
	s := p.current()
	r, err := parseRemote(repository)
	if err != nil {
		return nil, err
	}
	if r.Transport == transportLocal && !boolOr(s.AllowLocal, true) {
		return nil, fmt.Errorf("repository %s: local repositories are not allowed (setting allow_local): %w", r.URL, sdk.ErrInvalidArgument)
	}
	return newSession(r, creds, s.SSHKnownHosts)
}

// remoteRefs are the refs git ls-remote lists.
type remoteRefs struct {
	// commits maps full ref names to the commit they point to (peeled for
	// annotated tags).
	commits map[string]string
	// head is the ref HEAD points to, "" when the server does not say.
	head string
}

// lsRemote lists the remote's refs. patterns narrow the listing (--heads).
func (s *session) lsRemote(ctx context.Context, args ...string) (*remoteRefs, error) {
	args = append(append([]string{"ls-remote", "--symref"}, args...), "--", s.remote.URL)
	out, err := s.git(ctx, "", nil, args...)
	if err != nil {
		return nil, fmt.Errorf("listing refs of %s: %w", s.remote.URL, err)
	}
	refs := &remoteRefs{commits: map[string]string{}}
	peeled := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		left, name, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok {
			continue
		}
		if target, sym := strings.CutPrefix(left, "ref: "); sym {
			if name == "HEAD" {
				refs.head = target
			}
			continue
		}
		if base, ok := strings.CutSuffix(name, "^{}"); ok {
			peeled[base] = left
			continue
		}
		refs.commits[name] = left
	}
	for name, commit := range peeled {
		refs.commits[name] = commit
	}
	return refs, nil
}

// target is what a requested ref resolved to.
type target struct {
	// ref is the full ref to fetch ("refs/heads/main", "HEAD"), empty
	// for a commit.
	ref string
	// commit is the requested commit id (full or abbreviated) when ref is
	// empty.
	commit string
}

// resolve finds what to fetch for a requested ref: empty (the default
// branch), a full ref, a branch, a tag, or a commit id.
func (r *remoteRefs) resolve(requested string) (target, bool) {
	switch {
	case requested == "" || requested == "HEAD":
		if r.head != "" {
			return target{ref: r.head}, true
		}
		_, ok := r.commits["HEAD"]
		return target{ref: "HEAD"}, ok
	case strings.HasPrefix(requested, "refs/"):
		_, ok := r.commits[requested]
		return target{ref: requested}, ok
	}
	for _, full := range []string{"refs/heads/" + requested, "refs/tags/" + requested} {
		if _, ok := r.commits[full]; ok {
			return target{ref: full}, true
		}
	}
	if isSHA(requested) {
		return target{commit: requested}, true
	}
	return target{}, false
}

// Fetch clones req.Repository into req.Dir, or fetches into the clone
// already there, and checks out req.Ref: a branch or tag (shallow, depth 1
// unless req.Depth says otherwise), or a full or abbreviated commit id
// (tried shallow when full, else with a full fetch). Submodules follow
// unless the settings turn them off.
func (p *Provider) Fetch(ctx context.Context, req *sdk.FetchRequest) (*sdk.FetchResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if err := checkRef(req.Ref); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if !filepath.IsAbs(req.Dir) {
		return nil, fmt.Errorf("fetch: directory %q must be absolute: %w", req.Dir, sdk.ErrInvalidArgument)
	}
	s, err := p.open(req.Repository, req.Credentials)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer s.close()
	repo := s.remote.URL
	log := req.Log
	if s.hostKeyUnverified {
		log.Printf("warning: no SSH known_hosts given: the host key of %s is accepted without verification", s.remote.Host)
	}

	log.Printf("resolving %s in %s", refOrDefault(req.Ref), repo)
	refs, err := s.lsRemote(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	tgt, ok := refs.resolve(req.Ref)
	if !ok {
		return nil, fmt.Errorf("fetch %s: ref %q: no such branch, tag or commit: %w", repo, req.Ref, sdk.ErrNotFound)
	}
	if err := s.initRepo(ctx, req.Dir, log); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", repo, err)
	}

	depth := req.Depth
	if depth == 0 {
		depth = 1
	}
	checkout := "FETCH_HEAD"
	resolvedRef := tgt.ref
	if tgt.ref != "" {
		log.Printf("fetching %s", tgt.ref)
		if err := s.fetch(ctx, req.Dir, log, depth, tgt.ref); err != nil {
			return nil, fmt.Errorf("fetch %s %s: %w", repo, tgt.ref, err)
		}
	} else {
		commit, err := s.fetchCommit(ctx, req.Dir, log, depth, tgt.commit)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", repo, err)
		}
		checkout, resolvedRef = commit, commit
	}
	steps := [][]string{
		{"checkout", "-q", "--force", "--detach", checkout},
		{"clean", "-q", "-ffdx"},
	}
	for _, step := range steps {
		if _, err := s.git(ctx, req.Dir, log, step...); err != nil {
			return nil, fmt.Errorf("fetch %s: checking out %s: %w", repo, refOrDefault(req.Ref), err)
		}
	}
	if boolOr(p.current().Submodules, true) {
		if err := s.submodules(ctx, req.Dir, log); err != nil {
			return nil, fmt.Errorf("fetch %s: %w", repo, err)
		}
	}
	out, err := s.git(ctx, req.Dir, nil, "log", "-1", "--format=%H%n%s")
	if err != nil {
		return nil, fmt.Errorf("fetch %s: reading the commit: %w", repo, err)
	}
	commit, subject, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if resolvedRef == "" || resolvedRef == tgt.commit {
		resolvedRef = commit
	}
	log.Printf("checked out %s at %s: %s", resolvedRef, commit, subject)
	return &sdk.FetchResponse{Commit: commit, Ref: resolvedRef, Subject: subject}, nil
}

func refOrDefault(ref string) string {
	if ref == "" {
		return "the default branch"
	}
	return ref
}

// initRepo makes dir a git repository, unless it is one already, whose
// origin is the session's remote (submodules with relative URLs resolve
// against it; it never holds credentials).
func (s *session) initRepo(ctx context.Context, dir string, log sdk.LogFunc) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); errors.Is(err, fs.ErrNotExist) {
		if _, err := s.git(ctx, "", log, "init", "-q", "--", dir); err != nil {
			return fmt.Errorf("initialising %s: %w", dir, err)
		}
	} else if err != nil {
		return fmt.Errorf("inspecting %s: %w", dir, err)
	}
	if _, err := s.git(ctx, dir, log, "config", "remote.origin.url", s.remote.URL); err != nil {
		return fmt.Errorf("recording the origin in %s: %w", dir, err)
	}
	return nil
}

// fetch fetches refspecs from the remote, shallow when depth > 0.
func (s *session) fetch(ctx context.Context, dir string, log sdk.LogFunc, depth int, refspecs ...string) error {
	args := []string{"fetch", "--progress", "--force", "--no-tags"}
	if depth > 0 {
		args = append(args, "--depth", strconv.Itoa(depth))
	} else if shallow, _ := s.git(ctx, dir, nil, "rev-parse", "--is-shallow-repository"); strings.TrimSpace(shallow) == "true" {
		args = append(args, "--unshallow")
	}
	args = append(append(args, "--", s.remote.URL), refspecs...)
	_, err := s.git(ctx, dir, log, args...)
	return err
}

// fetchCommit fetches the commit named by a full or abbreviated id and
// returns its full id. A full id is first fetched directly and shallow
// (servers that allow it); otherwise every branch and tag is fetched and the
// id looked up among them.
func (s *session) fetchCommit(ctx context.Context, dir string, log sdk.LogFunc, depth int, id string) (string, error) {
	if isFullSHA(id) {
		log.Printf("fetching commit %s", id)
		err := s.fetch(ctx, dir, nil, depth, id)
		if err == nil {
			return id, nil
		}
		if ctx.Err() != nil {
			return "", err
		}
		log.Printf("the server does not serve commit %s directly; fetching every branch and tag", id)
	} else {
		log.Printf("fetching every branch and tag to find commit %s", id)
	}
	if err := s.fetch(ctx, dir, log, -1, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"); err != nil {
		return "", fmt.Errorf("fetching all branches and tags: %w", err)
	}
	out, err := s.git(ctx, dir, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", id+"^{commit}")
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", fmt.Errorf("commit %s: not in any branch or tag (or ambiguous): %w", id, sdk.ErrNotFound)
	}
	return strings.TrimSpace(out), nil
}

// submodules checks out the submodules recursively, when there are any.
func (s *session) submodules(ctx context.Context, dir string, log sdk.LogFunc) error {
	if _, err := os.Stat(filepath.Join(dir, ".gitmodules")); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	log.Printf("checking out submodules")
	for _, step := range [][]string{
		{"submodule", "sync", "--recursive", "--quiet"},
		{"submodule", "update", "--init", "--recursive", "--force", "--progress"},
	} {
		if _, err := s.git(ctx, dir, log, step...); err != nil {
			return fmt.Errorf("submodules: %w", err)
		}
	}
	return nil
}

// ListBranches lists the repository's branches with git ls-remote, sorted
// by name, marking the default one.
func (p *Provider) ListBranches(ctx context.Context, req *sdk.ListBranchesRequest) (*sdk.ListBranchesResponse, error) {
	s, err := p.open(req.Repository, req.Credentials)
	if err != nil {
		return nil, fmt.Errorf("list branches: %w", err)
	}
	defer s.close()
	refs, err := s.lsRemote(ctx)
	if err != nil {
		return nil, fmt.Errorf("list branches: %w", err)
	}
	out := &sdk.ListBranchesResponse{}
	for ref, commit := range refs.commits {
		if name, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
			out.Branches = append(out.Branches, sdk.Branch{Name: name, Commit: commit, Default: ref == refs.head})
		}
	}
	sort.Slice(out.Branches, func(i, j int) bool { return out.Branches[i].Name < out.Branches[j].Name })
	return out, nil
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
		r, err := parseRemote(raw)
		if err != nil || (req.Query != "" && !strings.Contains(strings.ToLower(raw), strings.ToLower(req.Query))) {
			continue
		}
		repo := sdk.Repository{FullName: repositoryName(r), CloneURL: r.URL}
		if r.Transport == transportHTTP {
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

// repositoryName is a short name for a repository: "owner/repo" from
// "https://host/owner/repo.git", the path of a local repository.
func repositoryName(r remote) string {
	var p string
	switch {
	case r.Transport == transportLocal:
		p = r.URL
	case strings.Contains(r.URL, "://"):
		if u, err := url.Parse(r.URL); err == nil {
			p = u.Path
		}
	default:
		_, p, _ = strings.Cut(r.URL, ":")
	}
	p = strings.TrimSuffix(strings.Trim(path.Clean("/"+filepath.ToSlash(p)), "/"), ".git")
	if p == "" {
		return r.URL
	}
	return p
}
