package certwatch_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/certwatch"
	"github.com/berth-dev/berth/sdk"
)

// certPEM generates a self-signed certificate for domains expiring at
// notAfter, issued by "Test CA".
func certPEM(t *testing.T, notAfter time.Time, domains ...string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: domains[0]},
		Issuer: pkix.Name{CommonName: "Test CA"}, DNSNames: domains,
		NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter}
	ca := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Test CA"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

type acmeCert struct {
	Domain struct {
		Main string   `json:"main"`
		SANs []string `json:"sans,omitempty"`
	} `json:"domain"`
	Certificate []byte `json:"certificate"`
	Key         []byte `json:"key"`
	Store       string `json:"Store"`
}

// writeACME writes an acme.json like Traefik's with one resolver.
func writeACME(t *testing.T, certs map[string][]byte) string {
	t.Helper()
	var list []acmeCert
	for main, pemBytes := range certs {
		c := acmeCert{Certificate: pemBytes, Key: []byte("not read"), Store: "default"}
		c.Domain.Main = main
		list = append(list, c)
	}
	data, err := json.Marshal(map[string]any{"letsencrypt": map[string]any{
		"Account": map[string]any{"Email": "ops@example.com"}, "Certificates": list}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "acme.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type sink struct {
	mu  sync.Mutex
	evs []sdk.Event
}

func (s *sink) Emit(_ context.Context, ev sdk.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evs = append(s.evs, ev)
}

// scoper owns shop.example.com for one organization.
type scoper struct{}

func (scoper) Scope(_ context.Context, domain string, ev *sdk.Event) bool {
	if domain != "shop.example.com" {
		return false
	}
	ev.OrganizationID, ev.ProjectID, ev.EnvironmentID, ev.Environment, ev.App = "org-1", "prj-1", "env-1", "production", "shop"
	return true
}

func TestCheck(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name     string
		notAfter time.Time
		domain   string
		wantType sdk.EventType // "" for none
		wantDays int
		wantOrg  string
	}{
		{"fresh", now.Add(60 * day), "shop.example.com", "", 0, ""},
		{"in the renewal window, not late", now.Add(20 * day), "shop.example.com", "", 0, ""},
		{"expiring", now.Add(10*day + time.Hour), "shop.example.com", sdk.EventCertExpiring, 10, "org-1"},
		{"renewal failed", now.Add(5 * day), "shop.example.com", sdk.EventCertRenewFailed, 5, "org-1"},
		{"expired", now.Add(-day), "shop.example.com", sdk.EventCertRenewFailed, -1, "org-1"},
		{"no app owns it", now.Add(10 * day), "berth.example.com", sdk.EventCertExpiring, 10, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeACME(t, map[string][]byte{tt.domain: certPEM(t, tt.notAfter, tt.domain, "www."+tt.domain)})
			s := &sink{}
			w := &certwatch.Watcher{Path: path, Events: s, Scoper: scoper{}, Now: func() time.Time { return now }}
			if err := w.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
			if tt.wantType == "" {
				if len(s.evs) != 0 {
					t.Fatalf("events = %+v", s.evs)
				}
				return
			}
			if len(s.evs) != 1 {
				t.Fatalf("events = %+v", s.evs)
			}
			ev := s.evs[0]
			c := ev.Certificate
			if ev.Type != tt.wantType || c == nil || c.DaysLeft != tt.wantDays || !c.NotAfter.Equal(tt.notAfter.Truncate(time.Second)) ||
				c.Issuer != "Test CA" || c.Resolver != "letsencrypt" || c.Domains[0] != tt.domain || ev.OrganizationID != tt.wantOrg ||
				ev.ID == "" || ev.Title == "" || ev.Message == "" {
				t.Errorf("event = %+v, details %+v", ev, c)
			}
			if (ev.Type == sdk.EventCertRenewFailed) != (c.Error != "") {
				t.Errorf("error = %q for %s", c.Error, ev.Type)
			}
			// The same day's second check yields the same id (deduplicated
			// downstream); the next day's a new one.
			_ = w.Check(context.Background())
			w.Now = func() time.Time { return now.Add(day) }
			_ = w.Check(context.Background())
			if len(s.evs) != 3 || s.evs[1].ID != ev.ID || s.evs[2].ID == ev.ID {
				t.Errorf("ids = %s %s %s", s.evs[0].ID, s.evs[1].ID, s.evs[len(s.evs)-1].ID)
			}
		})
	}
}

func TestReadEdgeCases(t *testing.T) {
	dir := t.TempDir()
	if certs, err := certwatch.Read(filepath.Join(dir, "missing.json")); err != nil || certs != nil {
		t.Errorf("missing file: %v, %v", certs, err)
	}
	empty := filepath.Join(dir, "empty.json")
	_ = os.WriteFile(empty, nil, 0o600)
	if certs, err := certwatch.Read(empty); err != nil || certs != nil {
		t.Errorf("empty file: %v, %v", certs, err)
	}
	bad := writeACME(t, map[string][]byte{"x.example.com": []byte("garbage")})
	if _, err := certwatch.Read(bad); err == nil {
		t.Error("a certificate that is not PEM went unreported")
	}
}
