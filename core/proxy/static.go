package proxy

import (
	"bytes"
	"cmp"
	"fmt"
	"time"

	"github.com/traefik/paerser/file"
	ptypes "github.com/traefik/paerser/types"
	"gopkg.in/yaml.v3"
)

// Paths and ports inside the Traefik container. They are fixed: only the
// host side of mounts and port bindings is configurable.
const (
	// ContainerStaticFile is where the static configuration is mounted.
	ContainerStaticFile = "/etc/traefik/traefik.yml"
	// ContainerDynamicDir is the directory watched by the file provider.
	ContainerDynamicDir = "/etc/traefik/dynamic"
	// ContainerCertsDir holds custom certificates; routes with TLSCustom
	// name files under it.
	ContainerCertsDir = "/etc/traefik/certs"
	// ContainerACMEDir holds acme.json.
	ContainerACMEDir = "/data"
	// EntryPointTraefik is the entry point serving the API and ping.
	EntryPointTraefik = "traefik"

	containerHTTPPort  = 80
	containerHTTPSPort = 443
	containerAPIPort   = 8080
)

// providersThrottle batches file events into one reload.
const providersThrottle = 200 * time.Millisecond

// StaticOptions are the settings of Traefik's static configuration that
// berth lets the operator choose.
type StaticOptions struct {
	// ACMEEmail is the Let's Encrypt account email; it may be empty.
	ACMEEmail string
	// CertResolver names the ACME resolver; empty means DefaultCertResolver.
	CertResolver string
	// LogLevel is Traefik's log level; empty means INFO.
	LogLevel string
}

// StaticConfig is Traefik's static configuration, limited to what berth sets.
// Field names equal Traefik's (pkg/config/static) so paerser checks them.
type StaticConfig struct {
	// Global settings.
	Global *StaticGlobal `yaml:"global,omitempty"`
	// EntryPoints by name.
	EntryPoints map[string]*StaticEntryPoint `yaml:"entryPoints,omitempty"`
	// Providers of dynamic configuration.
	Providers *StaticProviders `yaml:"providers,omitempty"`
	// API settings.
	API *StaticAPI `yaml:"api,omitempty" file:"allowEmpty"`
	// Ping enables the /ping health endpoint.
	Ping *StaticPing `yaml:"ping,omitempty" file:"allowEmpty"`
	// Log configures Traefik's log.
	Log *StaticLog `yaml:"log,omitempty" file:"allowEmpty"`
	// AccessLog configures the access log.
	AccessLog *StaticAccessLog `yaml:"accessLog,omitempty" file:"allowEmpty"`
	// CertificatesResolvers by name.
	CertificatesResolvers map[string]*StaticCertResolver `yaml:"certificatesResolvers,omitempty"`
	// Metrics configures Traefik's metrics.
	Metrics *StaticMetrics `yaml:"metrics,omitempty"`
	// ServersTransport configures connections to the backends.
	ServersTransport *StaticServersTransport `yaml:"serversTransport,omitempty"`
}

// StaticServersTransport configures Traefik's connections to backends.
type StaticServersTransport struct {
	ForwardingTimeouts *StaticForwardingTimeouts `yaml:"forwardingTimeouts,omitempty"`
}

// StaticForwardingTimeouts bounds the steps of forwarding a request.
type StaticForwardingTimeouts struct {
	// DialTimeout bounds opening a connection to a backend.
	DialTimeout ptypes.Duration `yaml:"dialTimeout,omitempty"`
}

// backendDialTimeout bounds a connection to a task on the overlay network
// (normally well under a millisecond). A task whose container just went
// away leaves an address that answers nothing, and Traefik's default (30
// s) would hold requests until the route drops it; with this bound the
// retry middleware sends them to another task instead.
const backendDialTimeout = time.Second

// StaticGlobal turns off Traefik's calls home.
type StaticGlobal struct {
	// CheckNewVersion asks GitHub for new releases.
	CheckNewVersion bool `yaml:"checkNewVersion"`
	// SendAnonymousUsage reports usage statistics.
	SendAnonymousUsage bool `yaml:"sendAnonymousUsage"`
}

// StaticEntryPoint is a listening address.
type StaticEntryPoint struct {
	// Address to listen on, e.g. ":80".
	Address string `yaml:"address"`
}

// StaticProviders configures the file provider berth publishes to.
type StaticProviders struct {
	// ProvidersThrottleDuration batches provider events.
	ProvidersThrottleDuration ptypes.Duration `yaml:"providersThrottleDuration,omitempty"`
	// File is the file provider.
	File *StaticFileProvider `yaml:"file,omitempty"`
}

// StaticFileProvider watches a directory of dynamic configuration files.
type StaticFileProvider struct {
	// Directory holding the dynamic configuration files.
	Directory string `yaml:"directory"`
	// Watch reloads on file changes.
	Watch bool `yaml:"watch"`
}

// StaticAPI enables Traefik's API on the "traefik" entry point.
type StaticAPI struct {
	// Insecure serves the API on the "traefik" entry point.
	Insecure bool `yaml:"insecure"`
	// Dashboard serves the web UI.
	Dashboard bool `yaml:"dashboard"`
}

// StaticPing enables /ping on an entry point.
type StaticPing struct {
	// EntryPoint serving /ping.
	EntryPoint string `yaml:"entryPoint,omitempty"`
}

// StaticLog configures Traefik's own log.
type StaticLog struct {
	// Level, e.g. INFO.
	Level string `yaml:"level,omitempty"`
	// Format, "json" or "common".
	Format string `yaml:"format,omitempty"`
}

// StaticAccessLog configures the access log.
type StaticAccessLog struct {
	// Format, "json" or "common".
	Format string `yaml:"format,omitempty"`
}

// StaticMetrics configures Traefik's metrics; berth uses Prometheus only.
type StaticMetrics struct {
	// Prometheus serves the metrics in the Prometheus text format.
	Prometheus *StaticPrometheus `yaml:"prometheus,omitempty"`
}

// StaticPrometheus configures the Prometheus metrics. Traefik's defaults
// for the labels differ from berth's, so every flag is written out.
type StaticPrometheus struct {
	// AddEntryPointsLabels adds per-entry-point series.
	AddEntryPointsLabels bool `yaml:"addEntryPointsLabels"`
	// AddRoutersLabels adds per-router series.
	AddRoutersLabels bool `yaml:"addRoutersLabels"`
	// AddServicesLabels adds per-service series, e.g.
	// traefik_service_requests_total{code,method,protocol,service}.
	AddServicesLabels bool `yaml:"addServicesLabels"`
	// EntryPoint serving prometheus@internal.
	EntryPoint string `yaml:"entryPoint,omitempty"`
	// ManualRouting stops Traefik from adding its own open router for
	// the metrics; berth's dynamic configuration adds an allow-listed
	// one (MetricsRouter).
	ManualRouting bool `yaml:"manualRouting"`
}

// StaticCertResolver is a certificate resolver.
type StaticCertResolver struct {
	// ACME configures an ACME resolver.
	ACME *StaticACME `yaml:"acme,omitempty"`
}

// StaticACME configures an ACME (Let's Encrypt) resolver. Traefik only
// contacts the CA when a router uses the resolver.
type StaticACME struct {
	// Email of the ACME account; may be empty.
	Email string `yaml:"email,omitempty"`
	// Storage is the acme.json path inside the container.
	Storage string `yaml:"storage,omitempty"`
	// HTTPChallenge selects the HTTP-01 challenge.
	HTTPChallenge *StaticHTTPChallenge `yaml:"httpChallenge,omitempty"`
}

// StaticHTTPChallenge answers ACME HTTP-01 challenges on an entry point.
type StaticHTTPChallenge struct {
	// EntryPoint answering the challenge.
	EntryPoint string `yaml:"entryPoint,omitempty"`
}

// NewStaticConfig returns berth's Traefik static configuration: entry points
// web (:80), websecure (:443) and traefik (:8080, API, ping and metrics
// only), the file provider on ContainerDynamicDir, an ACME resolver storing
// into ContainerACMEDir, JSON logs, and Prometheus metrics per service
// (served by the MetricsRouter of the dynamic configuration).
func NewStaticConfig(o StaticOptions) *StaticConfig {
	return &StaticConfig{
		Global: &StaticGlobal{},
		EntryPoints: map[string]*StaticEntryPoint{
			DefaultEntryPointWeb:       {Address: fmt.Sprintf(":%d", containerHTTPPort)},
			DefaultEntryPointWebSecure: {Address: fmt.Sprintf(":%d", containerHTTPSPort)},
			EntryPointTraefik:          {Address: fmt.Sprintf(":%d", containerAPIPort)},
		},
		Providers: &StaticProviders{
			ProvidersThrottleDuration: ptypes.Duration(providersThrottle),
			File:                      &StaticFileProvider{Directory: ContainerDynamicDir, Watch: true},
		},
		// The API is not insecure: a router in the dynamic configuration
		// (Snapshot.APIAllowFrom) serves it to the host's loopback only.
		API:       &StaticAPI{Insecure: false, Dashboard: false},
		Ping:      &StaticPing{EntryPoint: EntryPointTraefik},
		Log:       &StaticLog{Level: cmp.Or(o.LogLevel, "INFO"), Format: "json"},
		AccessLog: &StaticAccessLog{Format: "json"},
		CertificatesResolvers: map[string]*StaticCertResolver{
			cmp.Or(o.CertResolver, DefaultCertResolver): {ACME: &StaticACME{
				Email:         o.ACMEEmail,
				Storage:       ContainerACMEDir + "/acme.json",
				HTTPChallenge: &StaticHTTPChallenge{EntryPoint: DefaultEntryPointWeb},
			}},
		},
		// Per-service counters only: they are what a canary is judged by,
		// and entry-point or router series would add memory and nothing
		// berth reads.
		ServersTransport: &StaticServersTransport{ForwardingTimeouts: &StaticForwardingTimeouts{
			DialTimeout: ptypes.Duration(backendDialTimeout)}},
		Metrics: &StaticMetrics{Prometheus: &StaticPrometheus{
			AddServicesLabels: true,
			EntryPoint:        EntryPointTraefik,
			ManualRouting:     true,
		}},
	}
}

// EncodeStatic renders the static configuration as YAML, deterministically,
// and checks that paerser decodes it back.
func EncodeStatic(c *StaticConfig) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(generatedHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode static config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode static config: %w", err)
	}
	if err := file.DecodeContent(buf.String(), ".yml", &StaticConfig{}); err != nil {
		return nil, fmt.Errorf("static config does not decode: %w", err)
	}
	return buf.Bytes(), nil
}
