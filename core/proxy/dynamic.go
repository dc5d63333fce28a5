package proxy

import (
	"fmt"

	"github.com/traefik/paerser/file"
	ptypes "github.com/traefik/paerser/types"
)

// The Go field names below deliberately equal those of Traefik's own
// pkg/config/dynamic types: paerser matches keys to Go field names
// (ignoring case), so decoding the generated file into these structs with
// paerser checks the keys exactly as Traefik's file provider does. The JSON
// names are the keys Traefik documents (lowerCamelCase, e.g. entryPoints,
// loadBalancer); empty values are omitted.

// Config is the root of Traefik's dynamic configuration, limited to what
// berth generates.
type Config struct {
	// HTTP holds routers, services and middlewares; nil when there are none.
	HTTP *HTTPConfig `json:"http,omitempty"`
	// TLS holds custom certificates; nil when there are none.
	TLS *TLSConfig `json:"tls,omitempty"`
}

// HTTPConfig holds the HTTP routers, services and middlewares, keyed by name.
type HTTPConfig struct {
	// Routers by name.
	Routers map[string]*Router `json:"routers,omitempty"`
	// Services by name.
	Services map[string]*Service `json:"services,omitempty"`
	// Middlewares by name.
	Middlewares map[string]*Middleware `json:"middlewares,omitempty"`
}

// Router matches requests on entry points by rule and sends them, through its
// middlewares, to a service.
type Router struct {
	// EntryPoints the router listens on.
	EntryPoints []string `json:"entryPoints,omitempty"`
	// Rule matches requests, e.g. Host(`a.example`) && PathPrefix(`/api`).
	Rule string `json:"rule,omitempty"`
	// Middlewares applied in order before the service.
	Middlewares []string `json:"middlewares,omitempty"`
	// Service receives the matched requests.
	Service string `json:"service,omitempty"`
	// Priority orders overlapping rules; zero means the rule length.
	Priority int `json:"priority,omitempty"`
	// TLS, when non-nil, terminates TLS on this router.
	TLS *RouterTLS `json:"tls,omitempty" file:"allowEmpty"`
}

// RouterTLS enables TLS on a router. An empty value (encoded as "tls: {}")
// serves the certificates from the TLS store; CertResolver asks ACME for one.
type RouterTLS struct {
	// CertResolver names the ACME resolver to obtain the certificate from.
	CertResolver string `json:"certResolver,omitempty"`
}

// Service is an HTTP service: a load balancer over servers, or a weighted
// round robin over other services (a canary release).
type Service struct {
	// LoadBalancer forwards to a set of servers.
	LoadBalancer *LoadBalancer `json:"loadBalancer,omitempty"`
	// Weighted spreads requests over other services by weight.
	Weighted *Weighted `json:"weighted,omitempty"`
}

// Weighted is a weighted round robin over services.
type Weighted struct {
	// Services are the weighted services, in a stable order.
	Services []WeightedService `json:"services,omitempty"`
}

// WeightedService is one service of a Weighted and its weight.
type WeightedService struct {
	// Name of the service.
	Name string `json:"name,omitempty"`
	// Weight is the service's share relative to the others' weights.
	Weight *int `json:"weight,omitempty"`
}

// LoadBalancer spreads requests over servers.
type LoadBalancer struct {
	// Servers are the backend URLs.
	Servers []Server `json:"servers,omitempty"`
	// PassHostHeader forwards the client's Host header (Traefik's default is true).
	PassHostHeader *bool `json:"passHostHeader,omitempty"`
	// HealthCheck, when set, probes the servers.
	HealthCheck *HealthCheck `json:"healthCheck,omitempty"`
	// PassiveHealthCheck, when set, takes a server out for a while after
	// consecutive failed requests.
	PassiveHealthCheck *PassiveHealthCheck `json:"passiveHealthCheck,omitempty"`
}

// PassiveHealthCheck marks a server down for FailureWindow once
// MaxFailedAttempts requests in a row failed (could not reach it, or got a
// 5xx) within FailureWindow.
type PassiveHealthCheck struct {
	FailureWindow     ptypes.Duration `json:"failureWindow,omitempty"`
	MaxFailedAttempts int             `json:"maxFailedAttempts,omitempty"`
}

// Server is one backend URL of a load balancer.
type Server struct {
	// URL of the backend, e.g. http://tasks.app:8080.
	URL string `json:"url,omitempty"`
}

// HealthCheck is an active HTTP health check of a load balancer's servers.
type HealthCheck struct {
	// Path requested on each server.
	Path string `json:"path,omitempty"`
	// Interval between checks.
	Interval ptypes.Duration `json:"interval,omitempty"`
	// Timeout of one check.
	Timeout ptypes.Duration `json:"timeout,omitempty"`
}

// Middleware is one HTTP middleware; exactly one field is set.
type Middleware struct {
	// StripPrefix removes a path prefix.
	StripPrefix *StripPrefix `json:"stripPrefix,omitempty"`
	// AddPrefix adds a path prefix.
	AddPrefix *AddPrefix `json:"addPrefix,omitempty"`
	// RedirectScheme redirects to another scheme.
	RedirectScheme *RedirectScheme `json:"redirectScheme,omitempty"`
	// RedirectRegex redirects by regular expression.
	RedirectRegex *RedirectRegex `json:"redirectRegex,omitempty"`
	// BasicAuth requires basic authentication.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// IPAllowList admits only clients from the given ranges.
	IPAllowList *IPAllowList `json:"ipAllowList,omitempty"`
	// Headers sets request and response headers.
	Headers *Headers `json:"headers,omitempty"`
	// Retry sends a request again when the backend could not be reached.
	Retry *Retry `json:"retry,omitempty"`
}

// Retry reissues a request, to the next server, when connecting to the
// backend failed (never once a server answered, so a POST is never sent
// twice).
type Retry struct {
	// Attempts is how many times a request is tried in all.
	Attempts int `json:"attempts,omitempty"`
	// InitialInterval is the first backoff wait; zero retries at once.
	InitialInterval ptypes.Duration `json:"initialInterval,omitempty"`
}

// Headers sets headers on the request forwarded to the backend and on the
// backend's response.
type Headers struct {
	// CustomRequestHeaders are set on the forwarded request.
	CustomRequestHeaders map[string]string `json:"customRequestHeaders,omitempty"`
	// CustomResponseHeaders are set on the backend's response.
	CustomResponseHeaders map[string]string `json:"customResponseHeaders,omitempty"`
}

// IPAllowList admits requests only from the given source ranges.
type IPAllowList struct {
	// SourceRange lists the admitted CIDR ranges.
	SourceRange []string `json:"sourceRange,omitempty"`
}

// StripPrefix removes path prefixes before forwarding.
type StripPrefix struct {
	// Prefixes to remove.
	Prefixes []string `json:"prefixes,omitempty"`
}

// AddPrefix prepends a path prefix before forwarding.
type AddPrefix struct {
	// Prefix to add.
	Prefix string `json:"prefix,omitempty"`
}

// RedirectScheme redirects to another scheme (berth: http to https).
type RedirectScheme struct {
	// Scheme to redirect to.
	Scheme string `json:"scheme,omitempty"`
	// Permanent selects a permanent redirect.
	Permanent bool `json:"permanent,omitempty"`
}

// RedirectRegex redirects requests whose URL matches Regex to Replacement.
type RedirectRegex struct {
	// Regex is matched against the request URL.
	Regex string `json:"regex,omitempty"`
	// Replacement is the target URL.
	Replacement string `json:"replacement,omitempty"`
	// Permanent selects a permanent redirect.
	Permanent bool `json:"permanent,omitempty"`
}

// BasicAuth requires HTTP basic authentication against htpasswd lines.
type BasicAuth struct {
	// Users are htpasswd lines "user:hash".
	Users []string `json:"users,omitempty"`
}

// TLSConfig holds TLS material served by Traefik's default store.
type TLSConfig struct {
	// Certificates to serve, matched by SNI.
	Certificates []*Certificate `json:"certificates,omitempty"`
}

// Certificate is a certificate and key, as paths inside the Traefik container.
type Certificate struct {
	// CertFile is the PEM certificate (chain) path.
	CertFile string `json:"certFile,omitempty"`
	// KeyFile is the PEM private key path.
	KeyFile string `json:"keyFile,omitempty"`
}

// Decode parses dynamic configuration (YAML, of which JSON is a subset)
// with paerser, as Traefik's file provider reads a .yaml file, so an error
// here means Traefik would reject the file too.
func Decode(data []byte) (*Config, error) {
	cfg := &Config{}
	if err := file.DecodeContent(string(data), ".yaml", cfg); err != nil {
		return nil, fmt.Errorf("decode dynamic config: %w", err)
	}
	return cfg, nil
}
