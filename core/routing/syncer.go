// Package routing keeps Traefik's dynamic configuration equal to berth's
// stored domains: it projects the store into a proxy.Snapshot, generates the
// configuration with the pure proxy.Generate and publishes it atomically.
// Changes are coalesced, so a burst of API calls costs one regeneration.
//
// At rest a route's backend is Swarm's DNS name tasks.<service>, which
// follows task restarts without berth. While a rollout runs, the deployment
// pipeline hands traffic over explicitly with SetServing: Traefik then
// lists the addresses of exactly the tasks Swarm runs and has not told to
// stop, so a new task gets traffic as soon as it is running (healthy, when
// it has a health check) and an old one stops getting any before Docker
// signals it (docs/performance.md).
package routing

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/berth-dev/berth/core/atomicfile"
	"github.com/berth-dev/berth/core/pages"
	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/store"
)

// Source lists the domains to route.
type Source interface {
	AllRoutedDomains(ctx context.Context) ([]store.RoutedDomain, error)
}

// Publisher writes a generated configuration where Traefik reads it.
type Publisher interface {
	PublishConfig(ctx context.Context, cfg *proxy.Config) (bool, error)
}

// Syncer regenerates and publishes the proxy configuration on demand.
type Syncer struct {
	source    Source
	publisher Publisher
	// certsDir is the host directory of custom certificates; certsInProxy is
	// the same directory as Traefik's container sees it.
	certsDir, certsInProxy string
	log                    *slog.Logger
	debounce               time.Duration

	kick chan struct{}
	mu   sync.Mutex // serialises Sync and guards apiAllow
	// apiAllow are the source ranges allowed to reach Traefik's API.
	apiAllow []string

	servingMu sync.Mutex
	// serving maps a service name to the task addresses its routes send
	// traffic to instead of tasks.<service>, during a rollout.
	serving map[string][]string
	// probes maps an owner (a release) to the task probes it needs.
	probes map[string][]proxy.Probe
}

// SetProbes makes Traefik serve probes, the routers through which berth
// checks new tasks' readiness (see proxy.Probe), for owner, replacing
// owner's previous ones, and regenerates soon. Nil probes remove owner's.
func (s *Syncer) SetProbes(owner string, probes []proxy.Probe) {
	s.servingMu.Lock()
	if len(probes) == 0 {
		delete(s.probes, owner)
	} else {
		if s.probes == nil {
			s.probes = map[string][]proxy.Probe{}
		}
		s.probes[owner] = slices.Clone(probes)
	}
	s.servingMu.Unlock()
	s.RoutesChanged()
}

// allProbes returns every owner's probes.
func (s *Syncer) allProbes() []proxy.Probe {
	s.servingMu.Lock()
	defer s.servingMu.Unlock()
	var out []proxy.Probe
	for _, ps := range s.probes {
		out = append(out, ps...)
	}
	return out
}

// SetServing makes the routes of service send traffic to the tasks at
// addrs (their IP addresses on the proxy network) instead of resolving
// tasks.<service>, and regenerates soon. Nil or empty addrs go back to
// DNS. The deployment pipeline calls it during rollouts; see the package
// documentation.
func (s *Syncer) SetServing(service string, addrs []string) {
	s.servingMu.Lock()
	if len(addrs) == 0 {
		delete(s.serving, service)
	} else {
		if s.serving == nil {
			s.serving = map[string][]string{}
		}
		s.serving[service] = slices.Clone(addrs)
	}
	s.servingMu.Unlock()
	s.RoutesChanged()
}

// servingOf returns the addresses set for service, if any.
func (s *Syncer) servingOf(service string) []string {
	s.servingMu.Lock()
	defer s.servingMu.Unlock()
	return s.serving[service]
}

// SetAPIAllowFrom sets the source ranges allowed to read Traefik's own API
// (see proxy.Snapshot.APIAllowFrom); call Sync afterwards.
func (s *Syncer) SetAPIAllowFrom(ranges []string) {
	s.mu.Lock()
	s.apiAllow = append([]string(nil), ranges...)
	s.mu.Unlock()
}

// NewSyncer returns a Syncer. certsDir is where custom certificates are
// written on the host, certsInProxy where Traefik's container sees them.
func NewSyncer(src Source, pub Publisher, certsDir, certsInProxy string, log *slog.Logger) *Syncer {
	if log == nil {
		log = slog.Default()
	}
	return &Syncer{source: src, publisher: pub, certsDir: certsDir, certsInProxy: certsInProxy, log: log,
		debounce: 20 * time.Millisecond, kick: make(chan struct{}, 1)}
}

// RoutesChanged asks for a regeneration soon; it never blocks.
func (s *Syncer) RoutesChanged() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run regenerates after each RoutesChanged (coalescing bursts) until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.debounce):
		}
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("publishing proxy configuration failed; the last good one keeps serving", "err", err)
		}
	}
}

// Sync generates and publishes the configuration now. Routes that fail
// validation are left out and logged; they never affect the others. A
// publication that changed the file is logged with its timings: load (the
// store), generate (projection and proxy.Generate) and publish (encode,
// write, fsync, rename).
func (s *Syncer) Sync(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	domains, err := s.source.AllRoutedDomains(ctx)
	if err != nil {
		return fmt.Errorf("routing: load domains: %w", err)
	}
	loaded := time.Now()
	snap := proxy.Snapshot{Routes: make([]proxy.Route, 0, len(domains)), APIAllowFrom: s.apiAllow, Probes: s.allProbes()}
	wantCerts := map[string]bool{}
	for _, d := range domains {
		r := Route(d)
		if d.HTTPS == string(proxy.TLSCustom) {
			name := d.ID.String()
			if err := s.writeCert(ctx, name, d.CertificatePEM, d.PrivateKeyPEM); err != nil {
				s.log.Error("writing custom certificate failed; domain left out", "domain", d.Host, "err", err)
				continue
			}
			wantCerts[name+".crt"], wantCerts[name+".key"] = true, true
			r.CertFile = filepath.Join(s.certsInProxy, name+".crt")
			r.KeyFile = filepath.Join(s.certsInProxy, name+".key")
		}
		r.Addresses = s.servingOf(r.Service)
		snap.Routes = append(snap.Routes, r)
	}
	res := proxy.Generate(snap)
	for _, e := range res.Errors {
		s.log.Warn("route left out of the proxy configuration", "err", e)
	}
	generated := time.Now()
	changed, err := s.publisher.PublishConfig(ctx, res.Config)
	if err != nil {
		return fmt.Errorf("routing: publish: %w", err)
	}
	if changed {
		done := time.Now()
		s.log.Info("proxy configuration published", "routes", len(snap.Routes),
			"load", loaded.Sub(start).Round(10*time.Microsecond), "generate", generated.Sub(loaded).Round(10*time.Microsecond),
			"publish", done.Sub(generated).Round(10*time.Microsecond), "took", done.Sub(start).Round(10*time.Microsecond))
	}
	s.removeStaleCerts(wantCerts)
	return nil
}

// Route projects a stored domain into a proxy route. A domain of an
// application in maintenance mode is routed to the page server named in
// its maintenance state, with the application's page (or the default one
// naming it) and Retry-After.
func Route(d store.RoutedDomain) proxy.Route {
	port := d.Port
	if port == 0 {
		port = d.AppPort
	}
	r := proxy.Route{
		ID: d.ID.String(), Service: d.ServiceName, Port: port, Host: d.Host,
		PathPrefix: d.PathPrefix, StripPrefix: d.StripPrefix, InternalPrefix: d.InternalPrefix,
		TLS: proxy.TLSMode(d.HTTPS), RedirectToHTTPS: d.RedirectHTTPS, BasicAuth: d.BasicAuth,
	}
	for _, rd := range d.Redirects {
		r.Redirects = append(r.Redirects, proxy.Redirect{Regex: rd.Regex, Replacement: rd.Replacement, Permanent: rd.Permanent})
	}
	if d.CanaryWeight != nil {
		r.Canary = &proxy.Canary{Service: store.CandidateServiceName(d.ServiceName), Weight: *d.CanaryWeight}
	}
	if m := d.Maintenance; m.Enabled {
		page := cmp.Or(m.Page, pages.DefaultPage(d.AppName))
		r.Maintenance = &proxy.MaintenanceSpec{PageBase64: base64.StdEncoding.EncodeToString([]byte(page)),
			RetryAfter: m.RetryAfter, PagesService: m.Service, PagesPort: pages.Port}
	}
	return r
}

func (s *Syncer) writeCert(ctx context.Context, name, cert, key string) error {
	if s.certsDir == "" {
		return errors.New("no certificate directory configured")
	}
	if err := os.MkdirAll(s.certsDir, 0o700); err != nil {
		return err
	}
	if err := writeIfChanged(ctx, filepath.Join(s.certsDir, name+".crt"), []byte(cert), 0o644); err != nil {
		return err
	}
	return writeIfChanged(ctx, filepath.Join(s.certsDir, name+".key"), []byte(key), 0o600)
}

// writeIfChanged replaces path with data atomically unless it already
// holds data.
func writeIfChanged(ctx context.Context, path string, data []byte, perm os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	return atomicfile.WriteFile(ctx, path, data, perm)
}

func (s *Syncer) removeStaleCerts(want map[string]bool) {
	if s.certsDir == "" {
		return
	}
	entries, err := os.ReadDir(s.certsDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !want[e.Name()] {
			_ = os.Remove(filepath.Join(s.certsDir, e.Name()))
		}
	}
}
