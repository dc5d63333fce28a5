package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/store"
)

// Domains adds, changes and removes the domains routed to applications
// (members and above). Every domain is checked with the proxy's own route
// rules, so a stored domain can always be routed.
type Domains struct{ s *Services }

// DomainSettings are a domain's complete settings for an application, as
// a front door merged them from a request onto the saved ones.
type DomainSettings struct {
	store.DomainSpec
	// App is the application the domain routes to.
	App store.Application
	// HasStoredKey tells a custom certificate's private key is already
	// saved (so it need not be sent again).
	HasStoredKey bool
}

// Validate checks a domain: port, HTTPS mode, certificate and the proxy's
// route rules (host, path prefix, redirects, basic auth).
func (in DomainSettings) Validate() error {
	d := in.DomainSpec
	if d.Port < 0 || d.Port > 65535 {
		return problem.InvalidField("port", "must be %s (0: the application's port)", rangeText(0, 65535))
	}
	port := d.Port
	if port == 0 {
		port = in.App.Port
	}
	if port == 0 {
		return problem.InvalidField("port", "is required: the application has no port set")
	}
	switch d.HTTPS {
	case "none", "letsencrypt", "custom":
	default:
		return problem.InvalidField("https", "%q is not one of none, letsencrypt, custom", d.HTTPS)
	}
	if d.Host == "" {
		return problem.InvalidField("host", "is required")
	}
	route := proxy.Route{ID: "domain", Service: in.App.ServiceName, Port: port, Host: d.Host, PathPrefix: d.PathPrefix,
		StripPrefix: d.StripPrefix, InternalPrefix: d.InternalPrefix, TLS: proxy.TLSMode(d.HTTPS),
		RedirectToHTTPS: d.RedirectHTTPS, BasicAuth: d.BasicAuth}
	if len(d.Redirects) > 20 {
		return problem.InvalidField("redirects", "at most 20 redirects")
	}
	for _, rd := range d.Redirects {
		route.Redirects = append(route.Redirects, proxy.Redirect{Regex: rd.Regex, Replacement: rd.Replacement, Permanent: rd.Permanent})
	}
	if d.HTTPS == "custom" {
		route.CertFile, route.KeyFile = "/certs/domain.crt", "/certs/domain.key"
		if d.CertificatePEM == "" {
			return problem.InvalidField("certificate_pem", "is required for https custom")
		}
		if d.PrivateKeyPEM == "" && !in.HasStoredKey {
			return problem.InvalidField("private_key_pem", "is required for https custom")
		}
		if d.PrivateKeyPEM != "" {
			if _, err := tls.X509KeyPair([]byte(d.CertificatePEM), []byte(d.PrivateKeyPEM)); err != nil {
				return problem.InvalidField("certificate_pem", "certificate and private key do not form a valid pair: %v", err)
			}
		}
	} else if d.CertificatePEM != "" || d.PrivateKeyPEM != "" {
		return problem.InvalidField("certificate_pem", "is only used with https custom")
	}
	if err := proxy.ValidateRoute(route); err != nil {
		var fe *proxy.FieldError
		if errors.As(err, &fe) {
			return problem.InvalidField(DomainField(fe.Field), "%s", fe.Msg)
		}
		return problem.InvalidField("", "%v", err)
	}
	return nil
}

// DomainField turns the proxy's field names (pathPrefix, redirectToHTTPS)
// into a domain's (path_prefix, https).
func DomainField(s string) string {
	switch s {
	case "redirectToHTTPS", "tls":
		return "https"
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// BasicAuthUser is one basic-auth login of a domain.
type BasicAuthUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

var basicUser = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,64}$`)

// BasicAuthLines checks users and hashes their passwords (bcrypt) into
// the htpasswd lines a domain stores; passwords are never stored.
func BasicAuthLines(users []BasicAuthUser) ([]string, error) {
	if len(users) > 100 {
		return nil, problem.InvalidField("basic_auth", "at most 100 users")
	}
	seen := map[string]bool{}
	lines := make([]string, 0, len(users))
	for i, u := range users {
		f := fmt.Sprintf("basic_auth[%d]", i)
		if !basicUser.MatchString(u.Username) {
			return nil, problem.InvalidField(f+".username", "%q must be 1-64 letters, digits or . _ @ + -", u.Username)
		}
		if seen[u.Username] {
			return nil, problem.InvalidField(f+".username", "%q appears twice", u.Username)
		}
		seen[u.Username] = true
		if len(u.Password) < 8 || len(u.Password) > 72 {
			return nil, problem.InvalidField(f+".password", "must be 8 to 72 bytes")
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), 10)
		if err != nil {
			return nil, fmt.Errorf("hash basic auth password: %w", err)
		}
		lines = append(lines, u.Username+":"+string(hash))
	}
	return lines, nil
}

// Add adds a domain to an application (members and above).
func (ds *Domains) Add(ctx context.Context, p *store.Principal, app store.Application, spec store.DomainSpec) (store.Domain, error) {
	if err := Authorize(p, app.OrganizationID, store.RoleMember, "application"); err != nil {
		return store.Domain{}, err
	}
	if err := (DomainSettings{DomainSpec: spec, App: app}).Validate(); err != nil {
		return store.Domain{}, err
	}
	return ds.s.deps.Store.CreateDomain(ctx, app.ID, spec)
}

// Update replaces a domain's settings (members and above).
func (ds *Domains) Update(ctx context.Context, p *store.Principal, d store.Domain, spec store.DomainSpec) (store.Domain, error) {
	if err := Authorize(p, d.OrganizationID, store.RoleMember, "domain"); err != nil {
		return d, err
	}
	app, err := ds.s.deps.Store.GetApplication(ctx, d.ApplicationID)
	if err != nil {
		return d, fmt.Errorf("load the domain's application: %w", err)
	}
	if err := (DomainSettings{DomainSpec: spec, App: app, HasStoredKey: d.PrivateKeyPEM != ""}).Validate(); err != nil {
		return d, err
	}
	return ds.s.deps.Store.UpdateDomain(ctx, d.ID, spec)
}

// Delete removes a domain (members and above).
func (ds *Domains) Delete(ctx context.Context, p *store.Principal, d store.Domain) error {
	if err := Authorize(p, d.OrganizationID, store.RoleMember, "domain"); err != nil {
		return err
	}
	if err := ds.s.deps.Store.DeleteDomain(ctx, d.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return problem.Missing("domain")
		}
		return err
	}
	return nil
}
