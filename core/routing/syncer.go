// Package routing keeps Traefik's dynamic configuration equal to berth's
// stored domains: it projects the store into a proxy.Snapshot, generates the
// configuration with the pure proxy.Generate and publishes it atomically.
// Changes are coalesced, so a burst of API calls costs one regeneration.
package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

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
// validation are left out and logged; they never affect the others.
func (s *Syncer) Sync(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	domains, err := s.source.AllRoutedDomains(ctx)
	if err != nil {
		return fmt.Errorf("routing: load domains: %w", err)
	}
	snap := proxy.Snapshot{Routes: make([]proxy.Route, 0, len(domains)), APIAllowFrom: s.apiAllow}
	wantCerts := map[string]bool{}
	for _, d := range domains {
		r := Route(d)
		if d.HTTPS == string(proxy.TLSCustom) {
			name := d.ID.String()
			if err := s.writeCert(name, d.CertificatePEM, d.PrivateKeyPEM); err != nil {
				s.log.Error("writing custom certificate failed; domain left out", "domain", d.Host, "err", err)
				continue
			}
			wantCerts[name+".crt"], wantCerts[name+".key"] = true, true
			r.CertFile = filepath.Join(s.certsInProxy, name+".crt")
			r.KeyFile = filepath.Join(s.certsInProxy, name+".key")
		}
		snap.Routes = append(snap.Routes, r)
	}
	res := proxy.Generate(snap)
	for _, e := range res.Errors {
		s.log.Warn("route left out of the proxy configuration", "err", e)
	}
	changed, err := s.publisher.PublishConfig(ctx, res.Config)
	if err != nil {
		return fmt.Errorf("routing: publish: %w", err)
	}
	if changed {
		s.log.Debug("proxy configuration published", "routes", len(snap.Routes))
	}
	s.removeStaleCerts(wantCerts)
	return nil
}

// Route projects a stored domain into a proxy route.
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
	return r
}

func (s *Syncer) writeCert(name, cert, key string) error {
	if s.certsDir == "" {
		return errors.New("no certificate directory configured")
	}
	if err := os.MkdirAll(s.certsDir, 0o700); err != nil {
		return err
	}
	if err := writeIfChanged(filepath.Join(s.certsDir, name+".crt"), []byte(cert), 0o644); err != nil {
		return err
	}
	return writeIfChanged(filepath.Join(s.certsDir, name+".key"), []byte(key), 0o600)
}

func writeIfChanged(path string, data []byte, perm os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
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
