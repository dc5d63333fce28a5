// Package certwatch reads the certificates Traefik obtained through ACME
// (its acme.json storage file) and emits certificate.expiring when one
// expires within ExpiringWithin (Traefik renews 30 days ahead, so this
// means renewal is late) and certificate.renewal_failed within
// RenewalFailedWithin, once per certificate per day.
package certwatch

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/sdk"
)

// Thresholds.
const (
	ExpiringWithin      = 14 * 24 * time.Hour
	RenewalFailedWithin = 7 * 24 * time.Hour
	// Interval is how often Run checks.
	Interval = 24 * time.Hour
)

// Emitter receives the events (core/notify).
type Emitter interface {
	Emit(ctx context.Context, ev sdk.Event)
}

// Scoper fills in the organization, project, environment and app of the
// application serving domain; false when none does (the event then
// concerns the whole instance).
type Scoper interface {
	Scope(ctx context.Context, domain string, ev *sdk.Event) bool
}

// Cert is one certificate of acme.json.
type Cert struct {
	Resolver string
	Domains  []string
	NotAfter time.Time
	Issuer   string
}

// Watcher checks acme.json.
type Watcher struct {
	// Path is the acme.json file.
	Path   string
	Events Emitter
	Scoper Scoper
	Log    *slog.Logger
	// PublicURL, when set, is the dashboard's address (events link to it).
	PublicURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// acmeFile is the part of Traefik's ACME storage berth reads: per resolver,
// its certificates with the PEM chain (base64 in JSON, hence []byte).
type acmeFile map[string]struct {
	Certificates []struct {
		Domain struct {
			Main string   `json:"main"`
			SANs []string `json:"sans"`
		} `json:"domain"`
		Certificate []byte `json:"certificate"`
	} `json:"Certificates"`
}

// Read returns the certificates of the ACME storage file at path; none
// when the file does not exist yet.
func Read(path string) ([]Cert, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("certwatch: %w", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, nil
	}
	var f acmeFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("certwatch: %s: %w", path, err)
	}
	var out []Cert
	var errs []error
	resolvers := make([]string, 0, len(f))
	for r := range f {
		resolvers = append(resolvers, r)
	}
	slices.Sort(resolvers)
	for _, r := range resolvers {
		for _, c := range f[r].Certificates {
			block, _ := pem.Decode(c.Certificate)
			if block == nil {
				errs = append(errs, fmt.Errorf("certwatch: %s: certificate of %s is not PEM", r, c.Domain.Main))
				continue
			}
			x, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				errs = append(errs, fmt.Errorf("certwatch: %s: certificate of %s: %w", r, c.Domain.Main, err))
				continue
			}
			domains := append([]string{c.Domain.Main}, c.Domain.SANs...)
			if c.Domain.Main == "" {
				domains = x.DNSNames
			}
			out = append(out, Cert{Resolver: r, Domains: domains, NotAfter: x.NotAfter.UTC(), Issuer: x.Issuer.CommonName})
		}
	}
	return out, errors.Join(errs...)
}

// Run checks at once and then every Interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		if err := w.Check(ctx); err != nil {
			w.log().Warn("checking certificates failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check reads acme.json and emits an event for each certificate close to
// its expiry. Event ids are derived from the certificate and the day, so a
// second check the same day (a restart, say) is deduplicated downstream.
func (w *Watcher) Check(ctx context.Context) error {
	certs, err := Read(w.Path)
	now := w.now()
	for _, c := range certs {
		if ev, ok := w.event(ctx, c, now); ok && w.Events != nil {
			w.Events.Emit(ctx, ev)
		}
	}
	return err
}

// event describes c at now; false when it is not close to expiry.
func (w *Watcher) event(ctx context.Context, c Cert, now time.Time) (sdk.Event, bool) {
	left := c.NotAfter.Sub(now)
	if left > ExpiringWithin {
		return sdk.Event{}, false
	}
	days := int(math.Floor(left.Hours() / 24))
	main := ""
	if len(c.Domains) > 0 {
		main = c.Domains[0]
	}
	d := &sdk.CertificateDetails{Domains: c.Domains, NotAfter: c.NotAfter, DaysLeft: days, Issuer: c.Issuer, Resolver: c.Resolver}
	ev := sdk.Event{Type: sdk.EventCertExpiring, Severity: sdk.SeverityWarning, Time: now, Certificate: d,
		Title:   "Certificate for " + main + " expires soon",
		Message: fmt.Sprintf("The certificate for %s expires on %s (%d days left) and has not been renewed yet.", strings.Join(c.Domains, ", "), c.NotAfter.Format(time.RFC3339), days)}
	if left <= RenewalFailedWithin {
		ev.Type, ev.Severity = sdk.EventCertRenewFailed, sdk.SeverityError
		ev.Title = "Certificate renewal failed for " + main
		d.Error = "Traefik did not renew the certificate within its renewal window (30 days before expiry); check its ACME log, DNS and port 80/443 reachability"
		if left <= 0 {
			d.Error = "the certificate has expired; " + d.Error
		}
		ev.Message = fmt.Sprintf("The certificate for %s expires on %s (%d days left): %s.", strings.Join(c.Domains, ", "), c.NotAfter.Format(time.RFC3339), days, d.Error)
	}
	sum := sha256.Sum256([]byte(string(ev.Type) + "|" + c.Resolver + "|" + strings.Join(c.Domains, ",") + "|" +
		c.NotAfter.Format(time.RFC3339) + "|" + now.UTC().Format(time.DateOnly)))
	ev.ID = "cert-" + hex.EncodeToString(sum[:16])
	if w.Scoper != nil {
		w.Scoper.Scope(ctx, main, &ev)
	}
	if w.PublicURL != "" {
		ev.URL = w.PublicURL
	}
	return ev, true
}

func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Watcher) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}
