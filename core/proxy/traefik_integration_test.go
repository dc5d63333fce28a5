package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/proxystats"
	"github.com/berth-dev/berth/test/dockertest"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

const backendMessage = "hello from backend"

// TestTraefikIntegration runs the pinned Traefik in Docker with a Swarm
// backend and checks routing, middlewares, TLS and that Ensure never
// restarts a healthy Traefik.
func TestTraefikIntegration(t *testing.T) {
	start := time.Now()
	cli := dockertest.Client(t)
	requireImage(t, cli, DefaultImage, "build it with scripts/traefik.sh")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	prefix := uniquePrefix(t)
	backendTag := "berth-test-backend:" + prefix
	buildBackendImage(t, cli, backendTag)
	t.Logf("backend image built in %s", time.Since(start).Round(time.Millisecond))

	ports := freePorts(t, 3)
	dataDir := t.TempDir()
	opts := Options{
		Name:         prefix + "-traefik",
		Network:      prefix + "-proxy",
		DataDir:      dataDir,
		BindIP:       "127.0.0.1",
		HTTPPort:     ports[0],
		HTTPSPort:    ports[1],
		APIPort:      ports[2],
		StartTimeout: 30 * time.Second,
		Labels:       map[string]string{"dev.berth.test": prefix},
	}
	tr, err := NewTraefik(cli, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: service, then Traefik, then network.
	t.Cleanup(func() { cleanupNetwork(t, tr) })
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := tr.Remove(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})

	// Custom certificate for the TLS route, in the certs dir Traefik mounts.
	if err := os.MkdirAll(tr.Options().CertsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	roots := selfSignedCert(t, tr.Options().CertsDir, "secure", "secure.test")

	phase := time.Now()
	action, err := tr.Ensure(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if action != ActionCreated {
		t.Errorf("first Ensure: action %s, want %s", action, ActionCreated)
	}
	t.Logf("Ensure (create + healthy) took %s", time.Since(phase).Round(time.Millisecond))

	service := prefix + "-backend"
	createBackendService(ctx, t, cli, service, backendTag, opts.Network)

	routes := []Route{
		{ID: "plain", Service: service, Port: 8080, Host: "plain.test"},
		{ID: "strip", Service: service, Port: 8080, Host: "strip.test", PathPrefix: "/api", StripPrefix: true},
		{ID: "internal", Service: service, Port: 8080, Host: "internal.test", PathPrefix: "/api", StripPrefix: true, InternalPrefix: "/v1"},
		{ID: "auth", Service: service, Port: 8080, Host: "auth.test", BasicAuth: []string{htBcryptAlice, htSHA1Carol}},
		{
			ID: "secure", Service: service, Port: 8080, Host: "secure.test", TLS: TLSCustom, RedirectToHTTPS: true,
			CertFile: ContainerCertsDir + "/secure.crt", KeyFile: ContainerCertsDir + "/secure.key",
		},
		// Go template delimiters and a non-ASCII character must reach
		// Traefik literally: Encode escapes them in the JSON it writes.
		{ID: "tmpl", Service: service, Port: 8080, Host: "tmpl.test", Redirects: []Redirect{
			{Regex: `^http://tmpl\.test/(.*)`, Replacement: "http://tmpl.test/{{x}}/\u00e9/${1}"},
		}},
		{ID: "stats", Service: service, Port: 8080, Host: "stats.test"},
		{ID: "weighted", Service: service, Port: 8080, Host: "weighted.test", Canary: &Canary{Service: service, Weight: 50}},
		{ID: "broken", Service: service, Port: 8080, Host: "bad host"},
	}
	allow, err := tr.APIAllowFrom(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res := Generate(Snapshot{Routes: routes, APIAllowFrom: allow})
	if len(res.Errors) != 1 || res.Errors[0].ID != "broken" {
		t.Fatalf("route errors = %v, want only the broken route", res.Errors)
	}
	phase = time.Now()
	if changed, err := tr.Publisher().PublishConfig(ctx, res.Config); err != nil || !changed {
		t.Fatalf("publish: changed=%v err=%v", changed, err)
	}

	web := &httpProbe{t: t, base: "http://127.0.0.1:" + strconv.Itoa(opts.HTTPPort)}
	web.waitFor(ctx, "plain.test", "/hello", "", 200, backendMessage+" /hello")
	t.Logf("routed through Traefik %s after publishing", time.Since(phase).Round(time.Millisecond))

	t.Run("published file is JSON", func(t *testing.T) {
		data, err := os.ReadFile(tr.Publisher().Path())
		if err != nil {
			t.Fatal(err)
		}
		header, body, _ := bytes.Cut(data, []byte("\n"))
		if !bytes.HasPrefix(header, []byte("# ")) || !json.Valid(body) {
			t.Errorf("%s is not a comment line and JSON:\n%.300s", tr.Publisher().Path(), data)
		}
	})
	t.Run("template delimiters and non-ASCII taken literally", func(t *testing.T) {
		resp := web.with(t).get(ctx, "tmpl.test", "/a", "")
		if resp.status != http.StatusFound && resp.status != http.StatusTemporaryRedirect {
			t.Fatalf("status %d (%v), want a temporary redirect", resp.status, resp.err)
		}
		u, err := url.Parse(resp.location)
		if err != nil || u.Host != "tmpl.test" || u.Path != "/{{x}}/\u00e9/a" {
			t.Errorf("Location %q, want http://tmpl.test/{{x}}/\u00e9/a", resp.location)
		}
	})
	t.Run("strip prefix", func(t *testing.T) {
		web := web.with(t)
		web.expect(ctx, "strip.test", "/api/users/1", "", 200, backendMessage+" /users/1")
		web.expect(ctx, "strip.test", "/other", "", 404, "")
	})
	t.Run("strip then internal prefix", func(t *testing.T) {
		web.with(t).expect(ctx, "internal.test", "/api/x", "", 200, backendMessage+" /v1/x")
	})
	t.Run("basic auth", func(t *testing.T) {
		web := web.with(t)
		web.expect(ctx, "auth.test", "/", "", 401, "")
		web.expect(ctx, "auth.test", "/", "alice:wrong", 401, "")
		web.expect(ctx, "auth.test", "/", "alice:secret", 200, backendMessage+" /")
		web.expect(ctx, "auth.test", "/", "carol:secret", 200, backendMessage+" /")
	})
	t.Run("redirect to https and custom certificate", func(t *testing.T) {
		web := web.with(t)
		resp := web.get(ctx, "secure.test", "/page?q=1", "")
		if resp.status != 301 && resp.status != 308 {
			t.Errorf("http status %d, want a permanent redirect", resp.status)
		}
		if want := "https://secure.test/page?q=1"; resp.location != want {
			t.Errorf("Location %q, want %q", resp.location, want)
		}
		body, err := httpsGet(ctx, roots, opts.HTTPSPort, "secure.test", "/page")
		if err != nil {
			t.Fatalf("https with the custom certificate: %v", err)
		}
		if body != backendMessage+" /page" {
			t.Errorf("https body %q", body)
		}
	})
	t.Run("unknown host and invalid route are not routed", func(t *testing.T) {
		web := web.with(t)
		web.expect(ctx, "nobody.test", "/", "", 404, "")
		web.expect(ctx, "bad host", "/", "", 404, "")
	})
	t.Run("traefik loaded every router without error", func(t *testing.T) {
		assertRoutersEnabled(ctx, t, tr.APIURL(), res.Config)
	})
	t.Run("metrics count requests and 5xx per route", func(t *testing.T) {
		testMetricsPerRoute(ctx, t, tr, web)
	})
	t.Run("metrics count a canary's share apart", func(t *testing.T) {
		testMetricsCanary(ctx, t, tr, web)
	})
	t.Run("api answers only the allowed sources", func(t *testing.T) {
		// Served from the overlay network, a request comes from a 10.x
		// address; an allow list without the host's gateway behaves the same.
		closed := Generate(Snapshot{Routes: routes, APIAllowFrom: []string{"10.255.255.254/32"}})
		if _, err := tr.Publisher().PublishConfig(ctx, closed.Config); err != nil {
			t.Fatal(err)
		}
		waitAPIStatus(ctx, t, tr.APIURL(), http.StatusForbidden)
		if _, err := proxystats.NewClient(tr.MetricsURL(), nil).Scrape(ctx); err == nil || !strings.Contains(err.Error(), "403") {
			t.Errorf("metrics outside the allow list: err = %v, want 403", err)
		}
		if _, err := tr.Publisher().PublishConfig(ctx, res.Config); err != nil {
			t.Fatal(err)
		}
		waitAPIStatus(ctx, t, tr.APIURL(), http.StatusOK)
	})

	t.Run("container hardening", func(t *testing.T) {
		c, err := cli.ContainerInspect(ctx, opts.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range c.Mounts {
			if strings.Contains(m.Source, "docker.sock") || strings.Contains(m.Destination, "docker.sock") {
				t.Errorf("Docker socket is mounted: %+v", m)
			}
		}
		if len(c.HostConfig.Binds) != 0 {
			t.Errorf("unexpected binds %v", c.HostConfig.Binds)
		}
		for port, bindings := range c.HostConfig.PortBindings {
			if port.Int() == containerAPIPort {
				if len(bindings) != 1 || bindings[0].HostIP != "127.0.0.1" {
					t.Errorf("API port bound to %+v, want 127.0.0.1 only", bindings)
				}
			}
		}
		if c.HostConfig.RestartPolicy.Name != "unless-stopped" {
			t.Errorf("restart policy %q", c.HostConfig.RestartPolicy.Name)
		}
	})

	before, err := cli.ContainerInspect(ctx, opts.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Ensure again leaves a healthy Traefik alone", func(t *testing.T) {
		again, err := NewTraefik(cli, opts) // as after a berth restart
		if err != nil {
			t.Fatal(err)
		}
		action, err := again.Ensure(ctx)
		if err != nil || action != ActionUnchanged {
			t.Fatalf("action=%s err=%v, want %s", action, err, ActionUnchanged)
		}
		after, err := cli.ContainerInspect(ctx, opts.Name)
		if err != nil {
			t.Fatal(err)
		}
		if after.ID != before.ID || after.State.StartedAt != before.State.StartedAt || after.RestartCount != before.RestartCount {
			t.Errorf("container changed: id %s -> %s, started %s -> %s", before.ID[:12], after.ID[:12], before.State.StartedAt, after.State.StartedAt)
		}
	})
	t.Run("Ensure starts a stopped Traefik", func(t *testing.T) {
		timeout := 5
		if err := cli.ContainerStop(ctx, opts.Name, containerStopOptions(timeout)); err != nil {
			t.Fatal(err)
		}
		action, err := tr.Ensure(ctx)
		if err != nil || action != ActionStarted {
			t.Fatalf("action=%s err=%v, want %s", action, err, ActionStarted)
		}
		after, _ := cli.ContainerInspect(ctx, opts.Name)
		if after.ID != before.ID {
			t.Errorf("container replaced instead of started")
		}
		web.with(t).waitFor(ctx, "plain.test", "/again", "", 200, backendMessage+" /again")
	})
	t.Run("Ensure replaces Traefik when its config changes", func(t *testing.T) {
		changed := opts
		changed.Static.ACMEEmail = "ops@example.com"
		tr2, err := NewTraefik(cli, changed)
		if err != nil {
			t.Fatal(err)
		}
		action, err := tr2.Ensure(ctx)
		if err != nil || action != ActionReplaced {
			t.Fatalf("action=%s err=%v, want %s", action, err, ActionReplaced)
		}
		after, _ := cli.ContainerInspect(ctx, opts.Name)
		if after.ID == before.ID {
			t.Errorf("container was not replaced")
		}
		static, _ := os.ReadFile(filepath.Join(dataDir, "traefik.yml"))
		if !strings.Contains(string(static), "ops@example.com") {
			t.Errorf("static config not rewritten:\n%s", static)
		}
		web.with(t).waitFor(ctx, "plain.test", "/replaced", "", 200, backendMessage+" /replaced")
	})
	t.Logf("integration test body took %s", time.Since(start).Round(time.Millisecond))
}

// testMetricsPerRoute sends known numbers of 200 and 500 responses through
// the "stats" route and checks Traefik's metrics, read with proxystats,
// count exactly those for the route's service and nothing for another's.
func testMetricsPerRoute(ctx context.Context, t *testing.T, tr *Traefik, web *httpProbe) {
	const oks, fails = 30, 7
	web = web.with(t)
	web.waitFor(ctx, "stats.test", "/warm", "", 200, backendMessage+" /warm")
	client := proxystats.NewClient(tr.MetricsURL(), nil)
	service, other := MetricsService("stats"), MetricsService("plain")

	before, err := client.Scrape(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before.Services[service].Requests == 0 {
		t.Fatalf("no requests counted for %s after the warm-up; services: %v", service, before.Services)
	}
	for i := range oks + fails {
		path, want := "/ok", 200
		if i%5 == 0 && i/5 < fails {
			path, want = "/status/500", 500
		}
		if got := web.get(ctx, "stats.test", path, ""); got.err != nil || got.status != want {
			t.Fatalf("GET %s: status %d err %v, want %d", path, got.status, got.err, want)
		}
	}

	// Traefik counts a request once its handler returns, which may be just
	// after the client has read the response.
	want := proxystats.Delta{Requests: oks + fails, Errors: fails}
	var got proxystats.Delta
	var after proxystats.Scrape
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if after, err = client.Scrape(ctx); err != nil {
			t.Fatal(err)
		}
		got = proxystats.Between(before.Services[service], after.Services[service], before.At, after.At)
		if got.Requests >= want.Requests {
			break
		}
	}
	if got.Requests != want.Requests || got.Errors != want.Errors {
		t.Errorf("%s counted %d requests, %d errors; want %d, %d", service, got.Requests, got.Errors, want.Requests, want.Errors)
	}
	if d := proxystats.Between(before.Services[other], after.Services[other], before.At, after.At); d.Requests != 0 {
		t.Errorf("%s counted %d requests sent to another route", other, d.Requests)
	}
	t.Logf("%s: %d requests, error rate %.3f; %d services in the scrape", service, got.Requests, got.ErrorRate(), len(after.Services))
}

// testMetricsCanary sends requests through a route with a 50% canary and
// checks that the stable and canary services count their shares apart and
// together count every request.
func testMetricsCanary(ctx context.Context, t *testing.T, tr *Traefik, web *httpProbe) {
	const oks, fails = 20, 6
	web = web.with(t)
	web.waitFor(ctx, "weighted.test", "/warm", "", 200, backendMessage+" /warm")
	client := proxystats.NewClient(tr.MetricsURL(), nil)
	stable, canary := StableMetricsService("weighted"), CanaryMetricsService("weighted")

	before, err := client.Scrape(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range oks + fails {
		path, want := "/ok", 200
		if i < fails {
			path, want = "/status/503", 503
		}
		if got := web.get(ctx, "weighted.test", path, ""); got.err != nil || got.status != want {
			t.Fatalf("GET %s: status %d err %v, want %d", path, got.status, got.err, want)
		}
	}
	var after proxystats.Scrape
	var total proxystats.Delta
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if after, err = client.Scrape(ctx); err != nil {
			t.Fatal(err)
		}
		total = proxystats.Between(before.Sum(stable, canary), after.Sum(stable, canary), before.At, after.At)
		if total.Requests >= oks+fails {
			break
		}
	}
	s := proxystats.Between(before.Services[stable], after.Services[stable], before.At, after.At)
	c := proxystats.Between(before.Services[canary], after.Services[canary], before.At, after.At)
	parent := proxystats.Between(before.Services[MetricsService("weighted")], after.Services[MetricsService("weighted")], before.At, after.At)
	t.Logf("stable %+v canary %+v parent %+v", s, c, parent)
	if total.Requests != oks+fails || total.Errors != fails {
		t.Errorf("stable+canary counted %d requests, %d errors; want %d, %d", total.Requests, total.Errors, oks+fails, fails)
	}
	if s.Requests == 0 || c.Requests == 0 {
		t.Errorf("a 50%% canary: stable counted %d, canary %d requests; want both some", s.Requests, c.Requests)
	}
}

// createBackendService runs the test backend as a dnsrr Swarm service on the
// proxy network, removed at cleanup.
func createBackendService(ctx context.Context, t *testing.T, cli *client.Client, name, image, network string) {
	t.Helper()
	replicas := uint64(1)
	resp, err := cli.ServiceCreate(ctx, swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: image, Env: []string{"MESSAGE=" + backendMessage, "PORT=8080"}},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: network}},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}, swarm.ServiceCreateOptions{QueryRegistry: false})
	if err != nil {
		t.Fatalf("create service %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cli.ServiceRemove(ctx, resp.ID); err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("cleanup: remove service %s: %v", name, err)
		}
	})
}

// cleanupNetwork removes the overlay network once the service's tasks have
// left it; Swarm tears tasks down asynchronously.
func cleanupNetwork(t *testing.T, tr *Traefik) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	for ctx.Err() == nil {
		if err = tr.RemoveNetwork(ctx); err == nil {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Errorf("cleanup: %v", err)
}

// probeResult is what httpProbe saw.
type probeResult struct {
	status   int
	body     string
	location string
	err      error
}

// httpProbe sends requests through Traefik's HTTP port with a Host header.
type httpProbe struct {
	t    *testing.T
	base string
}

func (p *httpProbe) with(t *testing.T) *httpProbe { return &httpProbe{t: t, base: p.base} }

var noRedirectClient = &http.Client{
	Timeout:       3 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (p *httpProbe) get(ctx context.Context, host, path, userPass string) probeResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return probeResult{err: err}
	}
	req.Host = host
	if user, pass, ok := strings.Cut(userPass, ":"); ok {
		req.SetBasicAuth(user, pass)
	}
	resp, err := noRedirectClient.Do(req)
	if err != nil {
		return probeResult{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return probeResult{status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location"), err: err}
}

// waitFor polls until the response matches, for at most 20 seconds.
func (p *httpProbe) waitFor(ctx context.Context, host, path, userPass string, status int, body string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last probeResult
	for time.Now().Before(deadline) && ctx.Err() == nil {
		last = p.get(ctx, host, path, userPass)
		if last.err == nil && last.status == status && (body == "" || last.body == body) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("GET %s%s (Host %s): want %d %q; last: status %d body %q err %v", p.base, path, host, status, body, last.status, last.body, last.err)
}

// expect checks one response, retrying briefly while Traefik reloads.
func (p *httpProbe) expect(ctx context.Context, host, path, userPass string, status int, body string) {
	p.t.Helper()
	p.waitFor(ctx, host, path, userPass, status, body)
}

// httpsGet requests https://host/path through Traefik's HTTPS port,
// verifying the certificate against roots.
func httpsGet(ctx context.Context, roots *x509.CertPool, port int, host, path string) (string, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		},
	}
	var lastErr error
	for range 50 { // the certificate may load a moment after the routers
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+path, nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(body), err
		}
		lastErr = err
		time.Sleep(200 * time.Millisecond)
	}
	return "", lastErr
}

// assertRoutersEnabled asks Traefik's API for the routers of the file
// provider and checks each generated router is enabled without errors.
func assertRoutersEnabled(ctx context.Context, t *testing.T, apiURL string, cfg *Config) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL+"/api/http/routers?per_page=1000", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("traefik API: %v", err)
	}
	defer resp.Body.Close()
	var routers []struct {
		Name     string   `json:"name"`
		Provider string   `json:"provider"`
		Status   string   `json:"status"`
		Error    []string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&routers); err != nil {
		t.Fatalf("traefik API: decode routers: %v", err)
	}
	got := map[string]string{}
	for _, r := range routers {
		if r.Provider == "file" {
			got[strings.TrimSuffix(r.Name, "@file")] = r.Status + fmt.Sprint(r.Error)
		}
	}
	var want []string
	for name := range cfg.HTTP.Routers {
		want = append(want, name)
		if got[name] != "enabled[]" {
			t.Errorf("router %s: status %q", name, got[name])
		}
	}
	if len(got) != len(want) {
		slices.Sort(want)
		t.Errorf("traefik has file routers %v, want %v", got, want)
	}
}

// TestEnsureWithoutImageFailsClearly checks Ensure names the missing image
// and how to build it, before creating anything.
func TestEnsureWithoutImageFailsClearly(t *testing.T) {
	cli := dockertest.Client(t)
	prefix := uniquePrefix(t)
	tr, err := NewTraefik(cli, Options{
		Name: prefix + "-traefik", Network: prefix + "-proxy", DataDir: t.TempDir(),
		Image: "berth/no-such-traefik:" + prefix, HTTPPort: 1080, HTTPSPort: 1443, APIPort: 1081,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.Ensure(context.Background())
	if err == nil || !strings.Contains(err.Error(), "berth/no-such-traefik:"+prefix+" is not present locally") {
		t.Fatalf("error = %v", err)
	}
	if _, err := cli.NetworkInspect(context.Background(), prefix+"-proxy", network.InspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("network was created before the image was checked: %v", err)
		_ = tr.RemoveNetwork(context.Background())
	}
}

// waitAPIStatus polls Traefik's API until it answers want.
func waitAPIStatus(ctx context.Context, t *testing.T, apiURL string, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	last := 0
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, apiURL+"/api/version", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			last = resp.StatusCode
			if last == want {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("traefik API answered %d, want %d", last, want)
}
