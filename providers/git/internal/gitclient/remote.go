package gitclient

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/sdk"
)

// Transport is how git reaches a repository.
type Transport string

const (
	TransportLocal Transport = "file"
	TransportHTTP  Transport = "http"
	TransportSSH   Transport = "ssh"
	TransportGit   Transport = "git"
)

// Remote is a parsed repository location. URL is what git is given: it never
// carries credentials, which are moved to Username and Password.
type Remote struct {
	URL       string
	Transport Transport
	// Origin is "scheme://host[:port]" for http(s) remotes, the scope of the
	// credentials.
	Origin string
	// Host is the host name of a network remote.
	Host string
	// Username and Password come from the URL's user information, if any.
	Username string
	Password string
}

// scpLike matches git's "[user@]host:path" form. As in git, there is no
// slash before the colon.
var scpLike = regexp.MustCompile(`^(?:([A-Za-z0-9._~+-]+)@)?([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):([^/].*|/.+)$`)

// ParseRemote validates a repository location: an absolute path, a file://,
// http(s)://, ssh:// or git:// URL, or an scp-like "git@host:owner/repo".
// Anything git would read as an option, and transports able to run commands
// (ext::, fd::), are refused.
func ParseRemote(raw string) (Remote, error) {
	bad := func(why string) (Remote, error) {
		return Remote{}, fmt.Errorf("repository %q: %s: %w", redactURL(raw), why, sdk.ErrInvalidArgument)
	}
	switch {
	case raw == "":
		return bad("is empty")
	case strings.HasPrefix(raw, "-"):
		return bad("must not start with '-'")
	case strings.ContainsFunc(raw, isControl):
		return bad("contains control characters")
	case strings.HasPrefix(raw, "/"):
		return Remote{URL: filepath.Clean(raw), Transport: TransportLocal}, nil
	case strings.Contains(raw, "::"):
		return bad("remote helpers (transport::address) are not allowed")
	}
	if m := scpLike.FindStringSubmatch(raw); m != nil && !strings.Contains(raw, "://") {
		if strings.HasPrefix(m[2], "-") {
			return bad("host must not start with '-'")
		}
		return Remote{URL: raw, Transport: TransportSSH, Host: m[2], Username: m[1]}, nil
	}
	if !strings.Contains(raw, "://") {
		return bad("want an https:// or ssh:// URL, git@host:owner/repo, or an absolute path")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("is not a URL")
	}
	r := Remote{Host: u.Hostname()}
	if u.User != nil {
		r.Username = u.User.Username()
		r.Password, _ = u.User.Password()
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return bad("file:// URLs must name a local path")
		}
		if !path.IsAbs(u.Path) {
			return bad("file:// URLs must name an absolute path")
		}
		return Remote{URL: filepath.Clean(filepath.FromSlash(u.Path)), Transport: TransportLocal}, nil
	case "http", "https":
		r.Transport = TransportHTTP
		u.User = nil // credentials travel in a header, never in the URL
		r.Origin = strings.ToLower(u.Scheme) + "://" + u.Host
	case "ssh", "git+ssh", "ssh+git":
		r.Transport = TransportSSH
		r.Password = "" // a password in an ssh URL is ignored, never passed on
		if pw, ok := u.User.Password(); ok && pw != "" {
			u.User = url.User(r.Username)
		}
	case "git":
		r.Transport = TransportGit
	default:
		return bad(fmt.Sprintf("scheme %q is not supported (want https, http, ssh, git or file)", u.Scheme))
	}
	switch {
	case r.Host == "":
		return bad("has no host")
	case strings.HasPrefix(r.Host, "-") || strings.HasPrefix(r.Username, "-"):
		return bad("host and user must not start with '-'")
	}
	r.URL = u.String()
	return r, nil
}

// isControl reports whether r is an ASCII control character.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// userinfoPattern matches the password part of a URL's user information.
var userinfoPattern = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://[^/@\s:]*):[^/@\s]*@`)

// redactURL hides a password in a URL's user information.
func redactURL(s string) string {
	return userinfoPattern.ReplaceAllString(s, "$1:***@")
}

// checkRef validates a ref name or commit SHA the way git check-ref-format
// would, and refuses anything git could read as an option.
func checkRef(ref string) error {
	bad := func(why string) error {
		return fmt.Errorf("ref %q: %s: %w", ref, why, sdk.ErrInvalidArgument)
	}
	switch {
	case ref == "":
		return nil
	case strings.HasPrefix(ref, "-"):
		return bad("must not start with '-'")
	case strings.ContainsFunc(ref, func(r rune) bool { return isControl(r) || strings.ContainsRune(" ~^:?*[\\", r) }):
		return bad("contains a character git does not allow in ref names")
	case strings.Contains(ref, "..") || strings.Contains(ref, "@{") || strings.Contains(ref, "//"):
		return bad("contains '..', '@{' or '//'")
	case strings.HasSuffix(ref, "/") || strings.HasSuffix(ref, ".") || strings.HasSuffix(ref, ".lock") || strings.HasPrefix(ref, "/"):
		return bad("has a bad start or end")
	}
	return nil
}

// isSHA reports whether s looks like a full or abbreviated commit id.
func isSHA(s string) bool {
	if len(s) < 4 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// isFullSHA reports whether s is a full SHA-1 or SHA-256 commit id.
func isFullSHA(s string) bool { return (len(s) == 40 || len(s) == 64) && isSHA(s) }

// Name is a short name for the repository: "owner/repo" from
// "https://host/owner/repo.git", the path of a local repository.
func (r Remote) Name() string {
	var p string
	switch {
	case r.Transport == TransportLocal:
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
