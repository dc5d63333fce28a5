package store

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Domain routes a host (and optional path prefix) to an application.
type Domain struct {
	ID             uuid.UUID `json:"id"`
	ApplicationID  uuid.UUID `json:"application_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	Host           string    `json:"host"`
	PathPrefix     string    `json:"path_prefix"`
	StripPrefix    bool      `json:"strip_prefix"`
	InternalPrefix string    `json:"internal_prefix"`
	Port           int       `json:"port"`
	HTTPS          string    `json:"https"`
	RedirectHTTPS  bool      `json:"redirect_https"`
	CertificatePEM string    `json:"certificate_pem,omitempty"`
	// PrivateKeyPEM is decrypted only for the proxy; it never leaves the API.
	PrivateKeyPEM string `json:"-"`
	// Redirects are regular-expression redirects applied before the app.
	Redirects []Redirect `json:"redirects"`
	// BasicAuth holds htpasswd lines (user:bcrypt hash); only the user
	// names are shown.
	BasicAuth []string `json:"-"`
	// BasicAuthUsers lists the user names allowed by basic auth.
	BasicAuthUsers []string  `json:"basic_auth_users"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Redirect is a regular-expression redirect on the full request URL.
type Redirect struct {
	Regex       string `json:"regex"`
	Replacement string `json:"replacement"`
	Permanent   bool   `json:"permanent"`
}

// DomainSpec holds the user-settable fields of a domain.
type DomainSpec struct {
	Redirects      []Redirect
	BasicAuth      []string
	Host           string
	PathPrefix     string
	StripPrefix    bool
	InternalPrefix string
	Port           int
	HTTPS          string
	RedirectHTTPS  bool
	CertificatePEM string
	PrivateKeyPEM  string
}

const domainCols = `d.id, d.application_id, p.organization_id, d.host, d.path_prefix, d.strip_prefix, d.internal_prefix,
	d.port, d.https, d.redirect_https, d.certificate_pem, d.private_key_enc, d.redirects, d.basic_auth, d.created_at, d.updated_at`
const domainFrom = ` FROM domains d JOIN applications a ON a.id = d.application_id
	JOIN environments e ON e.id = a.environment_id JOIN projects p ON p.id = e.project_id `

// domainKeyContext binds sealed private keys to their column.
const domainKeyContext = "domain:private_key"

func (s *Store) scanDomain(r pgx.Row) (Domain, error) {
	var d Domain
	var key []byte
	err := r.Scan(&d.ID, &d.ApplicationID, &d.OrganizationID, &d.Host, &d.PathPrefix, &d.StripPrefix, &d.InternalPrefix,
		&d.Port, &d.HTTPS, &d.RedirectHTTPS, &d.CertificatePEM, &key, &d.Redirects, &d.BasicAuth, &d.CreatedAt, &d.UpdatedAt)
	if err == nil && key != nil {
		d.PrivateKeyPEM, err = s.box.OpenString(domainKeyContext, key)
	}
	d.BasicAuthUsers = usersOf(d.BasicAuth)
	return d, err
}

// usersOf returns the user names of htpasswd lines.
func usersOf(lines []string) []string {
	users := make([]string, 0, len(lines))
	for _, l := range lines {
		if i := strings.IndexByte(l, ':'); i > 0 {
			users = append(users, l[:i])
		}
	}
	return users
}

func (in *DomainSpec) normalize() {
	if in.Redirects == nil {
		in.Redirects = []Redirect{}
	}
	if in.BasicAuth == nil {
		in.BasicAuth = []string{}
	}
}

func (s *Store) sealKey(pem string) []byte {
	if pem == "" {
		return nil
	}
	return s.box.SealString(domainKeyContext, pem)
}

// CreateDomain adds a domain to an application.
func (s *Store) CreateDomain(ctx context.Context, app uuid.UUID, in DomainSpec) (Domain, error) {
	id := newID()
	in.normalize()
	_, err := s.pool.Exec(ctx, `INSERT INTO domains (id, application_id, host, path_prefix, strip_prefix, internal_prefix,
		port, https, redirect_https, certificate_pem, private_key_enc, redirects, basic_auth)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		id, app, in.Host, in.PathPrefix, in.StripPrefix, in.InternalPrefix, in.Port, in.HTTPS, in.RedirectHTTPS,
		in.CertificatePEM, s.sealKey(in.PrivateKeyPEM), in.Redirects, in.BasicAuth)
	if err != nil {
		return Domain{}, mapErr(err, "domain")
	}
	return s.GetDomain(ctx, id)
}

// GetDomain returns one domain.
func (s *Store) GetDomain(ctx context.Context, id uuid.UUID) (Domain, error) {
	d, err := s.scanDomain(s.pool.QueryRow(ctx, `SELECT `+domainCols+domainFrom+`WHERE d.id = $1`, id))
	return d, mapErr(err, "domain")
}

// ListDomains returns an application's domains.
func (s *Store) ListDomains(ctx context.Context, app uuid.UUID, p Page) ([]Domain, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+domainCols+domainFrom+`
		WHERE d.application_id = $1 AND d.id > $2 ORDER BY d.id LIMIT $3`, s.scanDomain, app)
	return items, more, mapErr(err, "domains")
}

// RoutedDomain is a domain with the Swarm service it routes to, as the proxy
// needs it.
type RoutedDomain struct {
	Domain
	ServiceName string
	AppPort     int
	// CanaryWeight is the share (percent) of a canary release of the
	// application, when one holds traffic.
	CanaryWeight *int
	// AppName is the application's name (for the default maintenance page).
	AppName string
	// Maintenance is the application's maintenance mode.
	Maintenance Maintenance
}

// AllRoutedDomains returns every domain with its application's service, for
// generating the proxy configuration.
func (s *Store) AllRoutedDomains(ctx context.Context) ([]RoutedDomain, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+domainCols+`, a.service_name, a.port,
		(SELECT (c.canary->>'weight')::int FROM deployments c WHERE c.application_id = a.id AND c.status = 'canary'), a.name,
		a.maintenance_enabled, a.maintenance_page, a.maintenance_retry_after, a.maintenance_service`+domainFrom+`ORDER BY d.id`)
	if err != nil {
		return nil, mapErr(err, "domains")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RoutedDomain, error) {
		var rd RoutedDomain
		var key []byte
		err := r.Scan(&rd.ID, &rd.ApplicationID, &rd.OrganizationID, &rd.Host, &rd.PathPrefix, &rd.StripPrefix,
			&rd.InternalPrefix, &rd.Port, &rd.HTTPS, &rd.RedirectHTTPS, &rd.CertificatePEM, &key, &rd.Redirects,
			&rd.BasicAuth, &rd.CreatedAt, &rd.UpdatedAt, &rd.ServiceName, &rd.AppPort, &rd.CanaryWeight, &rd.AppName,
			&rd.Maintenance.Enabled, &rd.Maintenance.Page, &rd.Maintenance.RetryAfter, &rd.Maintenance.Service)
		if err == nil && key != nil {
			rd.PrivateKeyPEM, err = s.box.OpenString(domainKeyContext, key)
		}
		return rd, err
	})
	return out, mapErr(err, "domains")
}

// UpdateDomain replaces a domain's settings. An empty PrivateKeyPEM keeps the
// stored key unless HTTPS is no longer "custom".
func (s *Store) UpdateDomain(ctx context.Context, id uuid.UUID, in DomainSpec) (Domain, error) {
	in.normalize()
	tag, err := s.pool.Exec(ctx, `UPDATE domains SET host = $2, path_prefix = $3, strip_prefix = $4, internal_prefix = $5,
		port = $6, https = $7, redirect_https = $8, certificate_pem = $9,
		private_key_enc = CASE WHEN $7 <> 'custom' THEN NULL ELSE coalesce($10, private_key_enc) END,
		redirects = $11, basic_auth = $12, updated_at = now() WHERE id = $1`, id, in.Host, in.PathPrefix, in.StripPrefix,
		in.InternalPrefix, in.Port, in.HTTPS, in.RedirectHTTPS, in.CertificatePEM, s.sealKey(in.PrivateKeyPEM),
		in.Redirects, in.BasicAuth)
	if err != nil {
		return Domain{}, mapErr(err, "domain")
	}
	if tag.RowsAffected() == 0 {
		return Domain{}, mapErr(pgx.ErrNoRows, "domain")
	}
	return s.GetDomain(ctx, id)
}

// Spec returns the user-settable fields of d.
func (d Domain) Spec() DomainSpec {
	return DomainSpec{Host: d.Host, PathPrefix: d.PathPrefix, StripPrefix: d.StripPrefix, InternalPrefix: d.InternalPrefix,
		Port: d.Port, HTTPS: d.HTTPS, RedirectHTTPS: d.RedirectHTTPS, CertificatePEM: d.CertificatePEM,
		Redirects: d.Redirects, BasicAuth: d.BasicAuth}
}

// DeleteDomain removes a domain.
func (s *Store) DeleteDomain(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "domains", id, "domain")
}
