// Package repoaddr resolves the repository names berth's hosted git
// providers accept — "owner/repo", or a clone URL on the provider's own
// host (https, ssh:// or git@host:owner/repo) — into the "owner/repo" name
// the host's API uses and the URL to clone. Repositories on other hosts are
// refused, so that a provider's credentials are only ever sent to its host.
package repoaddr

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/sdk"
)

// Address is a resolved repository.
type Address struct {
	// Owner and Name are the two parts of FullName.
	Owner, Name string
	// FullName is "owner/repo".
	FullName string
	// CloneURL is the URL git clones from: the https URL on the web host,
	// or the ssh URL as given.
	CloneURL string
	// SSH is true when CloneURL is an ssh URL.
	SSH bool
}

// segment is an owner or repository name as GitHub and Gitea allow them.
var segment = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// scpLike matches "user@host:path", git's short ssh form.
var scpLike = regexp.MustCompile(`^([A-Za-z0-9._~+-]+)@([A-Za-z0-9._-]+):([^/].*)$`)

// Resolve resolves repository against web, the provider's web root
// ("https://github.com", "https://git.example.com/gitea"). Errors wrap
// sdk.ErrInvalidArgument.
func Resolve(repository string, web *url.URL) (Address, error) {
	raw := strings.TrimSpace(repository)
	bad := func(why string) (Address, error) {
		return Address{}, fmt.Errorf("repository %q: %s: %w", redact(raw), why, sdk.ErrInvalidArgument)
	}
	switch {
	case raw == "":
		return bad("is empty")
	case strings.HasPrefix(raw, "-"):
		return bad("must not start with '-'")
	case strings.ContainsFunc(raw, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }):
		return bad("contains spaces or control characters")
	case web == nil:
		return bad("no host configured")
	}
	if m := scpLike.FindStringSubmatch(raw); m != nil && !strings.Contains(raw, "://") {
		if !strings.EqualFold(m[2], web.Hostname()) {
			return bad(fmt.Sprintf("is on host %s, not %s (use the generic git provider for other hosts)", m[2], web.Hostname()))
		}
		a, err := split(m[3])
		if err != nil {
			return bad(err.Error())
		}
		a.CloneURL, a.SSH = raw, true
		return a, nil
	}
	if !strings.Contains(raw, "://") {
		a, err := split(raw)
		if err != nil {
			return bad(err.Error() + " (want owner/repo or a clone URL)")
		}
		a.CloneURL = strings.TrimSuffix(web.String(), "/") + "/" + a.FullName + ".git"
		return a, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("is not a URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad("must not have a query or fragment")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if !strings.EqualFold(u.Scheme, web.Scheme) || !strings.EqualFold(u.Host, web.Host) {
			return bad(fmt.Sprintf("is not on %s (use the generic git provider for other hosts)", web.Redacted()))
		}
		root := strings.TrimSuffix(web.Path, "/")
		rest, ok := strings.CutPrefix(u.Path, root+"/")
		if !ok {
			return bad(fmt.Sprintf("is not under %s", web.Redacted()))
		}
		a, err := split(rest)
		if err != nil {
			return bad(err.Error())
		}
		a.CloneURL = strings.TrimSuffix(web.String(), "/") + "/" + a.FullName + ".git"
		return a, nil
	case "ssh", "git+ssh", "ssh+git":
		if !strings.EqualFold(u.Hostname(), web.Hostname()) {
			return bad(fmt.Sprintf("is on host %s, not %s (use the generic git provider for other hosts)", u.Hostname(), web.Hostname()))
		}
		a, err := split(u.Path)
		if err != nil {
			return bad(err.Error())
		}
		a.CloneURL, a.SSH = raw, true
		return a, nil
	default:
		return bad(fmt.Sprintf("scheme %q is not supported (want https or ssh)", u.Scheme))
	}
}

// split parses "owner/repo" with an optional leading slash, trailing slash
// and ".git" suffix.
func split(p string) (Address, error) {
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	owner, name, ok := strings.Cut(p, "/")
	if !ok || strings.Contains(name, "/") {
		return Address{}, fmt.Errorf("is not of the form owner/repo")
	}
	for _, s := range []string{owner, name} {
		if !segment.MatchString(s) || s == "." || s == ".." {
			return Address{}, fmt.Errorf("%q is not a valid owner or repository name", s)
		}
	}
	return Address{Owner: owner, Name: name, FullName: owner + "/" + name}, nil
}

// redact hides a password in a URL's user information.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
	}
	return s
}
