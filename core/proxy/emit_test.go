package proxy

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	ptypes "github.com/traefik/paerser/types"
	"gopkg.in/yaml.v3"
)

// encodeYAMLv3 is the reference encoding Encode must reproduce byte for byte.
func encodeYAMLv3(t testing.TB, cfg *Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(generatedHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// trickyStrings exercise every quoting rule of the emitter.
var trickyStrings = []string{
	"", "a", "web", "Host(`a.example.com`) && PathPrefix(`/api`)", "http://tasks.app:8080", "http://10.0.1.5:8080",
	"127.0.0.1/32", "10s", "1m30s", "0", "12", "-1", "+1", "1.5", ".5", "1e3", "0x1F", "0o17", "0b101", "-0b101",
	"1_000", "99999999999999999999", "1:20", "190:20:30.15", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
	"2001-12-14 21:59:43.10", "2001-1-2x", "1234-", "true", "True", "TRUE", "false", "yes", "Yes", "no", "NO",
	"on", "Off", "y", "n", "~", "null", "Null", ".inf", "-.Inf", "+.INF", ".nan", "<<", "<", "[a-z]+", "]", "{x}",
	"}", "*star", "&amp", "!bang", "|pipe", ">gt", "'quoted'", `"double"`, "%pct", "@at", "`tick`", "#hash",
	",comma", "?q", "? q", ":x", ": x", "-x", "- x", "-", "a:b", "a: b", "a:", "a #b", "a#b", "a # b", " lead",
	"trail ", "---", "---x", "...", "..x", "a'b", `a"b`, `a\b`, `^https?://www\.example\.com/(.*)`,
	"https://example.com/${1}", "alice:$2a$05$WuwdynZPQgS5kMoAfjdaPO5hHQdPXlgdwpZ818Pk/oQM1PTmKzFz.",
	"carol:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "0193a2b4-7c1d-7e2f-8a9b-0c1d2e3f4a5b",
	"0193a2b4-7c1d-7e2f-8a9b-0c1d2e3f4a5b--http", "12345678-1234-1234-1234-123456789012", "app9", "app10",
	"a01", "a1", "a001", "b-2", "b-10", "B", "_x", "api@internal", "x@y", "/", "/api", "a,b", "a[0]", "a{b}",
}

// TestEmitMatchesYAMLv3 checks that Encode writes what yaml.v3 writes, for
// the golden configurations, a thousand generated applications and random
// configurations built from tricky strings.
func TestEmitMatchesYAMLv3(t *testing.T) {
	check := func(t *testing.T, cfg *Config) {
		t.Helper()
		got, err := Encode(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if want := encodeYAMLv3(t, cfg); !bytes.Equal(got, want) {
			t.Fatalf("Encode differs from yaml.v3\n--- Encode ---\n%s\n--- yaml.v3 ---\n%s", got, want)
		}
	}
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) { check(t, Generate(tc.snap).Config) })
	}
	t.Run("1000 apps", func(t *testing.T) { check(t, Generate(snapshot1000Apps()).Config) })
	t.Run("nil and empty values", func(t *testing.T) {
		f := false
		check(t, nil)
		check(t, &Config{HTTP: &HTTPConfig{}, TLS: &TLSConfig{}})
		check(t, &Config{HTTP: &HTTPConfig{
			Routers:     map[string]*Router{"a": nil, "b": {}, "c": {TLS: &RouterTLS{}}},
			Services:    map[string]*Service{"s": {}, "t": {LoadBalancer: &LoadBalancer{PassHostHeader: &f, HealthCheck: &HealthCheck{}}}},
			Middlewares: map[string]*Middleware{"m": {}, "n": {StripPrefix: &StripPrefix{}, RedirectScheme: &RedirectScheme{}}},
		}, TLS: &TLSConfig{Certificates: []*Certificate{nil, {}, {CertFile: "/c"}}}})
	})
	t.Run("tricky strings", func(t *testing.T) {
		for _, s := range trickyStrings {
			check(t, &Config{HTTP: &HTTPConfig{Routers: map[string]*Router{s: {Rule: s, EntryPoints: []string{s}, Service: s}}}})
		}
	})
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		cfg := randomConfig(rng)
		t.Run(fmt.Sprintf("random %d", i), func(t *testing.T) { check(t, cfg) })
	}
}

// randomConfig builds a configuration with every field type, optional
// fields left out at random.
func randomConfig(rng *rand.Rand) *Config {
	str := func() string { return trickyStrings[rng.IntN(len(trickyStrings))] }
	maybe := func() bool { return rng.IntN(3) > 0 }
	list := func() []string {
		var out []string
		for range rng.IntN(3) {
			out = append(out, str())
		}
		return out
	}
	cfg := &Config{}
	if maybe() {
		h := &HTTPConfig{Routers: map[string]*Router{}, Services: map[string]*Service{}, Middlewares: map[string]*Middleware{}}
		for range rng.IntN(6) {
			r := &Router{EntryPoints: list(), Rule: str(), Middlewares: list(), Service: str(), Priority: rng.IntN(3) - 1}
			if maybe() {
				r.TLS = &RouterTLS{}
				if maybe() {
					r.TLS.CertResolver = str()
				}
			}
			h.Routers[str()] = r
		}
		for range rng.IntN(6) {
			s := &Service{}
			if maybe() {
				pass := maybe()
				lb := &LoadBalancer{}
				for range rng.IntN(3) {
					lb.Servers = append(lb.Servers, Server{URL: str()})
				}
				if maybe() {
					lb.PassHostHeader = &pass
				}
				if maybe() {
					lb.HealthCheck = &HealthCheck{Path: str(), Interval: ptypes.Duration(time.Duration(rng.IntN(3)) * 1500 * time.Millisecond),
						Timeout: ptypes.Duration(time.Duration(rng.IntN(2)) * time.Second)}
				}
				s.LoadBalancer = lb
			}
			h.Services[str()] = s
		}
		for range rng.IntN(6) {
			m := &Middleware{}
			switch rng.IntN(7) {
			case 0:
				m.StripPrefix = &StripPrefix{Prefixes: list()}
			case 1:
				m.AddPrefix = &AddPrefix{Prefix: str()}
			case 2:
				m.RedirectScheme = &RedirectScheme{Scheme: str(), Permanent: maybe()}
			case 3:
				m.RedirectRegex = &RedirectRegex{Regex: str(), Replacement: str(), Permanent: maybe()}
			case 4:
				m.BasicAuth = &BasicAuth{Users: list()}
			case 5:
				m.IPAllowList = &IPAllowList{SourceRange: list()}
			}
			h.Middlewares[str()] = m
		}
		cfg.HTTP = h
	}
	if maybe() {
		cfg.TLS = &TLSConfig{}
		for range rng.IntN(3) {
			cfg.TLS.Certificates = append(cfg.TLS.Certificates, &Certificate{CertFile: str(), KeyFile: str()})
		}
	}
	return cfg
}

// TestEmitNonASCIIDecodes checks strings outside printable ASCII, which the
// emitter double-quotes with escapes, read back unchanged through paerser.
func TestEmitNonASCIIDecodes(t *testing.T) {
	for _, s := range []string{"^https://ü\\.example/(.*)", "tab\there", "日本/${1}", "nel\u0085", "bom\ufeff", "emoji😀"} {
		cfg := &Config{HTTP: &HTTPConfig{Middlewares: map[string]*Middleware{"m": {RedirectRegex: &RedirectRegex{Regex: s, Replacement: s}}}}}
		data, err := Encode(cfg)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(data)
		if err != nil {
			t.Fatalf("%q: %v\n%s", s, err, data)
		}
		if got := back.HTTP.Middlewares["m"].RedirectRegex; got.Regex != s || got.Replacement != s {
			t.Errorf("%q read back as %q / %q\n%s", s, got.Regex, got.Replacement, data)
		}
	}
}

func TestEmitRefusesLongKeys(t *testing.T) {
	cfg := &Config{HTTP: &HTTPConfig{Routers: map[string]*Router{strings.Repeat("a", maxSimpleKey+1): {Rule: "x"}}}}
	if _, err := Encode(cfg); err == nil {
		t.Fatal("a key longer than 128 bytes was encoded")
	}
}

func TestNaturalLess(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		less bool
	}{
		{"app9", "app10", true},
		{"app10", "app9", false},
		{"a", "b", true},
		{"a1", "a01", true},
		{"blog--http", "blog-apex--http", true},
		{"x-2", "x-10", true},
		{"abc", "abc", false},
		{"ab", "abc", true},
		{"a9z", "a10", true},
		{"é2", "é10", true},
	} {
		if got := naturalLess(tc.a, tc.b); got != tc.less {
			t.Errorf("naturalLess(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.less)
		}
	}
}

// TestEncodeThousandAppsDecodes runs the paerser check that publishing
// skips on the hot path: the emitter's output at scale is what Traefik
// reads.
func TestEncodeThousandAppsDecodes(t *testing.T) {
	cfg := Generate(snapshot1000Apps()).Config
	data, err := Encode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if again := encode(t, back); !bytes.Equal(again, data) {
		t.Fatal("paerser round trip changed the configuration")
	}
}
