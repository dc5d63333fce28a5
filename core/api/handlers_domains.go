package api

import (
	"strings"

	"github.com/berth-dev/berth/core/service"
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
type BasicAuthUser = service.BasicAuthUser

func (r DomainRequest) apply(d *store.DomainSpec) error {
	if r.Redirects != nil {
		d.Redirects = *r.Redirects
	}
	if r.BasicAuth != nil {
		lines, err := service.BasicAuthLines(*r.BasicAuth)
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

func (s *Server) listDomains(c *fiber.Ctx) (List[store.Domain], error) {
	pg, err := pageParams(c)
	if err != nil {
		return List[store.Domain]{}, err
	}
	ds, more, err := s.store.ListDomains(c.UserContext(), resolved(c).Application.ID, pg)
	return listOf(ds, more, func(d store.Domain) uuid.UUID { return d.ID }), err
}

func (s *Server) createDomain(c *fiber.Ctx, req DomainRequest) (store.Domain, error) {
	spec := store.DomainSpec{HTTPS: "none"}
	if err := req.apply(&spec); err != nil {
		return store.Domain{}, err
	}
	return s.svc.Domains.Add(c.UserContext(), principal(c), resolved(c).Application, spec)
}

func (s *Server) getDomain(c *fiber.Ctx) (store.Domain, error) { return resolved(c).Domain, nil }

func (s *Server) updateDomain(c *fiber.Ctx, req DomainRequest) (store.Domain, error) {
	d := resolved(c).Domain
	spec := d.Spec()
	if err := req.apply(&spec); err != nil {
		return d, err
	}
	return s.svc.Domains.Update(c.UserContext(), principal(c), d, spec)
}

func (s *Server) deleteDomain(c *fiber.Ctx) (NoContent, error) {
	return NoContent{}, s.svc.Domains.Delete(c.UserContext(), principal(c), resolved(c).Domain)
}
