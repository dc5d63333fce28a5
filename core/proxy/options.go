package proxy

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"time"
)

// Defaults of Options.
const (
	// DefaultImage is the pinned Traefik image (built by scripts/traefik.sh).
	DefaultImage = "berth/traefik:v3.6.12"
	// DefaultContainerName is the name of the Traefik container.
	DefaultContainerName = "berth-traefik"
	// DefaultNetwork is the attachable overlay network shared by Traefik
	// and the app services it routes to.
	DefaultNetwork = "berth-proxy"
	// DefaultHTTPPort is the host port of the web entry point.
	DefaultHTTPPort = 80
	// DefaultHTTPSPort is the host port of the websecure entry point.
	DefaultHTTPSPort = 443
	// DefaultAPIPort is the host port, on 127.0.0.1 only, of the API and ping.
	DefaultAPIPort = 8081
	// DefaultStartTimeout bounds the wait for Traefik to answer /ping.
	DefaultStartTimeout = 30 * time.Second
)

// Options configure a Traefik instance. Only DataDir is required; several
// instances can run side by side with distinct names, ports and dirs.
type Options struct {
	// Name of the container; default DefaultContainerName.
	Name string
	// Image is the Traefik image; default DefaultImage. It must exist
	// locally: Ensure never pulls.
	Image string
	// Network is the attachable overlay network; default DefaultNetwork.
	Network string
	// DataDir is berth's absolute host directory for Traefik. It holds the
	// static config traefik.yml and, unless overridden, dynamic/, certs/
	// and acme/.
	DataDir string
	// DynamicDir is the host directory watched by the file provider;
	// default DataDir/dynamic.
	DynamicDir string
	// CertsDir is the host directory of custom certificates, mounted
	// read-only at ContainerCertsDir; default DataDir/certs.
	CertsDir string
	// ACMEDir is the host directory holding acme.json; default
	// DataDir/acme. Ignored when ACMEVolume is set.
	ACMEDir string
	// ACMEVolume, when set, stores acme.json in this named volume instead.
	ACMEVolume string
	// Static holds the static configuration settings.
	Static StaticOptions
	// BindIP is the host address of the HTTP and HTTPS ports; default
	// 0.0.0.0. The API port is always bound to 127.0.0.1.
	BindIP string
	// HTTPPort is the host port of the web entry point; default 80.
	HTTPPort int
	// HTTPSPort is the host port of the websecure entry point; default 443.
	HTTPSPort int
	// APIPort is the host port of the API and /ping; default 8081.
	APIPort int
	// StartTimeout bounds the wait for /ping; default DefaultStartTimeout.
	StartTimeout time.Duration
	// Labels are added to the container and the network.
	Labels map[string]string
}

// withDefaults fills in defaults and checks the options.
func (o Options) withDefaults() (Options, error) {
	o.Name = cmp.Or(o.Name, DefaultContainerName)
	o.Image = cmp.Or(o.Image, DefaultImage)
	o.Network = cmp.Or(o.Network, DefaultNetwork)
	o.BindIP = cmp.Or(o.BindIP, "0.0.0.0")
	o.HTTPPort = cmp.Or(o.HTTPPort, DefaultHTTPPort)
	o.HTTPSPort = cmp.Or(o.HTTPSPort, DefaultHTTPSPort)
	o.APIPort = cmp.Or(o.APIPort, DefaultAPIPort)
	o.StartTimeout = cmp.Or(o.StartTimeout, DefaultStartTimeout)
	o.Labels = maps.Clone(o.Labels)

	if o.DataDir == "" {
		return o, errors.New("traefik options: DataDir is required")
	}
	o.DynamicDir = cmp.Or(o.DynamicDir, filepath.Join(o.DataDir, "dynamic"))
	o.CertsDir = cmp.Or(o.CertsDir, filepath.Join(o.DataDir, "certs"))
	o.ACMEDir = cmp.Or(o.ACMEDir, filepath.Join(o.DataDir, "acme"))
	for field, dir := range map[string]string{
		"DataDir": o.DataDir, "DynamicDir": o.DynamicDir, "CertsDir": o.CertsDir, "ACMEDir": o.ACMEDir,
	} {
		if !filepath.IsAbs(dir) {
			return o, fmt.Errorf("traefik options: %s %q must be absolute (it is a bind-mount source)", field, dir)
		}
	}
	ports := map[int]string{}
	for field, port := range map[string]int{"HTTPPort": o.HTTPPort, "HTTPSPort": o.HTTPSPort, "APIPort": o.APIPort} {
		if port < 1 || port > 65535 {
			return o, fmt.Errorf("traefik options: %s %d is not between 1 and 65535", field, port)
		}
		if other, dup := ports[port]; dup {
			return o, fmt.Errorf("traefik options: %s and %s are both %d", field, other, port)
		}
		ports[port] = field
	}
	return o, nil
}

// staticFile is the host path of the static configuration.
func (o Options) staticFile() string { return filepath.Join(o.DataDir, "traefik.yml") }
