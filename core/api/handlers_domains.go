package api

import (
	"crypto/tls"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// DomainRequest creates or changes a domain. On PATCH, omitted fields keep
// their value.
type DomainRequest struct {
	Host *string `json:"host"`
	// PathPrefix restricts the domain to paths under it, e.g. "/api".
	PathPrefix *string `json:"path_prefix"`
	// StripPrefix removes PathPrefix before the request reaches the app.
	StripPrefix *bool `json:"strip_prefix"`
	// InternalPrefix is prepended to the path the app sees.
	InternalPrefix *string `json:"internal_prefix"`
	// Port is the container port; 0 uses the application's port.
	Port *int `json:"port"`
	// HTTPS is "none", "letsencrypt" or "custom".
	HTTPS         *string `json:"https"`
	RedirectHTTPS *bool   `json:"redirect_https"`
	// CertificatePEM and PrivateKeyPEM are required for https "custom"; the
	// key is stored encrypted and never returned.
	CertificatePEM *string `json:"certificate_pem"`
	PrivateKeyPEM  *string `json:"private_key_pem"`
	// Redirects are regular-expression redirects on the full URL, applied in order.
	Redirects *[]store.Redirect `json:"redirects"`
	// BasicAuth replaces the users allowed in with HTTP basic auth; an empty
	// list turns it off. Passwords are stored as bcrypt hashes only.
	BasicAuth *[]BasicAuthUser `json:"basic_auth"`
}

// BasicAuthUser is one basic-auth login of a domain.
type BasicAuthUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// basicAuthLines validates users and hashes their passwords into htpasswd lines.
func basicAuthLines(users []BasicAuthUser) ([]string, error) {
	if len(users) > 100 {
		return nil, invalid("basic_auth", "at most 100 users")
	}
	seen := map[string]bool{}
	lines := make([]string, 0, len(users))
	for i, u := range users {
		f := fmt.Sprintf("basic_auth[%d]", i)
		if !basicUser.MatchString(u.Username) {
			return nil, invalid(f+".username", "%q must be 1-64 letters, digits or . _ @ + -", u.Username)
		}
		if seen[u.Username] {
			return nil, invalid(f+".username", "%q appears twice", u.Username)
		}
		seen[u.Username] = true
		if len(u.Password) < 8 || len(u.Password) > 72 {
			return nil, invalid(f+".password", "must be 8 to 72 bytes")
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), 10)
		if err != nil {
			return nil, err
		}
		lines = append(lines, u.Username+":"+string(hash))
	}
	return lines, nil
}

var basicUser = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,64}$`)

func (r DomainRequest) apply(d *store.DomainSpec) error {
	if r.Redirects != nil {
		d.Redirects = *r.Redirects
	}
	if r.BasicAuth != nil {
		lines, err := basicAuthLines(*r.BasicAuth)
		if err != nil {
			return err
		}
		d.BasicAuth = lines
	}
	if r.Host != nil {
		d.Host = strings.ToLower(strings.TrimSpace(*r.Host))
	}
	if r.PathPrefix != nil {
		d.PathPrefix = strings.TrimSpace(*r.PathPrefix)
	}
	if r.StripPrefix != nil {
		d.StripPrefix = *r.StripPrefix
	}
	if r.InternalPrefix != nil {
		d.InternalPrefix = strings.TrimSpace(*r.InternalPrefix)
	}
	if r.Port != nil {
		d.Port = *r.Port
	}
	if r.HTTPS != nil {
		d.HTTPS = *r.HTTPS
	}
	if r.RedirectHTTPS != nil {
		d.RedirectHTTPS = *r.RedirectHTTPS
	}
	if r.CertificatePEM != nil {
		d.CertificatePEM = *r.CertificatePEM
	}
	if r.PrivateKeyPEM != nil {
		d.PrivateKeyPEM = *r.PrivateKeyPEM
	}
	return nil
}

// validateDomain checks a domain with the same rules the proxy generator
// applies, so a stored domain can always be routed.
func validateDomain(d store.DomainSpec, app store.Application, hasStoredKey bool) error {
	if d.Port < 0 || d.Port > 65535 {
		return invalid("port", "must be %s (0: the application's port)", fmtRange(0, 65535))
	}
	port := d.Port
	if port == 0 {
		port = app.Port
	}
	if port == 0 {
		return invalid("port", "is required: the application has no port set")
	}
	switch d.HTTPS {
	case "none", "letsencrypt", "custom":
	default:
		return invalid("https", "%q is not one of none, letsencrypt, custom", d.HTTPS)
	}
	route := proxy.Route{ID: "domain", Service: app.ServiceName, Port: port, Host: d.Host, PathPrefix: d.PathPrefix,
		StripPrefix: d.StripPrefix, InternalPrefix: d.InternalPrefix, TLS: proxy.TLSMode(d.HTTPS),
		RedirectToHTTPS: d.RedirectHTTPS, BasicAuth: d.BasicAuth}
	if len(d.Redirects) > 20 {
		return invalid("redirects", "at most 20 redirects")
	}
	for _, rd := range d.Redirects {
		route.Redirects = append(route.Redirects, proxy.Redirect{Regex: rd.Regex, Replacement: rd.Replacement, Permanent: rd.Permanent})
	}
	if d.HTTPS == "custom" {
		route.CertFile, route.KeyFile = "/certs/domain.crt", "/certs/domain.key"
		if d.CertificatePEM == "" {
			return invalid("certificate_pem", "is required for https custom")
		}
		if d.PrivateKeyPEM == "" && !hasStoredKey {
			return invalid("private_key_pem", "is required for https custom")
		}
		if d.PrivateKeyPEM != "" {
			if _, err := tls.X509KeyPair([]byte(d.CertificatePEM), []byte(d.PrivateKeyPEM)); err != nil {
				return invalid("certificate_pem", "certificate and private key do not form a valid pair: %v", err)
			}
		}
	} else if d.CertificatePEM != "" || d.PrivateKeyPEM != "" {
		return invalid("certificate_pem", "is only used with https custom")
	}
	if err := proxy.ValidateRoute(route); err != nil {
		var fe *proxy.FieldError
		if errors.As(err, &fe) {
			return invalid(snakeCase(fe.Field), "%s", fe.Msg)
		}
		return invalid("", "%v", err)
	}
	return nil
}

// snakeCase turns the proxy's field names (pathPrefix) into the API's (path_prefix).
func snakeCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	switch out := b.String(); out {
	case "redirect_to_h_t_t_p_s", "tls":
		return "https"
	default:
		return out
	}
}

func (s *Server) listDomains(c *fiber.Ctx) error {
	a, err := s.loadApplication(c, "id", store.RoleViewer)
	if err != nil {
		return err
	}
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	ds, more, err := s.store.ListDomains(c.UserContext(), a.ID, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(ds, more, func(d store.Domain) uuid.UUID { return d.ID }))
}

func (s *Server) createDomain(c *fiber.Ctx) error {
	a, err := s.loadApplication(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req DomainRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	spec := store.DomainSpec{HTTPS: "none"}
	if err := req.apply(&spec); err != nil {
		return err
	}
	if err := validateDomain(spec, a, false); err != nil {
		return err
	}
	d, err := s.store.CreateDomain(c.UserContext(), a.ID, spec)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

func (s *Server) getDomain(c *fiber.Ctx) error {
	d, err := s.loadDomain(c, store.RoleViewer)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) updateDomain(c *fiber.Ctx) error {
	d, err := s.loadDomain(c, store.RoleMember)
	if err != nil {
		return err
	}
	var req DomainRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	a, err := s.store.GetApplication(c.UserContext(), d.ApplicationID)
	if err != nil {
		return err
	}
	spec := d.Spec()
	if err := req.apply(&spec); err != nil {
		return err
	}
	if err := validateDomain(spec, a, d.PrivateKeyPEM != ""); err != nil {
		return err
	}
	d, err = s.store.UpdateDomain(c.UserContext(), d.ID, spec)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) deleteDomain(c *fiber.Ctx) error {
	d, err := s.loadDomain(c, store.RoleMember)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDomain(c.UserContext(), d.ID); err != nil {
		return notFoundAs(err, "domain")
	}
	return c.SendStatus(fiber.StatusNoContent)
}
