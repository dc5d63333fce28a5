package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml")

// Valid htpasswd lines: bcrypt of "secret" and "hunter2", SHA1 and Apache MD5.
const (
	htBcryptAlice = "alice:$2a$05$WuwdynZPQgS5kMoAfjdaPO5hHQdPXlgdwpZ818Pk/oQM1PTmKzFz."
	htBcryptBob   = "bob:$2a$05$n86qYwrk8YJZZv7v9Qk9H.owqDD2BlSvePoN8.5YSHhTwiWk0prL6"
	htSHA1Carol   = "carol:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="
	htMD5Dave     = "dave:$apr1$a0j62R97$mYqFkloXH0/UOaUnAiV2b0"
)

// web returns a minimal valid route.
func web(id, host string) Route {
	return Route{ID: id, Service: "app-" + id, Port: 8080, Host: host}
}

// with applies edits to a copy of r.
func with(r Route, edit func(*Route)) Route {
	edit(&r)
	return r
}

var goldenCases = []struct {
	name string
	snap Snapshot
}{
	{"empty", Snapshot{}},
	{"plain_http", Snapshot{Routes: []Route{web("blog", "blog.example.com")}}},
	{"api_allow_list", Snapshot{Routes: []Route{web("blog", "blog.example.com")}, APIAllowFrom: []string{"172.18.0.1/32", "127.0.0.1/32"}}},
	{"path_prefix_stripped", Snapshot{Routes: []Route{with(web("api", "example.com"), func(r *Route) {
		r.PathPrefix, r.StripPrefix = "/api", true
	})}}},
	{"path_prefix_kept", Snapshot{Routes: []Route{with(web("docs", "example.com"), func(r *Route) {
		r.PathPrefix = "/docs/"
	})}}},
	{"internal_prefix", Snapshot{Routes: []Route{with(web("legacy", "legacy.example.com"), func(r *Route) {
		r.PathPrefix, r.StripPrefix, r.InternalPrefix = "/v2", true, "/app/public"
	})}}},
	{"letsencrypt", Snapshot{Routes: []Route{with(web("shop", "Shop.Example.com"), func(r *Route) {
		r.TLS = TLSLetsEncrypt
	})}}},
	{"letsencrypt_redirect_https", Snapshot{Routes: []Route{with(web("shop", "shop.example.com"), func(r *Route) {
		r.TLS, r.RedirectToHTTPS = TLSLetsEncrypt, true
	})}}},
	{"custom_cert", Snapshot{Routes: []Route{with(web("corp", "intranet.corp.example"), func(r *Route) {
		r.TLS, r.CertFile, r.KeyFile = TLSCustom, "/etc/traefik/certs/corp.crt", "/etc/traefik/certs/corp.key"
		r.RedirectToHTTPS = true
	})}}},
	{"regex_redirects", Snapshot{Routes: []Route{with(web("site", "www.example.com"), func(r *Route) {
		r.Redirects = []Redirect{
			{Regex: `^https?://www\.example\.com/old/(.*)`, Replacement: "https://www.example.com/new/${1}", Permanent: true},
			{Regex: `^https?://www\.example\.com/promo$`, Replacement: "https://shop.example.com/"},
		}
	})}}},
	{"basic_auth", Snapshot{Routes: []Route{with(web("admin", "admin.example.com"), func(r *Route) {
		r.BasicAuth = []string{htMD5Dave, htBcryptBob, htSHA1Carol, htBcryptAlice}
	})}}},
	{"health_check", Snapshot{Routes: []Route{with(web("api", "api.example.com"), func(r *Route) {
		r.HealthCheck = &HealthCheckSpec{Path: "/healthz", Interval: 10 * time.Second, Timeout: 2 * time.Second}
	})}}},
	{"task_addresses", Snapshot{Routes: []Route{with(web("api", "api.example.com"), func(r *Route) {
		r.Addresses = []string{"10.0.1.9", "10.0.1.10", "fd00::7", "10.0.1.9"}
	})}}},
	{"canary", Snapshot{Routes: []Route{with(web("api", "api.example.com"), func(r *Route) {
		r.Canary = &Canary{Service: "api-next", Weight: 10}
	})}}},
	{"task_probes", Snapshot{Routes: []Route{web("blog", "blog.example.com")}, APIAllowFrom: []string{"127.0.0.1/32"},
		Probes: []Probe{{ID: "t1abc", Address: "10.0.1.7", Port: 8080}, {ID: "t2def", Address: "10.0.1.8", Port: 3000}}}},
	{"maintenance", Snapshot{Routes: []Route{
		with(web("shop", "shop.example.com"), func(r *Route) {
			r.TLS, r.RedirectToHTTPS = TLSLetsEncrypt, true
			r.BasicAuth = []string{htBcryptAlice}
			r.HealthCheck = &HealthCheckSpec{Path: "/healthz"}
			r.Maintenance = &MaintenanceSpec{PageBase64: "PGgxPkJhY2sgc29vbjwvaDE+", RetryAfter: 300, PagesService: "berth-pages", PagesPort: 8080}
		}),
		with(web("api", "shop.example.com"), func(r *Route) {
			r.PathPrefix, r.StripPrefix = "/api", true
			r.Canary = &Canary{Service: "api-next", Weight: 10} // maintenance wins
			r.Maintenance = &MaintenanceSpec{PageBase64: "PGgxPkJhY2sgc29vbjwvaDE+", RetryAfter: 300, PagesService: "berth-pages", PagesPort: 8080}
		}),
		web("blog", "blog.example.com"),
	}}},
	{"custom_settings", Snapshot{
		CertResolver: "le-staging", EntryPointWeb: "http", EntryPointWebSecure: "https",
		Routes: []Route{with(web("shop", "shop.example.com"), func(r *Route) {
			r.TLS, r.RedirectToHTTPS = TLSLetsEncrypt, true
		})},
	}},
	{"several_apps", Snapshot{Routes: []Route{
		with(web("blog-apex", "example.com"), func(r *Route) {
			r.Service, r.TLS, r.RedirectToHTTPS = "blog", TLSLetsEncrypt, true
			r.Redirects = []Redirect{{Regex: `^https://example\.com/feed$`, Replacement: "https://example.com/rss.xml", Permanent: true}}
		}),
		with(web("blog-www", "www.example.com"), func(r *Route) {
			r.Service, r.TLS, r.RedirectToHTTPS = "blog", TLSLetsEncrypt, true
		}),
		with(web("api-v1", "example.com"), func(r *Route) {
			r.Service, r.Port, r.PathPrefix, r.StripPrefix = "api", 3000, "/api", true
			r.TLS, r.RedirectToHTTPS = TLSLetsEncrypt, true
			r.HealthCheck = &HealthCheckSpec{Path: "/health"}
		}),
		with(web("grafana", "grafana.corp.example"), func(r *Route) {
			r.Service, r.Port = "grafana", 3000
			r.TLS, r.CertFile, r.KeyFile = TLSCustom, "/etc/traefik/certs/corp.crt", "/etc/traefik/certs/corp.key"
			r.BasicAuth = []string{htBcryptAlice}
		}),
		with(web("wiki", "wiki.corp.example"), func(r *Route) {
			r.Service = "wiki"
			r.TLS, r.CertFile, r.KeyFile = TLSCustom, "/etc/traefik/certs/corp.crt", "/etc/traefik/certs/corp.key"
		}),
		with(web("status", "status.example.org"), func(r *Route) { r.Service = "status" }),
	}}},
}

// invalidAmongValid mixes valid routes with broken ones.
func invalidAmongValid() (valid, invalid []Route) {
	valid = []Route{
		web("a", "a.example.com"),
		with(web("c", "c.example.com"), func(r *Route) { r.BasicAuth = []string{htBcryptAlice} }),
		with(web("e", "e.example.com"), func(r *Route) { r.TLS = TLSLetsEncrypt }),
	}
	invalid = []Route{
		web("b", "b b.example.com"),
		with(web("d", "d.example.com"), func(r *Route) {
			r.Redirects = []Redirect{{Regex: "(unclosed", Replacement: "https://x/"}}
		}),
		with(web("f", "f.example.com"), func(r *Route) { r.PathPrefix = "/x`) || Host(`evil.com" }),
		with(web("g", "a.example.com"), func(r *Route) { r.Service = "other" }), // host taken by "a"
		with(web("h", "h.example.com"), func(r *Route) { r.TLS, r.CertFile = TLSCustom, "relative.crt" }),
		with(web("i", "i.example.com"), func(r *Route) { r.BasicAuth = []string{"mallory:plaintext"} }),
		web("j", "j.example.com"), web("j", "j2.example.com"), // duplicate ID
	}
	return valid, invalid
}

func encode(t testing.TB, cfg *Config) []byte {
	t.Helper()
	data, err := Encode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkGolden compares got with testdata/name.golden.yaml, or rewrites it.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.yaml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update if intended)\n--- got (indented) ---\n%s\n--- want (indented) ---\n%s",
			path, indented(got), indented(want))
	}
}

func TestGenerateGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			res := Generate(tc.snap)
			if len(res.Errors) > 0 {
				t.Fatalf("unexpected route errors: %v", res.Errors)
			}
			if len(res.Routes) != len(tc.snap.Routes) {
				t.Fatalf("generated %d routes, want %d", len(res.Routes), len(tc.snap.Routes))
			}
			got := encode(t, res.Config)
			checkGolden(t, tc.name, got)
			assertRoundTrip(t, got)
		})
	}
}

// indented returns an encoded configuration with its JSON indented, for
// readable test failures.
func indented(data []byte) []byte {
	header, body, _ := bytes.Cut(data, []byte("\n"))
	var out bytes.Buffer
	out.Write(header)
	out.WriteByte('\n')
	if err := json.Indent(&out, body, "", "  "); err != nil {
		return data
	}
	return out.Bytes()
}

// assertRoundTrip decodes data with paerser (as Traefik does) and checks that
// encoding the result gives the same bytes, so no field is lost or renamed.
func assertRoundTrip(t *testing.T, data []byte) {
	t.Helper()
	cfg, err := Decode(data)
	if err != nil {
		t.Fatalf("paerser rejects generated config: %v\n%s", err, data)
	}
	if again := encode(t, cfg); !bytes.Equal(again, data) {
		t.Fatalf("paerser round trip changed the config\n--- decoded and re-encoded ---\n%s\n--- original ---\n%s", again, data)
	}
}

func TestGoldenFilesDecodeWithPaerser(t *testing.T) {
	files, err := filepath.Glob("testdata/*.golden.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(f) == "static.golden.yaml" {
				return // decoded by TestStaticConfigGolden
			}
			assertRoundTrip(t, data)
		})
	}
}

func TestGenerateDeterministic(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			want := encode(t, Generate(tc.snap).Config)
			rng := rand.New(rand.NewPCG(1, 2))
			for range 20 {
				routes := slices.Clone(tc.snap.Routes)
				for i := range routes {
					routes[i].BasicAuth = slices.Clone(routes[i].BasicAuth)
					rng.Shuffle(len(routes[i].BasicAuth), func(a, b int) {
						routes[i].BasicAuth[a], routes[i].BasicAuth[b] = routes[i].BasicAuth[b], routes[i].BasicAuth[a]
					})
				}
				rng.Shuffle(len(routes), func(a, b int) { routes[a], routes[b] = routes[b], routes[a] })
				snap := tc.snap
				snap.Routes = routes
				if got := encode(t, Generate(snap).Config); !bytes.Equal(got, want) {
					t.Fatalf("shuffled input changed the output\n--- got ---\n%s\n--- want ---\n%s", got, want)
				}
			}
		})
	}
}

func TestGenerateInvalidRouteIsIsolated(t *testing.T) {
	valid, invalid := invalidAmongValid()
	alone := encode(t, Generate(Snapshot{Routes: valid}).Config)

	mixed := slices.Concat(invalid[:3], valid, invalid[3:])
	res := Generate(Snapshot{Routes: mixed})
	got := encode(t, res.Config)
	if !bytes.Equal(got, alone) {
		t.Errorf("invalid routes changed the output of valid ones\n--- mixed ---\n%s\n--- valid alone ---\n%s", got, alone)
	}
	checkGolden(t, "invalid_among_valid", got)
	assertRoundTrip(t, got)

	if want := []string{"a", "c", "e"}; !slices.Equal(res.Routes, want) {
		t.Errorf("routes = %v, want %v", res.Routes, want)
	}
	wantErrs := map[string]string{
		"b": "host:", "d": "redirects[0].regex:", "f": "pathPrefix:", "g": `host: "a.example.com" with pathPrefix "" is already routed by route "a"`,
		"h": "certFile:", "i": "basicAuth[0]:", "j": "id:",
	}
	var ids []string
	for _, e := range res.Errors {
		ids = append(ids, e.ID)
		if !errors.Is(e, ErrInvalidRoute) {
			t.Errorf("route %s: error %v does not wrap ErrInvalidRoute", e.ID, e)
		}
		if want := wantErrs[e.ID]; !strings.Contains(e.Err.Error(), want) {
			t.Errorf("route %s: error %q does not contain %q", e.ID, e.Err, want)
		}
	}
	if want := []string{"b", "d", "f", "g", "h", "i", "j", "j"}; !slices.Equal(ids, want) {
		t.Errorf("error IDs = %v, want %v", ids, want)
	}
}

func TestEncodeEmptyConfigDecodes(t *testing.T) {
	data := encode(t, &Config{})
	if _, err := Decode(data); err != nil {
		t.Fatal(err)
	}
}

// TestGenerateInternalRouters checks Traefik's API and metrics are routed
// only with an allow list, and both behind it.
func TestGenerateInternalRouters(t *testing.T) {
	for _, tc := range []struct {
		name  string
		allow []string
	}{
		{"without allow list", nil},
		{"with allow list", []string{"127.0.0.1/32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			http := Generate(Snapshot{Routes: []Route{web("blog", "blog.example.com")}, APIAllowFrom: tc.allow}).Config.HTTP
			for name, want := range map[string]struct{ service, rule string }{
				APIRouter:     {"api@internal", "PathPrefix(`/api`)"},
				MetricsRouter: {"prometheus@internal", "PathPrefix(`" + MetricsPath + "`)"},
			} {
				r, ok := http.Routers[name]
				if len(tc.allow) == 0 {
					if ok {
						t.Errorf("router %s without an allow list: %+v", name, r)
					}
					continue
				}
				if !ok {
					t.Fatalf("no router %s", name)
				}
				if r.Service != want.service || r.Rule != want.rule || !slices.Equal(r.EntryPoints, []string{EntryPointTraefik}) ||
					!slices.Equal(r.Middlewares, []string{APIRouter + "-allow"}) {
					t.Errorf("router %s = %+v, want %s on %s behind %s-allow", name, r, want.service, EntryPointTraefik, APIRouter)
				}
			}
		})
	}
}

func TestMetricsService(t *testing.T) {
	cfg := Generate(Snapshot{Routes: []Route{with(web("blog", "blog.example.com"), func(r *Route) {
		r.Canary = &Canary{Service: "blog-next", Weight: 10}
	})}}).Config.HTTP
	for _, tc := range []struct{ got, want string }{
		{MetricsService("blog"), "blog@file"},
		{StableMetricsService("blog"), "blog--stable@file"},
		{CanaryMetricsService("blog"), "blog--canary@file"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
		if s := cfg.Services[strings.TrimSuffix(tc.want, "@file")]; s == nil {
			t.Errorf("%s names no generated service", tc.want)
		}
	}
}
