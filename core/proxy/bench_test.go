package proxy

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// snapshot1000Apps has 1,000 apps with 2,000 domains, a realistic mix of
// TLS, redirects, path prefixes and auth.
func snapshot1000Apps() Snapshot {
	var routes []Route
	for i := range 1000 {
		svc := fmt.Sprintf("app%d", i)
		apex := Route{
			ID: svc + "-apex", Service: svc, Port: 8080, Host: svc + ".example.com",
			TLS: TLSLetsEncrypt, RedirectToHTTPS: true,
		}
		www := Route{
			ID: svc + "-www", Service: svc, Port: 8080, Host: "www." + svc + ".example.com",
			TLS: TLSLetsEncrypt, RedirectToHTTPS: true,
			Redirects: []Redirect{{Regex: `^https://www\.` + svc + `\.example\.com/(.*)`, Replacement: "https://" + svc + ".example.com/${1}", Permanent: true}},
		}
		switch i % 4 {
		case 1:
			apex.BasicAuth = []string{htBcryptAlice, htSHA1Carol}
		case 2:
			apex.PathPrefix, apex.StripPrefix = "/api", true
		case 3:
			apex.TLS, apex.CertFile, apex.KeyFile = TLSCustom, "/etc/traefik/certs/"+svc+".crt", "/etc/traefik/certs/"+svc+".key"
		}
		routes = append(routes, apex, www)
	}
	return Snapshot{Routes: routes}
}

// BenchmarkGenerate1000Apps measures Generate plus Encode for 1,000 apps.
func BenchmarkGenerate1000Apps(b *testing.B) {
	snap := snapshot1000Apps()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		res := Generate(snap)
		if len(res.Errors) > 0 {
			b.Fatal(res.Errors[0])
		}
		data, err := Encode(res.Config)
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size), "bytes/config")
}

// BenchmarkDecode1000Apps measures the paerser check Publish runs on the
// encoded configuration of 1,000 apps.
func BenchmarkDecode1000Apps(b *testing.B) {
	data, err := Encode(Generate(snapshot1000Apps()).Config)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode1000Apps measures Encode alone for 1,000 apps.
func BenchmarkEncode1000Apps(b *testing.B) {
	cfg := Generate(snapshot1000Apps()).Config
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeYAMLv31000Apps measures the reference encoding (yaml.v3)
// Encode replaced, for comparison.
func BenchmarkEncodeYAMLv31000Apps(b *testing.B) {
	cfg := Generate(snapshot1000Apps()).Config
	b.ReportAllocs()
	for b.Loop() {
		encodeYAMLv3(b, cfg)
	}
}

// BenchmarkEncoders1000Apps compares the hand-written YAML emitter with
// encoding/json (compact and indented) on the configuration of 1,000
// apps. With -count the sub-benchmarks alternate, so both see the same
// machine load.
func BenchmarkEncoders1000Apps(b *testing.B) {
	cfg := Generate(snapshot1000Apps()).Config
	for _, enc := range []struct {
		name string
		fn   func(*Config) ([]byte, error)
	}{
		{"emitter", Encode},
		{"json", func(c *Config) ([]byte, error) { return encodeJSON(c, "") }},
		{"json-indent", func(c *Config) ([]byte, error) { return encodeJSON(c, "  ") }},
	} {
		b.Run(enc.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				data, err := enc.fn(cfg)
				if err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.ReportMetric(float64(size), "bytes/config")
		})
	}
}

// BenchmarkEncodersPaired1000Apps times the emitter and encoding/json
// alternately in each iteration, so that both see the same machine load,
// and reports the median of each (emitter-ns/op, json-ns/op).
func BenchmarkEncodersPaired1000Apps(b *testing.B) {
	cfg := Generate(snapshot1000Apps()).Config
	encoders := []func(*Config) ([]byte, error){Encode, func(c *Config) ([]byte, error) { return encodeJSON(c, "") }}
	var times [2][]time.Duration
	n := 0
	for b.Loop() {
		for k := range 2 {
			e := (n + k) % 2 // alternate which runs first
			start := time.Now()
			if _, err := encoders[e](cfg); err != nil {
				b.Fatal(err)
			}
			times[e] = append(times[e], time.Since(start))
		}
		n++
	}
	for e, name := range []string{"emitter-ns/op", "json-ns/op"} {
		slices.Sort(times[e])
		b.ReportMetric(float64(times[e][len(times[e])/2]), name)
	}
}

// BenchmarkEscapeScan1000Apps measures the scan escapeForTraefik makes of
// the JSON of 1,000 apps (which holds nothing to escape).
func BenchmarkEscapeScan1000Apps(b *testing.B) {
	data, _ := encodeJSON(Generate(snapshot1000Apps()).Config, "")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		escapeForTraefik(data)
	}
}
