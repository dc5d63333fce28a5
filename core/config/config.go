// Package config reads berth server settings from the environment.
//
// Every setting has a default that works on a single Debian host, so
// `berth server` needs no configuration at all; see docs/configuration.md.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config holds every server setting.
type Config struct {
	// Name prefixes every Docker object berth creates (networks, containers), so
	// several instances can share one engine. Env BERTH_NAME, default "berth".
	Name string
	// DataDir holds the secret key, the embedded PostgreSQL cluster and the
	// proxy configuration. Env BERTH_DATA_DIR. Default /var/lib/berth (`make run` uses .data in the checkout).
	DataDir string
	// Addr is the listen address of the API and dashboard. Env BERTH_ADDR,
	// default ":7080".
	Addr string
	// PublicURL is how users reach berth; printed at start. Env BERTH_PUBLIC_URL.
	PublicURL string
	// DatabaseURL selects an external PostgreSQL; empty runs the embedded one.
	// Env DATABASE_URL.
	DatabaseURL string
	// PostgresBinDir overrides where initdb/pg_ctl are found. Env BERTH_PG_BIN_DIR.
	PostgresBinDir string
	// SecretKey is the 32-byte AES key for secrets at rest. Env BERTH_SECRET_KEY
	// (base64); when empty it is read from (or created in) DataDir/secret.key.
	SecretKey []byte
	// DockerHost overrides the Docker Engine address. Env DOCKER_HOST.
	DockerHost string
	// Proxy configures the Traefik instance berth runs.
	Proxy ProxyConfig
	// DisableProxy skips managing Traefik (API-only mode, used by some tests).
	// Env BERTH_DISABLE_PROXY=true.
	DisableProxy bool
	// SessionTTL is how long a browser session lives. Env BERTH_SESSION_TTL, default 168h.
	SessionTTL time.Duration
	// SecureCookies marks session cookies Secure. Env BERTH_SECURE_COOKIES,
	// default true when PublicURL starts with https.
	SecureCookies bool
	// TrustedProxies are the reverse proxies (IP addresses or CIDR ranges)
	// whose X-Forwarded-For names the client, for the sign-in throttle.
	// Env BERTH_TRUSTED_PROXIES, comma-separated; default none: the client
	// is always the connection's peer address.
	TrustedProxies []string
	// LogLevel is debug, info, warn or error. Env BERTH_LOG_LEVEL, default info.
	LogLevel string
	// PluginIndex is berth's own plugin-index.json. Env BERTH_PLUGIN_INDEX,
	// default: plugin-index.json next to the berth binary or in its parent.
	PluginIndex string
	// DeployConcurrency is how many deployments run at once.
	// Env BERTH_DEPLOY_CONCURRENCY, default 2.
	DeployConcurrency int
	// PluginDir holds third-party plugins registered with `berth plugins
	// register`. Env BERTH_PLUGIN_DIR, default DataDir/plugins.
	PluginDir string
}

// ProxyConfig configures the managed Traefik.
type ProxyConfig struct {
	// Image is the Traefik image. Env BERTH_TRAEFIK_IMAGE, default berth/traefik:v3.6.12.
	Image string
	// HTTPPort and HTTPSPort are published on all interfaces.
	// Env BERTH_HTTP_PORT (80) and BERTH_HTTPS_PORT (443).
	HTTPPort, HTTPSPort int
	// APIPort publishes Traefik's API and ping on 127.0.0.1 only.
	// Env BERTH_TRAEFIK_API_PORT, default 8081.
	APIPort int
	// ACMEEmail is the Let's Encrypt account email. Env BERTH_ACME_EMAIL.
	ACMEEmail string
}

// FromEnv builds a Config from environment variables, applying defaults.
func FromEnv() (Config, error) {
	return parse(os.Getenv)
}

func parse(getenv func(string) string) (Config, error) {
	c := Config{
		Name:           orDefault(getenv("BERTH_NAME"), "berth"),
		DataDir:        getenv("BERTH_DATA_DIR"),
		Addr:           orDefault(getenv("BERTH_ADDR"), ":7080"),
		PublicURL:      getenv("BERTH_PUBLIC_URL"),
		DatabaseURL:    getenv("DATABASE_URL"),
		PostgresBinDir: getenv("BERTH_PG_BIN_DIR"),
		DockerHost:     getenv("DOCKER_HOST"),
		LogLevel:       orDefault(getenv("BERTH_LOG_LEVEL"), "info"),
		PluginIndex:    getenv("BERTH_PLUGIN_INDEX"),
		PluginDir:      getenv("BERTH_PLUGIN_DIR"),
		Proxy: ProxyConfig{
			Image:     orDefault(getenv("BERTH_TRAEFIK_IMAGE"), "berth/traefik:v3.6.12"),
			ACMEEmail: getenv("BERTH_ACME_EMAIL"),
		},
	}
	var errs []error
	if !validName(c.Name) {
		errs = append(errs, fmt.Errorf("BERTH_NAME: %q must be 1-20 lowercase letters, digits or '-'", c.Name))
	}
	if c.DataDir == "" {
		c.DataDir = defaultDataDir()
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		errs = append(errs, fmt.Errorf("BERTH_DATA_DIR: %w", err))
	}
	c.DataDir = abs
	if c.PluginDir == "" {
		c.PluginDir = filepath.Join(c.DataDir, "plugins")
	}
	if c.PluginIndex == "" {
		c.PluginIndex = defaultPluginIndex()
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("BERTH_ADDR: %q is not host:port: %w", c.Addr, err))
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + displayHost(c.Addr)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.Proxy.HTTPPort = intVar(getenv, "BERTH_HTTP_PORT", 80, &errs)
	c.Proxy.HTTPSPort = intVar(getenv, "BERTH_HTTPS_PORT", 443, &errs)
	c.Proxy.APIPort = intVar(getenv, "BERTH_TRAEFIK_API_PORT", 8081, &errs)
	c.DeployConcurrency = 2
	if v := getenv("BERTH_DEPLOY_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			errs = append(errs, fmt.Errorf("BERTH_DEPLOY_CONCURRENCY: %q is not a number from 1 to 64", v))
		} else {
			c.DeployConcurrency = n
		}
	}
	c.DisableProxy = boolVar(getenv, "BERTH_DISABLE_PROXY", false, &errs)
	c.SecureCookies = boolVar(getenv, "BERTH_SECURE_COOKIES", strings.HasPrefix(c.PublicURL, "https://"), &errs)
	ttl := orDefault(getenv("BERTH_SESSION_TTL"), "168h")
	if c.SessionTTL, err = time.ParseDuration(ttl); err != nil || c.SessionTTL < time.Minute {
		errs = append(errs, fmt.Errorf("BERTH_SESSION_TTL: %q is not a duration of at least 1m", ttl))
	}
	for _, p := range strings.Split(getenv("BERTH_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		_, perr := netip.ParsePrefix(p)
		if _, aerr := netip.ParseAddr(p); aerr != nil && perr != nil {
			errs = append(errs, fmt.Errorf("BERTH_TRUSTED_PROXIES: %q is not an IP address or CIDR range", p))
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if k := getenv("BERTH_SECRET_KEY"); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(key) != 32 {
			errs = append(errs, errors.New("BERTH_SECRET_KEY: must be 32 bytes, base64-encoded (openssl rand -base64 32)"))
		}
		c.SecretKey = key
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("BERTH_LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	return c, errors.Join(errs...)
}

// defaultPluginIndex finds plugin-index.json beside the running binary or in
// its parent (bin/berth in a checkout); empty when there is none.
func defaultPluginIndex() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	dir := filepath.Dir(exe)
	for _, p := range []string{filepath.Join(dir, "plugin-index.json"), filepath.Join(dir, "..", "plugin-index.json")} {
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p)
		}
	}
	return ""
}

func defaultDataDir() string { return "/var/lib/berth" }

func displayHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func intVar(getenv func(string) string, name string, def int, errs *[]error) int {
	v := getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		*errs = append(*errs, fmt.Errorf("%s: %q is not a port number (1-65535)", name, v))
		return def
	}
	return n
}

func boolVar(getenv func(string) string, name string, def bool, errs *[]error) bool {
	v := getenv(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %q is not true or false", name, v))
		return def
	}
	return b
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
