package proxy

import (
	"fmt"

	"github.com/traefik/paerser/file"
	ptypes "github.com/traefik/paerser/types"
)

// The Go field names below deliberately equal those of Traefik's own
// pkg/config/dynamic types: paerser matches YAML keys to Go field names, so
// decoding generated YAML into these structs with paerser checks the keys
// exactly as Traefik's file provider does.

// Config is the root of Traefik's dynamic configuration, limited to what
// berth generates.
type Config struct {
	// HTTP holds routers, services and middlewares; nil when there are none.
	HTTP *HTTPConfig `yaml:"http,omitempty" json:"http,omitempty"`
	// TLS holds custom certificates; nil when there are none.
	TLS *TLSConfig `yaml:"tls,omitempty" json:"tls,omitempty"`
}

// HTTPConfig holds the HTTP routers, services and middlewares, keyed by name.
type HTTPConfig struct {
	// Routers by name.
	Routers map[string]*Router `yaml:"routers,omitempty" json:"routers,omitempty"`
	// Services by name.
	Services map[string]*Service `yaml:"services,omitempty" json:"services,omitempty"`
	// Middlewares by name.
	Middlewares map[string]*Middleware `yaml:"middlewares,omitempty" json:"middlewares,omitempty"`
}

// Router matches requests on entry points by rule and sends them, through its
// middlewares, to a service.
type Router struct {
	// EntryPoints the router listens on.
	EntryPoints []string `yaml:"entryPoints,omitempty" json:"entryPoints,omitempty"`
	// Rule matches requests, e.g. Host(`a.example`) && PathPrefix(`/api`).
	Rule string `yaml:"rule,omitempty" json:"rule,omitempty"`
	// Middlewares applied in order before the service.
	Middlewares []string `yaml:"middlewares,omitempty" json:"middlewares,omitempty"`
	// Service receives the matched requests.
	Service string `yaml:"service,omitempty" json:"service,omitempty"`
	// Priority orders overlapping rules; zero means the rule length.
	Priority int `yaml:"priority,omitempty" json:"priority,omitempty"`
	// TLS, when non-nil, terminates TLS on this router.
	TLS *RouterTLS `yaml:"tls,omitempty" json:"tls,omitempty" file:"allowEmpty"`
}

// RouterTLS enables TLS on a router. An empty value (encoded as "tls: {}")
// serves the certificates from the TLS store; CertResolver asks ACME for one.
type RouterTLS struct {
	// CertResolver names the ACME resolver to obtain the certificate from.
	CertResolver string `yaml:"certResolver,omitempty" json:"certResolver,omitempty"`
}

// Service is an HTTP service; berth only uses load balancers.
type Service struct {
	// LoadBalancer forwards to a set of servers.
	LoadBalancer *LoadBalancer `yaml:"loadBalancer,omitempty" json:"loadBalancer,omitempty"`
}

// LoadBalancer spreads requests over servers.
type LoadBalancer struct {
	// Servers are the backend URLs.
	Servers []Server `yaml:"servers,omitempty" json:"servers,omitempty"`
	// PassHostHeader forwards the client's Host header (Traefik's default is true).
	PassHostHeader *bool `yaml:"passHostHeader,omitempty" json:"passHostHeader,omitempty"`
	// HealthCheck, when set, probes the servers.
	HealthCheck *HealthCheck `yaml:"healthCheck,omitempty" json:"healthCheck,omitempty"`
}

// Server is one backend URL of a load balancer.
type Server struct {
	// URL of the backend, e.g. http://tasks.app:8080.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
}

// HealthCheck is an active HTTP health check of a load balancer's servers.
type HealthCheck struct {
	// Path requested on each server.
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// Interval between checks.
	Interval ptypes.Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// Timeout of one check.
	Timeout ptypes.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Middleware is one HTTP middleware; exactly one field is set.
type Middleware struct {
	// StripPrefix removes a path prefix.
	StripPrefix *StripPrefix `yaml:"stripPrefix,omitempty" json:"stripPrefix,omitempty"`
	// AddPrefix adds a path prefix.
	AddPrefix *AddPrefix `yaml:"addPrefix,omitempty" json:"addPrefix,omitempty"`
	// RedirectScheme redirects to another scheme.
	RedirectScheme *RedirectScheme `yaml:"redirectScheme,omitempty" json:"redirectScheme,omitempty"`
	// RedirectRegex redirects by regular expression.
	RedirectRegex *RedirectRegex `yaml:"redirectRegex,omitempty" json:"redirectRegex,omitempty"`
	// BasicAuth requires basic authentication.
	BasicAuth *BasicAuth `yaml:"basicAuth,omitempty" json:"basicAuth,omitempty"`
	// IPAllowList admits only clients from the given ranges.
	IPAllowList *IPAllowList `yaml:"ipAllowList,omitempty" json:"ipAllowList,omitempty"`
}

// IPAllowList admits requests only from the given source ranges.
type IPAllowList struct {
	// SourceRange lists the admitted CIDR ranges.
	SourceRange []string `yaml:"sourceRange,omitempty" json:"sourceRange,omitempty"`
}

// StripPrefix removes path prefixes before forwarding.
type StripPrefix struct {
	// Prefixes to remove.
	Prefixes []string `yaml:"prefixes,omitempty" json:"prefixes,omitempty"`
}

// AddPrefix prepends a path prefix before forwarding.
type AddPrefix struct {
	// Prefix to add.
	Prefix string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
}

// RedirectScheme redirects to another scheme (berth: http to https).
type RedirectScheme struct {
	// Scheme to redirect to.
	Scheme string `yaml:"scheme,omitempty" json:"scheme,omitempty"`
	// Permanent selects a permanent redirect.
	Permanent bool `yaml:"permanent,omitempty" json:"permanent,omitempty"`
}

// RedirectRegex redirects requests whose URL matches Regex to Replacement.
type RedirectRegex struct {
	// Regex is matched against the request URL.
	Regex string `yaml:"regex,omitempty" json:"regex,omitempty"`
	// Replacement is the target URL.
	Replacement string `yaml:"replacement,omitempty" json:"replacement,omitempty"`
	// Permanent selects a permanent redirect.
	Permanent bool `yaml:"permanent,omitempty" json:"permanent,omitempty"`
}

// BasicAuth requires HTTP basic authentication against htpasswd lines.
type BasicAuth struct {
	// Users are htpasswd lines "user:hash".
	Users []string `yaml:"users,omitempty" json:"users,omitempty"`
}

// TLSConfig holds TLS material served by Traefik's default store.
type TLSConfig struct {
	// Certificates to serve, matched by SNI.
	Certificates []*Certificate `yaml:"certificates,omitempty" json:"certificates,omitempty"`
}

// Certificate is a certificate and key, as paths inside the Traefik container.
type Certificate struct {
	// CertFile is the PEM certificate (chain) path.
	CertFile string `yaml:"certFile,omitempty" json:"certFile,omitempty"`
	// KeyFile is the PEM private key path.
	KeyFile string `yaml:"keyFile,omitempty" json:"keyFile,omitempty"`
}

// generatedHeader starts every encoded dynamic configuration.
const generatedHeader = "# Generated by berth. Do not edit: changes are overwritten.\n"

// Encode renders cfg as YAML. Map keys are sorted and berth sorts every
// list it builds, so equal configurations encode to identical bytes. The
// bytes are those gopkg.in/yaml.v3 writes for cfg (see emit.go), written
// by a dedicated emitter over ten times faster.
func Encode(cfg *Config) ([]byte, error) {
	size := 256
	if cfg != nil && cfg.HTTP != nil {
		size += 512 * (len(cfg.HTTP.Routers) + len(cfg.HTTP.Middlewares))
	}
	buf := make([]byte, 0, size)
	buf = append(buf, generatedHeader...)
	out, err := emitConfig(buf, cfg)
	if err != nil {
		return nil, fmt.Errorf("encode dynamic config: %w", err)
	}
	return out, nil
}

// Decode parses YAML dynamic configuration with paerser, the library
// Traefik's file provider reads it with, so an error here means Traefik
// would reject the file too.
func Decode(data []byte) (*Config, error) {
	cfg := &Config{}
	if err := file.DecodeContent(string(data), ".yaml", cfg); err != nil {
		return nil, fmt.Errorf("decode dynamic config: %w", err)
	}
	return cfg, nil
}
