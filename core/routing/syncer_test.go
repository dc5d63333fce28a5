package routing

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/pages"
	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

type fakeSource []store.RoutedDomain

func (f fakeSource) AllRoutedDomains(context.Context) ([]store.RoutedDomain, error) { return f, nil }

type fakePublisher struct{ cfg *proxy.Config }

func (p *fakePublisher) PublishConfig(_ context.Context, cfg *proxy.Config) (bool, error) {
	p.cfg = cfg
	return true, nil
}

func domain(host string, edit func(*store.RoutedDomain)) store.RoutedDomain {
	d := store.RoutedDomain{Domain: store.Domain{ID: uuid.New(), Host: host, HTTPS: "none"}, ServiceName: "web-1234abcd", AppPort: 8080}
	if edit != nil {
		edit(&d)
	}
	return d
}

func TestRoute(t *testing.T) {
	tests := []struct {
		name  string
		in    store.RoutedDomain
		check func(t *testing.T, r proxy.Route)
	}{
		{"port falls back to the app's", domain("a.test", nil), func(t *testing.T, r proxy.Route) {
			if r.Port != 8080 || r.Service != "web-1234abcd" || r.Host != "a.test" {
				t.Fatalf("%+v", r)
			}
		}},
		{"domain port wins", domain("a.test", func(d *store.RoutedDomain) { d.Port = 9000 }), func(t *testing.T, r proxy.Route) {
			if r.Port != 9000 {
				t.Fatalf("port %d", r.Port)
			}
		}},
		{"redirects and basic auth", domain("a.test", func(d *store.RoutedDomain) {
			d.Redirects = []store.Redirect{{Regex: "^x", Replacement: "y", Permanent: true}}
			d.BasicAuth = []string{"ann:$2a$10$abc"}
			d.HTTPS, d.RedirectHTTPS = "letsencrypt", true
		}), func(t *testing.T, r proxy.Route) {
			if len(r.Redirects) != 1 || !r.Redirects[0].Permanent || len(r.BasicAuth) != 1 || r.TLS != proxy.TLSLetsEncrypt || !r.RedirectToHTTPS {
				t.Fatalf("%+v", r)
			}
		}},
		{"not in maintenance", domain("a.test", func(d *store.RoutedDomain) {
			d.Maintenance = store.Maintenance{Page: "<p>x</p>", RetryAfter: 60}
		}), func(t *testing.T, r proxy.Route) {
			if r.Maintenance != nil {
				t.Fatalf("maintenance %+v", r.Maintenance)
			}
		}},
		{"maintenance with a page", domain("a.test", func(d *store.RoutedDomain) {
			d.Maintenance = store.Maintenance{Enabled: true, Page: "<p>back soon</p>", RetryAfter: 60, Service: "berth-pages"}
		}), func(t *testing.T, r proxy.Route) {
			m := r.Maintenance
			if m == nil || m.PageBase64 != base64.StdEncoding.EncodeToString([]byte("<p>back soon</p>")) || m.RetryAfter != 60 ||
				m.PagesService != "berth-pages" || m.PagesPort != pages.Port || r.Service != "web-1234abcd" {
				t.Fatalf("%+v %+v", r, m)
			}
			if err := proxy.ValidateRoute(r); err != nil {
				t.Fatal(err)
			}
		}},
		{"maintenance with the default page", domain("a.test", func(d *store.RoutedDomain) {
			d.AppName = "shop"
			d.Maintenance = store.Maintenance{Enabled: true, RetryAfter: 120, Service: "berth-pages"}
		}), func(t *testing.T, r proxy.Route) {
			page, _ := base64.StdEncoding.DecodeString(r.Maintenance.PageBase64)
			if string(page) != pages.DefaultPage("shop") {
				t.Fatalf("page %q", page)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, Route(tt.in)) })
	}
}

func TestSyncLeavesOutInvalidRoutesAndManagesCertificates(t *testing.T) {
	certs := filepath.Join(t.TempDir(), "certs")
	os.MkdirAll(certs, 0o700)
	os.WriteFile(filepath.Join(certs, "stale.crt"), []byte("old"), 0o644)
	good := domain("good.test", nil)
	custom := domain("secure.test", func(d *store.RoutedDomain) {
		d.HTTPS, d.CertificatePEM, d.PrivateKeyPEM = "custom", "CERT", "KEY"
	})
	bad := domain("bad host", nil)
	pub := &fakePublisher{}
	s := NewSyncer(fakeSource{good, custom, bad}, pub, certs, proxy.ContainerCertsDir, nil)
	s.SetAPIAllowFrom([]string{"127.0.0.1/32"})
	if err := s.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	routers := pub.cfg.HTTP.Routers
	var names []string
	for name := range routers {
		names = append(names, name)
	}
	joined := strings.Join(names, ",")
	if !strings.Contains(joined, good.ID.String()) || !strings.Contains(joined, custom.ID.String()) || strings.Contains(joined, bad.ID.String()) {
		t.Fatalf("routers = %v", names)
	}
	if _, ok := routers[proxy.APIRouter]; !ok {
		t.Fatal("traefik API router missing")
	}
	key, err := os.Stat(filepath.Join(certs, custom.ID.String()+".key"))
	if err != nil || key.Mode().Perm() != 0o600 {
		t.Fatalf("custom key file: %v %v", key, err)
	}
	if _, err := os.Stat(filepath.Join(certs, "stale.crt")); !os.IsNotExist(err) {
		t.Fatal("a stale certificate was not removed")
	}
}

// TestSetServing checks that a rollout's task addresses replace the DNS
// backend of every route of that service, and that clearing them goes back
// to DNS.
func TestSetServing(t *testing.T) {
	other := domain("b.test", func(d *store.RoutedDomain) { d.ServiceName = "other-1234abcd" })
	src := fakeSource{domain("a.test", nil), domain("www.a.test", nil), other}
	pub := &fakePublisher{}
	s := NewSyncer(src, pub, "", "", nil)
	urls := func() map[string][]string {
		out := map[string][]string{}
		for _, d := range src {
			for _, srv := range pub.cfg.HTTP.Services[d.ID.String()].LoadBalancer.Servers {
				out[d.Host] = append(out[d.Host], srv.URL)
			}
		}
		return out
	}
	tests := []struct {
		name  string
		addrs []string
		want  map[string][]string
	}{
		{"at rest: DNS", nil, map[string][]string{
			"a.test": {"http://tasks.web-1234abcd:8080"}, "www.a.test": {"http://tasks.web-1234abcd:8080"}, "b.test": {"http://tasks.other-1234abcd:8080"}}},
		{"during a rollout: the serving tasks", []string{"10.0.9.7", "10.0.9.3"}, map[string][]string{
			"a.test": {"http://10.0.9.3:8080", "http://10.0.9.7:8080"}, "www.a.test": {"http://10.0.9.3:8080", "http://10.0.9.7:8080"},
			"b.test": {"http://tasks.other-1234abcd:8080"}}},
		{"after the rollout: DNS again", []string{}, map[string][]string{
			"a.test": {"http://tasks.web-1234abcd:8080"}, "www.a.test": {"http://tasks.web-1234abcd:8080"}, "b.test": {"http://tasks.other-1234abcd:8080"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.addrs != nil {
				s.SetServing("web-1234abcd", tt.addrs)
			}
			if err := s.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := urls()
			for host, want := range tt.want {
				if !slices.Equal(got[host], want) {
					t.Errorf("%s: servers %v, want %v", host, got[host], want)
				}
			}
		})
	}
}
