package proxy

import "time"

// TLSMode says how a route serves HTTPS.
type TLSMode string

// TLS modes of a route.
const (
	// TLSNone serves the route over plain HTTP only. The zero value means the same.
	TLSNone TLSMode = "none"
	// TLSLetsEncrypt serves HTTPS with a certificate obtained through the ACME
	// certificate resolver.
	TLSLetsEncrypt TLSMode = "letsencrypt"
	// TLSCustom serves HTTPS with a certificate and key the user supplied,
	// given as file paths inside the Traefik container.
	TLSCustom TLSMode = "custom"
)

// Defaults of the names shared by the static and the dynamic configuration.
const (
	// DefaultCertResolver is the name of the ACME certificate resolver.
	DefaultCertResolver = "letsencrypt"
	// DefaultEntryPointWeb is the name of the plain HTTP entry point.
	DefaultEntryPointWeb = "web"
	// DefaultEntryPointWebSecure is the name of the HTTPS entry point.
	DefaultEntryPointWebSecure = "websecure"
)

// Snapshot is the part of berth's desired state that routing depends on.
// Berth projects its store into a Snapshot and hands it to Generate.
type Snapshot struct {
	// Routes lists every domain (or domain and path) to route. Order does
	// not matter.
	Routes []Route
	// CertResolver names the ACME resolver used by TLSLetsEncrypt routes;
	// empty means DefaultCertResolver.
	CertResolver string
	// EntryPointWeb names the plain HTTP entry point; empty means
	// DefaultEntryPointWeb.
	EntryPointWeb string
	// EntryPointWebSecure names the HTTPS entry point; empty means
	// DefaultEntryPointWebSecure.
	EntryPointWebSecure string
	// APIAllowFrom, when not empty, serves Traefik's own API (api@internal)
	// and its Prometheus metrics (prometheus@internal, on MetricsPath) on
	// the traefik entry point to these CIDR ranges only. Berth passes the
	// addresses its published loopback port arrives from, so applications on
	// the shared network cannot read the routing table.
	APIAllowFrom []string
	// Probes are the task probes to serve on the API entry point; they are
	// only generated with APIAllowFrom (they share its allow list).
	Probes []Probe
}

// Route sends requests for one host (and optionally a path prefix) to one
// port of one Swarm service.
type Route struct {
	// ID identifies the route stably across generations; every Traefik name
	// generated for the route derives from it. Lower-case letters, digits
	// and single hyphens, e.g. a UUID.
	ID string
	// Service is the Swarm service name. It must be attached to the proxy
	// network with endpoint mode dnsrr: the backend is
	// http://tasks.<Service>:<Port>, unless Addresses are given.
	Service string
	// Port is the container port the service listens on.
	Port int
	// Host is the domain name to match. Matching is case-insensitive.
	Host string
	// PathPrefix, when set, restricts the route to paths starting with it.
	PathPrefix string
	// StripPrefix removes PathPrefix before forwarding the request.
	StripPrefix bool
	// InternalPrefix, when set, is prepended to the path before forwarding
	// (after StripPrefix).
	InternalPrefix string
	// TLS selects how HTTPS is served; empty means TLSNone.
	TLS TLSMode
	// CertFile is the certificate path inside the Traefik container
	// (TLSCustom only).
	CertFile string
	// KeyFile is the private key path inside the Traefik container
	// (TLSCustom only).
	KeyFile string
	// RedirectToHTTPS answers plain HTTP requests with a permanent redirect
	// to HTTPS. It needs a TLS mode other than TLSNone.
	RedirectToHTTPS bool
	// Redirects are regular-expression redirects applied, in order, before
	// authentication.
	Redirects []Redirect
	// BasicAuth, when not empty, requires HTTP basic authentication. Each
	// entry is an htpasswd line "user:hash" with a bcrypt ($2y$, $2a$, $2b$),
	// Apache MD5 ($apr1$) or SHA1 ({SHA}) hash.
	BasicAuth []string
	// HealthCheck, when set, makes Traefik actively check the backend and
	// stop sending requests to tasks that fail.
	HealthCheck *HealthCheckSpec
	// Addresses, when not empty, are the IP addresses (on the proxy
	// network) of the tasks that take the route's traffic: Traefik gets
	// one server http://<address>:<Port> each instead of the DNS name
	// tasks.<Service>. Berth sets them while a rollout hands traffic over
	// from old tasks to new ones (see core/routing); at rest Swarm's DNS
	// lists the tasks, which needs no berth to follow restarts.
	Addresses []string
	// Canary, when set (and Addresses is empty), sends a share of the
	// route's requests to a canary release running as another Swarm
	// service, through Traefik's weighted round robin.
	Canary *Canary
	// Maintenance, when set, puts the route in maintenance mode: its
	// routers keep their rule and TLS (and the HTTP-to-HTTPS redirect),
	// but every request goes to berth's maintenance page server instead
	// of Service, which answers 503 with Retry-After and the page (see
	// core/pages). Redirects, BasicAuth, path rewriting, HealthCheck and
	// Addresses are not applied while it is set.
	Maintenance *MaintenanceSpec
}

// MaintenanceSpec is what a route in maintenance mode answers, and the
// Swarm service (on the proxy network, dnsrr) that answers it.
type MaintenanceSpec struct {
	// PageBase64 is the HTML page, standard base64; at most
	// pages.MaxPageBytes once decoded.
	PageBase64 string
	// RetryAfter is the Retry-After in seconds, from 1 to
	// pages.MaxRetryAfter.
	RetryAfter int
	// PagesService is the Swarm service of the page server, reached at
	// http://tasks.<PagesService>:<PagesPort>.
	PagesService string
	// PagesPort is the page server's port.
	PagesPort int
}

// Canary is a second release of a route's application taking a share of
// its traffic.
type Canary struct {
	// Service is the canary's Swarm service, reached as
	// http://tasks.<Service>:<Port> on the proxy network.
	Service string
	// Weight is the canary's share of requests in percent, 1 to 99.
	Weight int
}

// Probe is a router on Traefik's loopback-only API entry point that
// forwards to one task, so berth can check a task's readiness over the
// proxy network before the task takes traffic. Requests must carry Host
// ProbeHost(ID); answers that came from the task carry the header
// ProbeHeader with the probe's ID (Traefik's own errors do not).
type Probe struct {
	// ID names the probe: lower-case letters, digits and single hyphens.
	ID string
	// Address is the task's IP address on the proxy network.
	Address string
	// Port is the task's port.
	Port int
}

// ProbeHeader is the response header carrying the ID of the probe an
// answer came through.
const ProbeHeader = "X-Berth-Probe"

// ProbeHost is the Host header that reaches probe id.
func ProbeHost(id string) string { return id + ".probe.berth.internal" }

// Redirect is a regular-expression redirect on the full request URL.
type Redirect struct {
	// Regex is a Go regular expression matched against the request URL,
	// e.g. `^https?://www\.example\.com/(.*)`.
	Regex string
	// Replacement is the target URL; it may use $1-style references.
	Replacement string
	// Permanent selects 301/308 instead of 302/307.
	Permanent bool
}

// HealthCheckSpec configures an active health check of a route's backend.
type HealthCheckSpec struct {
	// Path is the HTTP path to request, e.g. "/healthz".
	Path string
	// Interval between checks; zero means Traefik's default (30s).
	Interval time.Duration
	// Timeout of one check; zero means Traefik's default (5s).
	Timeout time.Duration
}
