package accesslog_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/accesslog"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/test/dockertest"
	"github.com/docker/docker/client"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// env is a real Traefik routing two domains of two applications to a real
// backend, and a store holding those domains.
type env struct {
	cli           *client.Client
	st            *store.Store
	tr            *proxy.Traefik
	app, other    store.Application
	base          string
	routes        []proxy.Route
	allowFrom     []string
	containerName string
}

func newEnv(t *testing.T, ctx context.Context) *env {
	t.Helper()
	cli := dockertest.Client(t)
	if _, err := cli.ImageInspect(ctx, proxy.DefaultImage); err != nil {
		t.Fatalf("this test needs the local image %s (build it with scripts/traefik.sh): %v", proxy.DefaultImage, err)
	}
	box, err := secrets.New(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	_, org, err := st.Setup(ctx, store.SetupInput{Email: "a@example.com", Name: "A", PasswordHash: "x", Organization: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	_, envr, err := st.CreateProject(ctx, org.ID, "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{cli: cli, st: st}
	mkApp := func(name, host string) (store.Application, store.Domain) {
		a, err := st.CreateApplication(ctx, envr.ID, store.ApplicationSpec{Name: name, SourceType: "image", Image: "x", Port: 8080, Replicas: 1})
		if err != nil {
			t.Fatal(err)
		}
		d, err := st.CreateDomain(ctx, a.ID, store.DomainSpec{Host: host, HTTPS: "none"})
		if err != nil {
			t.Fatal(err)
		}
		return a, d
	}
	var shop, other store.Domain
	e.app, shop = mkApp("web", "shop.test")
	e.other, other = mkApp("api", "other.test")

	prefix := dockertest.UniqueName("bta")
	backend := "berth-test-accesslog-backend:" + prefix
	dockertest.BuildGoImage(t, cli, "./core/accesslog/testdata/backend", backend, false)
	ports := []int{dockertest.FreePort(t), dockertest.FreePort(t), dockertest.FreePort(t)}
	e.tr, err = proxy.NewTraefik(cli, proxy.Options{Name: prefix + "-traefik", Network: prefix + "-proxy", DataDir: t.TempDir(),
		BindIP: "127.0.0.1", HTTPPort: ports[0], HTTPSPort: ports[1], APIPort: ports[2], StartTimeout: 30 * time.Second,
		Labels: map[string]string{"dev.berth.test": prefix}})
	if err != nil {
		t.Fatal(err)
	}
	e.containerName = e.tr.Options().Name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = dockertest.RemoveEventually(ctx, e.tr.RemoveNetwork)
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.tr.Remove(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if _, err := e.tr.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	service := prefix + "-backend"
	dockertest.CreateService(t, cli, dockertest.ServiceSpec{Name: service, Image: backend, Network: e.tr.Options().Network})
	if e.allowFrom, err = e.tr.APIAllowFrom(ctx); err != nil {
		t.Fatal(err)
	}
	e.routes = []proxy.Route{
		{ID: shop.ID.String(), Service: service, Port: 8080, Host: shop.Host},
		{ID: other.ID.String(), Service: service, Port: 8080, Host: other.Host},
	}
	e.publish(t, ctx)
	e.base = "http://127.0.0.1:" + strconv.Itoa(ports[0])
	e.waitRouted(t, ctx)
	return e
}

func (e *env) publish(t *testing.T, ctx context.Context) {
	t.Helper()
	res := proxy.Generate(proxy.Snapshot{Routes: e.routes, APIAllowFrom: e.allowFrom})
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if _, err := e.tr.Publisher().PublishConfig(ctx, res.Config); err != nil {
		t.Fatal(err)
	}
}

// do sends one request through Traefik and checks its status.
func (e *env) do(t *testing.T, ctx context.Context, method, host, path string, want int) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, e.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, host, path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("%s %s%s: status %d, want %d", method, host, path, resp.StatusCode, want)
	}
}

// waitRouted waits until both domains reach the backend; those requests
// are sent before any follower reads, and are counted like the others.
func (e *env) waitRouted(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, host := range []string{"shop.test", "other.test"} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/ready", nil)
			req.Host = host
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not routed to the backend: %v", host, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// start runs a follower until the returned stop is called.
func (e *env) start(ctx context.Context) (*accesslog.Follower, func()) {
	f := accesslog.New(accesslog.Options{Container: e.containerName, Docker: e.cli, Store: e.st, FlushEvery: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	return f, func() { cancel(); <-done }
}

// total returns the requests stored for app over the last hour.
func (e *env) series(t *testing.T, ctx context.Context, app store.Application) accesslog.Series {
	t.Helper()
	to := time.Now().Truncate(time.Minute).Add(time.Minute)
	from := to.Add(-time.Hour)
	rows, err := e.st.RequestStats(ctx, app.ID, from, to, "")
	if err != nil {
		t.Fatal(err)
	}
	return accesslog.BuildSeries(rows, from, to, time.Minute)
}

// settle waits until app's stored total has not changed for a second
// (the follower has caught up) and returns it.
func (e *env) settle(t *testing.T, ctx context.Context, app store.Application) accesslog.Point {
	t.Helper()
	last, since := int64(-1), time.Now()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		tot := e.series(t, ctx, app).Total
		if tot.Requests != last {
			last, since = tot.Requests, time.Now()
			continue
		}
		if tot.Requests > 0 && time.Since(since) > time.Second {
			return tot
		}
	}
	t.Fatalf("%s: the stored figures did not settle (last total %d)", app.Name, last)
	return accesslog.Point{}
}

// waitTotal waits until app's stored total is want, and fails if it is
// still different after a few seconds (or goes beyond).
func (e *env) waitTotal(t *testing.T, ctx context.Context, app store.Application, want int64) accesslog.Series {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := e.series(t, ctx, app)
		if s.Total.Requests == want {
			return s
		}
		if s.Total.Requests > want || time.Now().After(deadline) {
			t.Fatalf("%s: %d requests stored, want %d", app.Name, s.Total.Requests, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFollowerThroughTraefik sends known requests (paths, statuses,
// delays) through a real Traefik to a real backend and checks that the
// follower stores them per application with their statuses and latencies,
// that a restarted follower counts nothing twice, that a recreated Traefik
// is picked up, and that the container's log is capped.
func TestFollowerThroughTraefik(t *testing.T) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newEnv(t, ctx)
	t.Logf("Traefik, backend and store ready in %s", time.Since(start).Round(time.Millisecond))

	t.Run("the container's log is capped", func(t *testing.T) {
		c, err := e.cli.ContainerInspect(ctx, e.containerName)
		if err != nil {
			t.Fatal(err)
		}
		lc := c.HostConfig.LogConfig
		if lc.Type != "json-file" || lc.Config["max-size"] != "20m" || lc.Config["max-file"] != "5" {
			t.Errorf("log config %+v, want json-file with max-size 20m and max-file 5", lc)
		}
	})

	f, stop := e.start(ctx)
	// The readiness requests count too, however many there were: take them
	// as the baseline once the follower has caught up.
	base, baseOther := e.settle(t, ctx, e.app), e.settle(t, ctx, e.other)
	const slow = 300 * time.Millisecond
	for range 5 {
		e.do(t, ctx, "GET", "shop.test", "/fast?token=secret", 200)
	}
	for range 3 {
		e.do(t, ctx, "GET", "shop.test", "/slow?delay="+strconv.Itoa(int(slow/time.Millisecond)), 200)
	}
	for range 2 {
		e.do(t, ctx, "POST", "shop.test", "/fail?status=503", 503)
	}
	for range 4 {
		e.do(t, ctx, "GET", "shop.test", "/missing?status=404", 404)
	}
	for range 2 {
		e.do(t, ctx, "GET", "nobody.test", "/", 404) // no router: ignored
	}
	e.do(t, ctx, "GET", "other.test", "/elsewhere", 200)
	sent := time.Now()

	s := e.waitTotal(t, ctx, e.app, base.Requests+14)
	t.Logf("all %d requests stored %s after the last was answered (flush every 200 ms)", s.Total.Requests, time.Since(sent).Round(time.Millisecond))
	e.waitTotal(t, ctx, e.other, baseOther.Requests+1)
	t.Run("statuses and latency", func(t *testing.T) {
		tot := s.Total
		if tot.Status2xx-base.Status2xx != 5+3 || tot.Status4xx-base.Status4xx != 4 || tot.Status5xx-base.Status5xx != 2 ||
			tot.Status1xx+tot.Status3xx != 0 {
			t.Errorf("status classes %+v (before: %+v), want 8 more 2xx, 4 more 4xx, 2 more 5xx", tot, base)
		}
		// 3 of about 15 took 300 ms: p95 is in the (200, 500] ms bucket, p50 among the fast ones.
		if tot.P95Ms <= 200 || tot.P95Ms > 500 {
			t.Errorf("p95 %.1f ms, want in (200, 500]", tot.P95Ms)
		}
		if tot.P50Ms >= 200 {
			t.Errorf("p50 %.1f ms, want a fast request's", tot.P50Ms)
		}
		t.Logf("p50 %.2f ms, p95 %.2f ms, mean %.2f ms", tot.P50Ms, tot.P95Ms, tot.MeanMs)
	})
	t.Run("latest requests", func(t *testing.T) {
		recs, err := e.st.LatestRequests(ctx, e.app.ID, store.RequestFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(recs)) != base.Requests+14 {
			t.Fatalf("%d latest requests, want %d", len(recs), base.Requests+14)
		}
		if recs[0].Path != "/missing" || recs[0].Status != 404 {
			t.Errorf("newest = %+v, want GET /missing 404", recs[0])
		}
		seen := map[string]int{}
		for _, r := range recs {
			seen[r.Method+" "+r.Path+" "+strconv.Itoa(r.Status)]++
			if strings.Contains(r.Path, "?") || r.Host != "shop.test" || r.Client == "" {
				t.Errorf("record %+v: want a path without query, host shop.test, a client", r)
			}
			if r.Path == "/slow" && (r.DurationMs < float64(slow/time.Millisecond) || r.DurationMs > 5000) {
				t.Errorf("slow request took %.1f ms, want at least 300", r.DurationMs)
			}
		}
		want := map[string]int{"GET /fast 200": 5, "GET /slow 200": 3, "POST /fail 503": 2, "GET /missing 404": 4}
		for k, n := range want {
			if seen[k] != n {
				t.Errorf("%q seen %d times, want %d (all: %v)", k, seen[k], n, seen)
			}
		}
		fails, err := e.st.LatestRequests(ctx, e.app.ID, store.RequestFilter{Class: 5, PathPrefix: "/fail", Limit: 100})
		if err != nil || len(fails) != 2 {
			t.Errorf("5xx filter: %d records (%v), want 2", len(fails), err)
		}
	})
	if c := f.Counts(); c.Counted != base.Requests+baseOther.Requests+15 || c.Access < c.Counted+2 {
		t.Errorf("counts %+v, want %d counted and 2 more access lines", c, base.Requests+baseOther.Requests+15)
	}

	t.Run("a restarted follower counts nothing twice", func(t *testing.T) {
		stop()
		f, stop2 := e.start(ctx)
		defer stop2()
		e.do(t, ctx, "GET", "shop.test", "/after-restart", 200)
		e.do(t, ctx, "GET", "shop.test", "/after-restart", 200)
		e.waitTotal(t, ctx, e.app, base.Requests+16)
		time.Sleep(time.Second) // several flushes: nothing more comes
		e.waitTotal(t, ctx, e.app, base.Requests+16)
		if c := f.Counts(); c.Counted != 2 {
			o := e.series(t, ctx, e.other).Total.Requests
			recs, _ := e.st.LatestRequests(ctx, e.other.ID, store.RequestFilter{Limit: 5})
			t.Errorf("the new follower counted %d requests, want the 2 sent after the restart (other: %d, want %d; %+v)", c.Counted, o, baseOther.Requests+1, recs)
		}
	})

	t.Run("a recreated Traefik is picked up", func(t *testing.T) {
		f, stop3 := e.start(ctx)
		defer stop3()
		if err := e.tr.Remove(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.tr.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		e.waitRouted(t, ctx)
		before := e.settle(t, ctx, e.app)
		e.do(t, ctx, "GET", "shop.test", "/recreated", 200)
		e.waitTotal(t, ctx, e.app, before.Requests+1)
		recs, err := e.st.LatestRequests(ctx, e.app.ID, store.RequestFilter{PathPrefix: "/recreated", Limit: 10})
		if err != nil || len(recs) != 1 {
			t.Errorf("latest /recreated: %v, %v", recs, err)
		}
		if c := f.Counts(); c.Counted < 1 {
			t.Errorf("counts %+v after the recreation", c)
		}
	})
	t.Logf("test took %s", time.Since(start).Round(time.Millisecond))
}
