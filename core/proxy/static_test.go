package proxy

import (
	"strings"
	"testing"

	"github.com/traefik/paerser/file"
)

func TestStaticConfigGolden(t *testing.T) {
	data, err := EncodeStatic(NewStaticConfig(StaticOptions{ACMEEmail: "ops@example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "static", data)

	var got StaticConfig
	if err := file.DecodeContent(string(data), ".yml", &got); err != nil {
		t.Fatalf("paerser rejects static config: %v", err)
	}
	if got.API == nil || got.API.Insecure || got.API.Dashboard {
		t.Errorf("api = %+v, want the API without insecure mode or dashboard (served by an allow-listed router)", got.API)
	}
	if got.Providers.File.Directory != ContainerDynamicDir || !got.Providers.File.Watch {
		t.Errorf("file provider = %+v", got.Providers.File)
	}
	if p := got.Metrics.Prometheus; p == nil || !p.AddServicesLabels || p.AddEntryPointsLabels || p.AddRoutersLabels ||
		!p.ManualRouting || p.EntryPoint != EntryPointTraefik {
		t.Errorf("metrics.prometheus = %+v, want per-service labels only, on the traefik entry point, routed manually", p)
	}
	if acme := got.CertificatesResolvers[DefaultCertResolver].ACME; acme.Email != "ops@example.com" || acme.HTTPChallenge.EntryPoint != DefaultEntryPointWeb {
		t.Errorf("acme = %+v", acme)
	}
}

func TestStaticConfigWithoutEmail(t *testing.T) {
	data, err := EncodeStatic(NewStaticConfig(StaticOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "email") {
		t.Errorf("empty ACME email should be omitted:\n%s", data)
	}
}

func TestOptionsDefaultsAndChecks(t *testing.T) {
	o, err := Options{DataDir: "/var/lib/berth/traefik"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != DefaultContainerName || o.Image != DefaultImage || o.Network != DefaultNetwork ||
		o.HTTPPort != 80 || o.HTTPSPort != 443 || o.APIPort != 8081 || o.DynamicDir != "/var/lib/berth/traefik/dynamic" {
		t.Errorf("defaults not applied: %+v", o)
	}
	for name, bad := range map[string]Options{
		"no data dir":      {},
		"relative dir":     {DataDir: "data"},
		"relative dynamic": {DataDir: "/d", DynamicDir: "dyn"},
		"port range":       {DataDir: "/d", HTTPPort: 70000},
		"port clash":       {DataDir: "/d", HTTPPort: 8081},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
