package proxy

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateRoute(t *testing.T) {
	base := web("app", "app.example.com")
	custom := func(r *Route) {
		r.TLS, r.CertFile, r.KeyFile = TLSCustom, "/etc/traefik/certs/a.crt", "/etc/traefik/certs/a.key"
	}
	tests := []struct {
		name string
		edit func(*Route)
		want string // "" means valid; otherwise the start of the error
	}{
		{"minimal", func(*Route) {}, ""},
		{"upper-case host", func(r *Route) { r.Host = "App.Example.COM" }, ""},
		{"single-label host", func(r *Route) { r.Host = "localhost" }, ""},
		{"punycode host", func(r *Route) { r.Host = "xn--bcher-kva.example" }, ""},
		{"uuid id", func(r *Route) { r.ID = "0b9c6f1e-4a7d-4c3e-9f55-2d1a8e7b6c40" }, ""},
		{"everything", func(r *Route) {
			custom(r)
			r.PathPrefix, r.StripPrefix, r.InternalPrefix, r.RedirectToHTTPS = "/api/v1", true, "/srv", true
			r.Redirects = []Redirect{{Regex: `^https://app\.example\.com/(.*)$`, Replacement: "https://new.example.com/$1"}}
			r.BasicAuth = []string{htBcryptAlice, htSHA1Carol, htMD5Dave}
			r.HealthCheck = &HealthCheckSpec{Path: "/healthz", Interval: time.Second}
		}, ""},
		{"root prefix", func(r *Route) { r.PathPrefix = "/" }, ""},
		{"task addresses", func(r *Route) { r.Addresses = []string{"10.0.1.5", "fd00::5"} }, ""},
		{"address not an IP", func(r *Route) { r.Addresses = []string{"10.0.1.5", "tasks.app"} }, `addresses[1]: "tasks.app" is not an IP address`},
		{"address with zone", func(r *Route) { r.Addresses = []string{"fe80::1%eth0"} }, `addresses[0]: "fe80::1%eth0" is not an IP address`},

		{"maintenance", func(r *Route) { r.Maintenance = maint(func(*MaintenanceSpec) {}) }, ""},
		{"maintenance largest page", func(r *Route) {
			r.Maintenance = maint(func(m *MaintenanceSpec) { m.PageBase64 = base64.StdEncoding.EncodeToString(make([]byte, 32<<10)) })
		}, ""},
		{"maintenance page too large", func(r *Route) {
			r.Maintenance = maint(func(m *MaintenanceSpec) { m.PageBase64 = base64.StdEncoding.EncodeToString(make([]byte, 32<<10+1)) })
		}, "maintenance.page: is larger than 32768 bytes"},
		{"maintenance no page", func(r *Route) { r.Maintenance = maint(func(m *MaintenanceSpec) { m.PageBase64 = "" }) }, "maintenance.page: is required"},
		{"maintenance page not base64", func(r *Route) { r.Maintenance = maint(func(m *MaintenanceSpec) { m.PageBase64 = "<h1>" }) }, "maintenance.page: is not standard base64"},
		{"maintenance retry zero", func(r *Route) { r.Maintenance = maint(func(m *MaintenanceSpec) { m.RetryAfter = 0 }) }, "maintenance.retryAfter: 0 is not between 1 and 604800"},
		{"maintenance bad service", func(r *Route) { r.Maintenance = maint(func(m *MaintenanceSpec) { m.PagesService = "a b" }) }, `maintenance.pagesService: "a b" is not a valid Swarm service name`},
		{"maintenance no port", func(r *Route) { r.Maintenance = maint(func(m *MaintenanceSpec) { m.PagesPort = 0 }) }, "maintenance.pagesPort: 0 is not between 1 and 65535"},

		{"no id", func(r *Route) { r.ID = "" }, "id: is required"},
		{"id with double hyphen", func(r *Route) { r.ID = "a--b" }, `id: "a--b" must be`},
		{"id upper case", func(r *Route) { r.ID = "App" }, `id: "App" must be`},
		{"no service", func(r *Route) { r.Service = "" }, "service: is required"},
		{"service with dot", func(r *Route) { r.Service = "a.b" }, `service: "a.b" is not a valid Swarm service name`},
		{"port zero", func(r *Route) { r.Port = 0 }, "port: 0 is not between 1 and 65535"},
		{"port too big", func(r *Route) { r.Port = 65536 }, "port: 65536 is not between 1 and 65535"},
		{"no host", func(r *Route) { r.Host = "" }, "host: is required"},
		{"host with space", func(r *Route) { r.Host = "a b" }, `host: "a b" is not a valid hostname`},
		{"host with backtick", func(r *Route) { r.Host = "a`) || Host(`b" }, "host: "},
		{"host wildcard", func(r *Route) { r.Host = "*.example.com" }, `host: "*.example.com" is not a valid hostname`},
		{"host trailing dot", func(r *Route) { r.Host = "example.com." }, "host: "},
		{"host label hyphen", func(r *Route) { r.Host = "-a.example.com" }, "host: "},
		{"host label too long", func(r *Route) { r.Host = strings.Repeat("a", 64) + ".com" }, "host: "},
		{"host underscore", func(r *Route) { r.Host = "a_b.example.com" }, "host: "},
		{"host with port", func(r *Route) { r.Host = "example.com:80" }, "host: "},
		{"prefix without slash", func(r *Route) { r.PathPrefix = "api" }, `pathPrefix: "api" must start with /`},
		{"prefix with space", func(r *Route) { r.PathPrefix = "/a b" }, `pathPrefix: "/a b" contains characters`},
		{"prefix with backtick", func(r *Route) { r.PathPrefix = "/a`" }, "pathPrefix: "},
		{"prefix with quote", func(r *Route) { r.PathPrefix = `/a"` }, "pathPrefix: "},
		{"prefix with dotdot", func(r *Route) { r.PathPrefix = "/a/../b" }, "pathPrefix: "},
		{"prefix with double slash", func(r *Route) { r.PathPrefix = "/a//b" }, "pathPrefix: "},
		{"prefix bad percent", func(r *Route) { r.PathPrefix = "/a%zz" }, "pathPrefix: "},
		{"strip without prefix", func(r *Route) { r.StripPrefix = true }, "stripPrefix: needs a pathPrefix"},
		{"internal prefix relative", func(r *Route) { r.InternalPrefix = "srv" }, "internalPrefix: "},
		{"unknown tls", func(r *Route) { r.TLS = "acme" }, `tls: "acme" is not one of`},
		{"redirect without tls", func(r *Route) { r.RedirectToHTTPS = true }, "redirectToHTTPS: needs tls"},
		{"custom without cert", func(r *Route) { custom(r); r.CertFile = "" }, "certFile: is required"},
		{"custom without key", func(r *Route) { custom(r); r.KeyFile = "" }, "keyFile: is required"},
		{"custom relative cert", func(r *Route) { custom(r); r.CertFile = "a.crt" }, `certFile: "a.crt" must be a clean absolute path`},
		{"custom cert with dotdot", func(r *Route) { custom(r); r.KeyFile = "/etc/../a.key" }, "keyFile: "},
		{"cert without custom", func(r *Route) { r.CertFile = "/a.crt" }, "certFile: is only allowed"},
		{"redirect bad regex", func(r *Route) { r.Redirects = []Redirect{{Regex: "a(", Replacement: "https://x/"}} }, `redirects[0].regex: "a(" does not compile`},
		{"redirect empty regex", func(r *Route) { r.Redirects = []Redirect{{Replacement: "https://x/"}} }, "redirects[0].regex: is required"},
		{"redirect no replacement", func(r *Route) { r.Redirects = []Redirect{{Regex: ".*"}} }, "redirects[0].replacement: is required"},
		{"second redirect bad", func(r *Route) {
			r.Redirects = []Redirect{{Regex: ".*", Replacement: "https://x/"}, {Regex: ".*", Replacement: "https://x/\"y"}}
		}, "redirects[1].replacement: "},
		{"auth no colon", func(r *Route) { r.BasicAuth = []string{"alice"} }, "basicAuth[0]: must be an htpasswd line"},
		{"auth plain password", func(r *Route) { r.BasicAuth = []string{"alice:secret"} }, `basicAuth[0]: the hash of user "alice" is not bcrypt`},
		{"auth truncated bcrypt", func(r *Route) { r.BasicAuth = []string{htBcryptAlice[:40]} }, "basicAuth[0]: "},
		{"auth duplicate user", func(r *Route) { r.BasicAuth = []string{htBcryptAlice, htBcryptAlice} }, `basicAuth[1]: user "alice" is listed twice`},
		{"auth newline", func(r *Route) { r.BasicAuth = []string{htBcryptAlice + "\nbob:x"} }, "basicAuth[0]: "},
		{"health check without path", func(r *Route) { r.HealthCheck = &HealthCheckSpec{} }, "healthCheck.path: is required"},
		{"health check negative", func(r *Route) { r.HealthCheck = &HealthCheckSpec{Path: "/h", Timeout: -time.Second} }, "healthCheck.timeout: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := with(base, tc.edit)
			err := ValidateRoute(r)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %q, want prefix %q", err, tc.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalidRoute) {
				t.Errorf("error %v is not a *FieldError wrapping ErrInvalidRoute", err)
			}
		})
	}
}

func TestValidateRouteReportsEveryField(t *testing.T) {
	err := ValidateRoute(Route{ID: "x", Host: "a b", Port: -1})
	for _, field := range []string{"service:", "port:", "host:"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
}

// maint returns a valid maintenance spec with edit applied.
func maint(edit func(*MaintenanceSpec)) *MaintenanceSpec {
	m := &MaintenanceSpec{PageBase64: "PGgxPk1haW50ZW5hbmNlPC9oMT4=", RetryAfter: 120, PagesService: "berth-pages", PagesPort: 8080}
	edit(m)
	return m
}
