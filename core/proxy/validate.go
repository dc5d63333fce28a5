package proxy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/core/pages"
)

// ErrInvalidRoute is wrapped by every route validation error, so callers can
// map them to a client error with errors.Is.
var ErrInvalidRoute = errors.New("invalid route")

// FieldError says which field of a Route is invalid and why.
type FieldError struct {
	// Field is the field name as the API spells it, e.g. "host" or
	// "redirects[1].regex".
	Field string
	// Msg describes the problem, e.g. `"a b" is not a valid hostname`.
	Msg string
}

// Error returns "field: message".
func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap returns ErrInvalidRoute.
func (e *FieldError) Unwrap() error { return ErrInvalidRoute }

// Limits on route fields.
const (
	maxIDLen      = 100
	maxPathLen    = 1024
	maxRegexLen   = 1024
	maxHostLen    = 253
	maxLabelLen   = 63
	maxBasicUsers = 100
	maxAddresses  = 1000
)

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	servicePattern = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$`)
	labelPattern   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	// pathPattern allows RFC 3986 path characters except quotes and anything
	// that could end a rule's backtick-quoted string.
	pathPattern     = regexp.MustCompile(`^/[A-Za-z0-9._~!$&()*+,;=:@%/-]*$`)
	filePattern     = regexp.MustCompile(`^/[A-Za-z0-9._/-]+$`)
	htUserPattern   = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,64}$`)
	bcryptPattern   = regexp.MustCompile(`^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$`)
	apr1Pattern     = regexp.MustCompile(`^\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}$`)
	sha1Pattern     = regexp.MustCompile(`^\{SHA\}[A-Za-z0-9+/]{27}=$`)
	percentEncoding = regexp.MustCompile(`%([^0-9A-Fa-f]|.[^0-9A-Fa-f]|.?$)`)
)

// ValidateRoute checks every field of r on its own, without looking at other
// routes. It returns nil or the joined *FieldError values, each wrapping
// ErrInvalidRoute and naming its field, e.g.
// `host: "a b" is not a valid hostname`.
func ValidateRoute(r Route) error {
	var v validator
	v.route(r)
	return errors.Join(v.errs...)
}

// validator collects field errors.
type validator struct {
	errs []error
}

func (v *validator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) route(r Route) {
	switch {
	case r.ID == "":
		v.fail("id", "is required")
	case len(r.ID) > maxIDLen || !idPattern.MatchString(r.ID):
		v.fail("id", "%q must be lower-case letters, digits and single hyphens (at most %d)", r.ID, maxIDLen)
	}
	switch {
	case r.Service == "":
		v.fail("service", "is required")
	case !servicePattern.MatchString(r.Service):
		v.fail("service", "%q is not a valid Swarm service name", r.Service)
	}
	if r.Port < 1 || r.Port > 65535 {
		v.fail("port", "%d is not between 1 and 65535", r.Port)
	}
	v.host(r.Host)
	v.path("pathPrefix", r.PathPrefix, false)
	if r.StripPrefix && normalizePrefix(r.PathPrefix) == "" {
		v.fail("stripPrefix", "needs a pathPrefix other than /")
	}
	v.path("internalPrefix", r.InternalPrefix, false)
	v.tls(r)
	for i, rd := range r.Redirects {
		v.redirect(fmt.Sprintf("redirects[%d]", i), rd)
	}
	v.basicAuth(r.BasicAuth)
	v.addresses(r.Addresses)
	if c := r.Canary; c != nil {
		if !servicePattern.MatchString(c.Service) {
			v.fail("canary.service", "%q is not a valid Swarm service name", c.Service)
		}
		if c.Weight < 1 || c.Weight > 99 {
			v.fail("canary.weight", "%d is not between 1 and 99", c.Weight)
		}
	}
	if m := r.Maintenance; m != nil {
		v.maintenance(m)
	}
	if hc := r.HealthCheck; hc != nil {
		v.path("healthCheck.path", hc.Path, true)
		if hc.Interval < 0 {
			v.fail("healthCheck.interval", "%s is negative", hc.Interval)
		}
		if hc.Timeout < 0 {
			v.fail("healthCheck.timeout", "%s is negative", hc.Timeout)
		}
	}
}

func (v *validator) maintenance(m *MaintenanceSpec) {
	switch page, err := base64.StdEncoding.DecodeString(m.PageBase64); {
	case m.PageBase64 == "":
		v.fail("maintenance.page", "is required")
	case err != nil:
		v.fail("maintenance.page", "is not standard base64: %v", err)
	case len(page) > pages.MaxPageBytes:
		v.fail("maintenance.page", "is larger than %d bytes", pages.MaxPageBytes)
	}
	if m.RetryAfter < 1 || m.RetryAfter > pages.MaxRetryAfter {
		v.fail("maintenance.retryAfter", "%d is not between 1 and %d", m.RetryAfter, pages.MaxRetryAfter)
	}
	switch {
	case m.PagesService == "":
		v.fail("maintenance.pagesService", "is required")
	case !servicePattern.MatchString(m.PagesService):
		v.fail("maintenance.pagesService", "%q is not a valid Swarm service name", m.PagesService)
	}
	if m.PagesPort < 1 || m.PagesPort > 65535 {
		v.fail("maintenance.pagesPort", "%d is not between 1 and 65535", m.PagesPort)
	}
}

func (v *validator) host(h string) {
	if h == "" {
		v.fail("host", "is required")
		return
	}
	if !isHostname(strings.ToLower(h)) {
		v.fail("host", "%q is not a valid hostname", h)
	}
}

// isHostname reports whether h (lower case) is a DNS name made of LDH labels.
// Wildcards are refused: Traefik's Host matcher does not expand them.
func isHostname(h string) bool {
	if len(h) > maxHostLen {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if len(label) > maxLabelLen || !labelPattern.MatchString(label) {
			return false
		}
	}
	return true
}

func (v *validator) path(field, p string, required bool) {
	if p == "" {
		if required {
			v.fail(field, "is required")
		}
		return
	}
	switch {
	case len(p) > maxPathLen:
		v.fail(field, "is longer than %d characters", maxPathLen)
	case !strings.HasPrefix(p, "/"):
		v.fail(field, "%q must start with /", p)
	case !pathPattern.MatchString(p):
		v.fail(field, "%q contains characters not allowed in a URL path", p)
	case percentEncoding.MatchString(p):
		v.fail(field, "%q has an invalid percent-encoding", p)
	case path.Clean(p) != strings.TrimSuffix(p, "/") && p != "/":
		v.fail(field, "%q is not a clean path (no //, . or .. segments)", p)
	}
}

func (v *validator) tls(r Route) {
	switch r.TLS {
	case "", TLSNone:
		if r.RedirectToHTTPS {
			v.fail("redirectToHTTPS", "needs tls %q or %q", TLSLetsEncrypt, TLSCustom)
		}
	case TLSLetsEncrypt:
	case TLSCustom:
		v.certPath("certFile", r.CertFile)
		v.certPath("keyFile", r.KeyFile)
		return
	default:
		v.fail("tls", "%q is not one of %q, %q, %q", r.TLS, TLSNone, TLSLetsEncrypt, TLSCustom)
	}
	if r.CertFile != "" {
		v.fail("certFile", "is only allowed with tls %q", TLSCustom)
	}
	if r.KeyFile != "" {
		v.fail("keyFile", "is only allowed with tls %q", TLSCustom)
	}
}

func (v *validator) certPath(field, p string) {
	switch {
	case p == "":
		v.fail(field, "is required with tls %q", TLSCustom)
	case !filePattern.MatchString(p) || path.Clean(p) != p:
		v.fail(field, "%q must be a clean absolute path inside the Traefik container", p)
	}
}

func (v *validator) redirect(field string, rd Redirect) {
	switch {
	case rd.Regex == "":
		v.fail(field+".regex", "is required")
	case len(rd.Regex) > maxRegexLen:
		v.fail(field+".regex", "is longer than %d characters", maxRegexLen)
	case hasUnsafeChar(rd.Regex):
		v.fail(field+".regex", "%q contains quotes, backticks, spaces or control characters", rd.Regex)
	default:
		if _, err := regexp.Compile(rd.Regex); err != nil {
			v.fail(field+".regex", "%q does not compile: %v", rd.Regex, err)
		}
	}
	switch {
	case rd.Replacement == "":
		v.fail(field+".replacement", "is required")
	case len(rd.Replacement) > maxRegexLen:
		v.fail(field+".replacement", "is longer than %d characters", maxRegexLen)
	case hasUnsafeChar(rd.Replacement):
		v.fail(field+".replacement", "%q contains quotes, backticks, spaces or control characters", rd.Replacement)
	}
}

func (v *validator) basicAuth(lines []string) {
	if len(lines) > maxBasicUsers {
		v.fail("basicAuth", "has more than %d users", maxBasicUsers)
		return
	}
	seen := make(map[string]bool, len(lines))
	for i, line := range lines {
		field := "basicAuth[" + strconv.Itoa(i) + "]"
		user, hash, ok := strings.Cut(line, ":")
		switch {
		case !ok || !htUserPattern.MatchString(user):
			v.fail(field, "must be an htpasswd line \"user:hash\" with a user of letters, digits and ._@+-")
		case seen[user]:
			v.fail(field, "user %q is listed twice", user)
		case !bcryptPattern.MatchString(hash) && !apr1Pattern.MatchString(hash) && !sha1Pattern.MatchString(hash):
			v.fail(field, "the hash of user %q is not bcrypt ($2y$), Apache MD5 ($apr1$) or SHA1 ({SHA})", user)
		}
		seen[user] = true
	}
}

func (v *validator) addresses(addrs []string) {
	if len(addrs) > maxAddresses {
		v.fail("addresses", "has more than %d addresses", maxAddresses)
		return
	}
	for i, a := range addrs {
		if ip, err := netip.ParseAddr(a); err != nil || ip.Zone() != "" || !ip.IsValid() {
			v.fail("addresses["+strconv.Itoa(i)+"]", "%q is not an IP address", a)
		}
	}
}

// ValidateProbe checks a probe on its own.
func ValidateProbe(p Probe) error {
	var v validator
	if len(p.ID) > maxIDLen || !idPattern.MatchString(p.ID) {
		v.fail("id", "%q must be lower-case letters, digits and single hyphens (at most %d)", p.ID, maxIDLen)
	}
	v.addresses([]string{p.Address})
	if p.Port < 1 || p.Port > 65535 {
		v.fail("port", "%d is not between 1 and 65535", p.Port)
	}
	return errors.Join(v.errs...)
}

// hasUnsafeChar reports whether s holds a character that could break out of
// a quoted rule or YAML scalar: quotes, backticks, whitespace or controls.
func hasUnsafeChar(s string) bool {
	return strings.ContainsFunc(s, func(c rune) bool {
		return c == '`' || c == '"' || c == '\'' || c <= ' ' || c == 0x7f
	})
}

// normalizePrefix maps "/" (matches everything) to "".
func normalizePrefix(p string) string {
	if p == "/" {
		return ""
	}
	return p
}
