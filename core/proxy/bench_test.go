package proxy

import (
	"context"
	"fmt"
	"testing"
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

// BenchmarkDecode1000Apps measures the paerser decode Publish runs on the
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

// BenchmarkPublishConfig1000Apps measures what berth runs on each route
// change after Generate: Encode, the paerser check and the atomic write of
// 1,000 apps (the content alternates so that every publication writes).
func BenchmarkPublishConfig1000Apps(b *testing.B) {
	cfg := Generate(snapshot1000Apps()).Config
	p := NewPublisher(b.TempDir(), "")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		cfg.HTTP.Routers["bench"] = &Router{EntryPoints: []string{"web"}, Rule: fmt.Sprintf("Host(`v%d.bench`)", i%2), Service: "api@internal"}
		if changed, err := p.PublishConfig(context.Background(), cfg); err != nil || !changed {
			b.Fatalf("changed=%v err=%v", changed, err)
		}
	}
}

// BenchmarkEscapeScan1000Apps measures the scan escapeForTraefik makes of
// the JSON of 1,000 apps (which holds nothing to escape).
func BenchmarkEscapeScan1000Apps(b *testing.B) {
	data := encode(b, Generate(snapshot1000Apps()).Config)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		escapeForTraefik(data)
	}
}
