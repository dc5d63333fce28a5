// Package repoaddr resolves the repository addresses berth's hosted git
// providers accept — a name ("owner/repo", or "group/subgroup/project" on
// GitLab), an https URL (clone or web page) or an ssh URL
// ("git@host:owner/repo.git", "ssh://git@host/owner/repo.git") — into the
// name the host's API uses and the URL to clone. URLs must point at the
// connection's own host, so that the connection's credentials are never
// sent to another one.
package repoaddr

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-dev/berth/sdk"
)

// Host is where a provider's repositories live.
type Host struct {
	// Web is the root of the web pages and https clone URLs, without a
	// trailing slash: "https://gitlab.com", "https://example.com/gitlab".
	Web *url.URL
	// MinSegments and MaxSegments bound the number of path segments of a
	// name (GitLab: 2 and more, Bitbucket: exactly 2). MaxSegments 0 means
	// no upper bound.
	MinSegments, MaxSegments int
	// PagePaths, with a MaxSegments, accepts web URLs that go on past the
	// repository into a page (Bitbucket's "/src/main/README.md"): segments
	// beyond MaxSegments are dropped.
	PagePaths bool
	// WebSeparator, when set, ends the repository part of a web URL
	// (GitLab's "/-/" as in ".../project/-/tree/main").
	WebSeparator string
}

// Address is a repository on a Host.
type Address struct {
	// Owner is the namespace of the repository: "owner", "group/subgroup".
	Owner string
	// Name is the repository's own name, the last segment of FullName.
	Name string
	// FullName is the provider's name of the repository, "owner/repo".
	FullName string
	// CloneURL is what git fetches from: the https clone URL, or the ssh
	// URL the reference was given as (for deploy keys).
	CloneURL string
	// SSH is true when CloneURL is an ssh URL.
	SSH bool
}

// segmentPattern is what a namespace or repository path segment may hold:
// letters, digits, '_', '-' and '.', not starting with '-'.
var segmentPattern = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*$`)

// scpPattern matches git's "user@host:path" form.
var scpPattern = regexp.MustCompile(`^(?:([A-Za-z0-9._~+-]+)@)?([A-Za-z0-9.-]+):(.+)$`)

// Parse resolves a repository reference against h. Errors wrap
// sdk.ErrInvalidArgument.
func (h Host) Parse(raw string) (Address, error) {
	bad := func(why string) (Address, error) {
		return Address{}, fmt.Errorf("repository %q: %s: %w", redact(raw), why, sdk.ErrInvalidArgument)
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return bad("contains control characters")
	}
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return bad("is empty")
	case strings.HasPrefix(raw, "/"):
		return bad("is a local path, not a repository on this host")
	case strings.HasPrefix(raw, "-"):
		return bad("must not start with '-'")
	case strings.Contains(raw, "://"):
		return h.parseURL(raw)
	case strings.Contains(raw, ":"):
		m := scpPattern.FindStringSubmatch(raw)
		if m == nil {
			return bad("is not owner/repo, an https URL or an ssh URL")
		}
		if !strings.EqualFold(m[2], h.Web.Hostname()) {
			return bad(fmt.Sprintf("is on %s, not on this connection's host %s", m[2], h.Web.Hostname()))
		}
		name, err := h.name(strings.TrimPrefix(m[3], "/"), false)
		if err != nil {
			return bad(err.Error())
		}
		return newAddress(name, raw, true), nil
	}
	name, err := h.name(raw, false)
	if err != nil {
		return bad(err.Error())
	}
	return newAddress(name, h.CloneURL(name), false), nil
}

// parseURL resolves an https (clone or web) or ssh URL.
func (h Host) parseURL(raw string) (Address, error) {
	bad := func(why string) (Address, error) {
		return Address{}, fmt.Errorf("repository %q: %s: %w", redact(raw), why, sdk.ErrInvalidArgument)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("is not a URL")
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		return bad("must not contain a password: give credentials with the connection")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad("must not have a query or fragment")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if !strings.EqualFold(u.Scheme, h.Web.Scheme) || !strings.EqualFold(u.Host, h.Web.Host) {
			return bad(fmt.Sprintf("is not on this connection's host %s", h.Web.Scheme+"://"+h.Web.Host))
		}
		p, ok := strings.CutPrefix(u.Path, h.Web.Path+"/")
		if !ok {
			return bad(fmt.Sprintf("is not under %s", h.Web))
		}
		name, err := h.name(p, true)
		if err != nil {
			return bad(err.Error())
		}
		return newAddress(name, h.CloneURL(name), false), nil
	case "ssh", "git+ssh", "ssh+git":
		if !strings.EqualFold(u.Hostname(), h.Web.Hostname()) {
			return bad(fmt.Sprintf("is on %s, not on this connection's host %s", u.Hostname(), h.Web.Hostname()))
		}
		name, err := h.name(strings.TrimPrefix(u.Path, "/"), false)
		if err != nil {
			return bad(err.Error())
		}
		return newAddress(name, raw, true), nil
	}
	return bad(fmt.Sprintf("scheme %q is not supported (want https or ssh)", u.Scheme))
}

// name validates a repository path, dropping a ".git" suffix and, for web
// URLs, the page part after the repository.
func (h Host) name(p string, web bool) (string, error) {
	p = strings.Trim(p, "/")
	if web && h.WebSeparator != "" {
		if before, _, found := strings.Cut(p+"/", h.WebSeparator); found {
			p = strings.Trim(before, "/")
		}
	}
	segments := strings.Split(p, "/")
	if slices.Contains(segments, "..") || slices.Contains(segments, ".") {
		return "", fmt.Errorf("must not hold . or .. segments")
	}
	if web && h.PagePaths && h.MaxSegments > 0 && len(segments) > h.MaxSegments {
		segments = segments[:h.MaxSegments]
	}
	last := len(segments) - 1
	segments[last] = strings.TrimSuffix(segments[last], ".git")
	if len(segments) < h.MinSegments || (h.MaxSegments > 0 && len(segments) > h.MaxSegments) {
		return "", fmt.Errorf("want %s", h.shape())
	}
	for _, s := range segments {
		if !segmentPattern.MatchString(s) || s == "." || s == ".." {
			return "", fmt.Errorf("path segment %q is not a valid name (want %s)", s, h.shape())
		}
	}
	return strings.Join(segments, "/"), nil
}

// newAddress splits a validated full name.
func newAddress(fullName, cloneURL string, ssh bool) Address {
	i := strings.LastIndexByte(fullName, '/')
	return Address{Owner: fullName[:i], Name: fullName[i+1:], FullName: fullName, CloneURL: cloneURL, SSH: ssh}
}

// shape describes a valid name.
func (h Host) shape() string {
	if h.MaxSegments == 2 && h.MinSegments == 2 {
		return "owner/repo"
	}
	return "namespace/project, with optional subgroups"
}

// CloneURL is the https clone URL of a repository name.
func (h Host) CloneURL(name string) string {
	return h.Web.String() + "/" + name + ".git"
}

// WebURL is the web page of a repository name.
func (h Host) WebURL(name string) string {
	return h.Web.String() + "/" + name
}

// redact hides the password of a URL's user information.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}
