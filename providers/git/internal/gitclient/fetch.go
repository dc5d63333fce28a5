// Package gitclient is the git client berth's git providers share: it
// fetches from any git host over https, ssh or the local file system with
// the system git, and lists branches with git ls-remote. The generic git
// provider (git.generic) is this client with its settings; the hosted
// providers (GitHub, Gitea, GitLab, Bitbucket) clone through it, without
// local paths, with the credentials their host expects.
//
// Security: git runs with an argument list (never a shell) in a private,
// temporary HOME; credentials reach it only through environment
// configuration (an http.extraHeader scoped to the repository's origin, an
// SSH key file readable by the plugin alone and deleted after the call), so
// they never show in a process listing, and they are scrubbed from every log
// line and error. Repositories and refs that git could read as options are
// refused, and submodules of remote repositories cannot use local paths.
package gitclient

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/sdk"
)

// Options are what a provider's settings say about fetching.
type Options struct {
	// AllowLocal allows absolute paths and file:// URLs as repositories.
	AllowLocal bool
	// Submodules makes Fetch check out submodules recursively.
	Submodules bool
	// SSHKnownHosts is known_hosts content that SSH host keys are checked
	// against. Empty: host keys are accepted on first use (per fetch).
	SSHKnownHosts string
}

// open validates a repository against the options and prepares a session
// to reach it.
func open(opts Options, repository string, creds *sdk.Credentials) (*session, error) {
	r, err := ParseRemote(repository)
	if err != nil {
		return nil, err
	}
	if r.Transport == TransportLocal && !opts.AllowLocal {
		return nil, fmt.Errorf("repository %s: local repositories are not allowed (setting allow_local): %w", r.URL, sdk.ErrInvalidArgument)
	}
	return newSession(r, creds, opts.SSHKnownHosts)
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
// when opts.Submodules says so.
func Fetch(ctx context.Context, opts Options, req *sdk.FetchRequest) (*sdk.FetchResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if err := checkRef(req.Ref); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if !filepath.IsAbs(req.Dir) {
		return nil, fmt.Errorf("fetch: directory %q must be absolute: %w", req.Dir, sdk.ErrInvalidArgument)
	}
	s, err := open(opts, req.Repository, req.Credentials)
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
	if opts.Submodules {
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
func ListBranches(ctx context.Context, opts Options, req *sdk.ListBranchesRequest) (*sdk.ListBranchesResponse, error) {
	s, err := open(opts, req.Repository, req.Credentials)
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
