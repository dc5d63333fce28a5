package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/core/proxy"
)

// fillDeployments runs deployments of a few other applications (each
// changing a variable, so Swarm replaces the task) until the server has run
// total deployments.
func (b *bench) fillDeployments(ctx context.Context, total int) error {
	need := total - b.deploys
	if need <= 0 {
		return nil
	}
	workers := min(4, need)
	_, env, err := b.in.api.project(ctx, "fill")
	if err != nil {
		return err
	}
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for k := range workers {
		share := need / workers
		if k < need%workers {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			app, err := b.in.api.app(ctx, env, fmt.Sprintf("fill%d", k), b.images["plain"])
			if err != nil {
				errs <- err
				return
			}
			for i := range share {
				if err := b.in.api.setVar(ctx, app, "DEPLOY", strconv.Itoa(i)); err != nil {
					errs <- err
					return
				}
				if err := b.deployAndWait(ctx, app); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// scale creates apps applications with two domains each through the API,
// then measures berth's memory per application, API list latency, the
// proxy configuration's regeneration and Traefik's time to apply a change.
func (b *bench) scale(ctx context.Context, w *webApp, message string) error {
	apps := b.cfg.apps
	b.r.section(fmt.Sprintf("scale: %d applications with %d domains", apps, 2*apps))
	time.Sleep(3 * time.Second)
	before, err := procMemory(b.in.PID())
	if err != nil {
		return err
	}
	routersBefore, err := b.traefikRouters()
	if err != nil {
		return err
	}
	t0 := time.Now()
	ids, projects, err := b.createApps(ctx, apps)
	if err != nil {
		return err
	}
	created := time.Since(t0)
	want := routersBefore + 2*apps
	for {
		n, err := b.traefikRouters()
		if err != nil {
			return err
		}
		if n >= want {
			break
		}
		if time.Since(t0) > 5*time.Minute {
			return fmt.Errorf("Traefik routes %d routers, want %d", n, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.r.note("created %d applications and %d domains through the API in %s; Traefik routed them all after %s",
		apps, 2*apps, ms(created), ms(time.Since(t0)))

	if err := b.syncTimings(); err != nil {
		return err
	}
	if err := b.listLatency(ctx, ids, projects); err != nil {
		return err
	}
	if err := b.applyAtScale(ctx, w, message); err != nil {
		return err
	}
	time.Sleep(5 * time.Second)
	after, err := procMemory(b.in.PID())
	if err != nil {
		return err
	}
	per := (after.rss - before.rss) / int64(apps)
	b.r.note("berth RSS %s before, %s after, settled 5 s", mib(before.rss), mib(after.rss))
	goal := "-" // a few applications say nothing per application
	if apps >= 500 {
		goal = "<= 20 KiB"
	}
	b.r.row(fmt.Sprintf("berth memory per application (RSS delta / %d)", apps), fmt.Sprintf("%.1f KiB", float64(per)/1024),
		goal, per <= 20<<10)
	return b.footprint(fmt.Sprintf("with %d applications", apps), 0)
}

// createApps creates n applications in n/100 projects, each with an apex
// domain (every fourth with a stripped path prefix) and a www domain
// redirecting to it, using 8 API clients at once.
func (b *bench) createApps(ctx context.Context, n int) (ids, projects []string, err error) {
	perProject := 100
	envs := []string{}
	for p := 0; p*perProject < n; p++ {
		pid, env, err := b.in.api.project(ctx, fmt.Sprintf("scale-%02d", p))
		if err != nil {
			return nil, nil, err
		}
		envs = append(envs, env)
		projects = append(projects, pid)
	}
	ids = make([]string, n)
	jobs := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := b.createScaleApp(ctx, envs[i/perProject], i, ids); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range n {
		select {
		case jobs <- i:
		case err := <-errs:
			close(jobs)
			wg.Wait()
			return nil, nil, err
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	return ids, projects, <-errs
}

func (b *bench) createScaleApp(ctx context.Context, env string, i int, ids []string) error {
	name := fmt.Sprintf("s%04d", i)
	id, err := b.in.api.app(ctx, env, name, b.images["plain"])
	if err != nil {
		return err
	}
	ids[i] = id
	apex := map[string]any{"host": name + ".scale.test"}
	if i%4 == 2 {
		apex["path_prefix"], apex["strip_prefix"] = "/api", true
	}
	if _, err := b.in.api.domain(ctx, id, apex); err != nil {
		return err
	}
	_, err = b.in.api.domain(ctx, id, map[string]any{"host": "www." + name + ".scale.test",
		"redirects": []map[string]any{{"regex": `^http://www\.` + name + `\.scale\.test/(.*)`,
			"replacement": "http://" + name + ".scale.test/${1}", "permanent": true}}})
	return err
}

// traefikRouters asks Traefik's API how many HTTP routers it serves.
func (b *bench) traefikRouters() (int, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/overview", b.in.TraefikAPIPort))
	if err != nil {
		return 0, fmt.Errorf("traefik overview: %w", err)
	}
	defer resp.Body.Close()
	var o struct {
		HTTP struct {
			Routers struct {
				Total int `json:"total"`
			} `json:"routers"`
		} `json:"http"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		return 0, fmt.Errorf("traefik overview: %w", err)
	}
	return o.HTTP.Routers.Total, nil
}

// listLatency times the API's list endpoints at this size.
func (b *bench) listLatency(ctx context.Context, apps, projects []string) error {
	paths := []string{
		"/applications?limit=50",
		"/applications?limit=100&project_id=" + projects[len(projects)/2],
		"/projects?limit=50",
		"/applications/" + apps[len(apps)/2] + "/domains",
	}
	n := b.cfg.listRequests
	var all []time.Duration
	for _, path := range paths {
		var lat []time.Duration
		for i := range n + n/10 {
			t0 := time.Now()
			if err := b.in.api.call(ctx, "GET", path, nil, nil); err != nil {
				return err
			}
			if i >= n/10 { // warm-up excluded
				lat = append(lat, time.Since(t0))
			}
		}
		b.r.note("GET %-60s p50 %8s  p99 %8s", strings.SplitN(path, "?", 2)[0]+query(path), ms(percentile(lat, 50)), ms(percentile(lat, 99)))
		all = append(all, lat...)
	}
	p99 := percentile(all, 99)
	b.r.row("API list endpoints p99 (all four)", ms(p99), "<= 20 ms", p99 <= 20*time.Millisecond)
	return nil
}

func query(path string) string {
	_, q, ok := strings.Cut(path, "?")
	if !ok {
		return ""
	}
	if strings.Contains(q, "project_id") {
		return "?project_id=…"
	}
	return "?" + q
}

// syncTimings reports the last full regenerations berth logged ("proxy
// configuration published" with routes=, load=, generate=, publish=).
func (b *bench) syncTimings() error {
	f, err := os.Open(b.in.LogPath)
	if err != nil {
		return fmt.Errorf("berth log: %w", err)
	}
	defer f.Close()
	var last map[string]string
	var totals []time.Duration
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `msg="proxy configuration published"`) {
			continue
		}
		kv := map[string]string{}
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		if n, _ := strconv.Atoi(kv["routes"]); n >= b.cfg.apps {
			last = kv
			if d, err := time.ParseDuration(kv["took"]); err == nil {
				totals = append(totals, d)
			}
		}
	}
	if last == nil {
		b.r.note("berth logged no regeneration at this size")
		return nil
	}
	b.r.note("berth's last regeneration: %s routes: load %s, generate+encode %s, publish %s",
		last["routes"], last["load"], last["generate"], last["publish"])
	b.r.row(fmt.Sprintf("berth regenerates + publishes (%d syncs) p50", len(totals)), ms(percentile(totals, 50)), "-", true)
	return nil
}

// generation times proxy.Generate and Encode (the hot path of every route
// change) in this process on a configuration of apps applications with two
// domains each, and separately the paerser decode check and the atomic
// write.
func (b *bench) generation(apps int) error {
	b.r.section(fmt.Sprintf("proxy configuration at %d applications / %d domains (in process, median of 15)", apps, 2*apps))
	snap := sampleSnapshot(apps)
	var data []byte
	var goal string
	gen := timeIt(func() {
		res := proxy.Generate(snap)
		if len(res.Errors) > 0 {
			panic(res.Errors[0])
		}
		var err error
		if data, err = proxy.Encode(res.Config); err != nil {
			panic(err)
		}
	})
	b.r.note("%d routes, %d bytes of YAML", len(snap.Routes), len(data))
	goal = "-" // the goal is for a thousand applications
	if apps >= 1000 {
		goal = "<= 50 ms"
	}
	b.r.row("full regeneration: Generate + Encode", ms(gen), goal, gen <= 50*time.Millisecond)
	dec := timeIt(func() {
		if _, err := proxy.Decode(data); err != nil {
			panic(err)
		}
	})
	b.r.row("paerser decode check (runs on every publication)", ms(dec), "-", true)
	dir, err := os.MkdirTemp("", "berth-bench-publish-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pub := proxy.NewPublisher(dir, "")
	variants := [][]byte{data, append(slices.Clone(data), "\n# variant\n"...)}
	i := 0
	write := timeIt(func() {
		i++
		if _, err := pub.Publish(context.Background(), variants[i%2]); err != nil {
			panic(err)
		}
	})
	b.r.row("Publisher.Publish of the file (check + write + fsync + rename)", ms(write), "-", true)
	cfg := proxy.Generate(snap).Config
	publishConfig := timeIt(func() {
		i++
		cfg.HTTP.Routers[proxy.APIRouter+"-bench"] = &proxy.Router{EntryPoints: []string{"web"},
			Rule: fmt.Sprintf("Host(`v%d.bench`)", i%2), Service: "api@internal"}
		if _, err := pub.PublishConfig(context.Background(), cfg); err != nil {
			panic(err)
		}
	})
	b.r.row("Publisher.PublishConfig (encode + paerser check + write + fsync + rename)", ms(publishConfig), "-", true)
	return nil
}

// timeIt runs f twice to warm up, then 15 times, and returns the median.
func timeIt(f func()) time.Duration {
	f()
	f()
	runtime.GC()
	var ds []time.Duration
	for range 15 {
		t0 := time.Now()
		f()
		ds = append(ds, time.Since(t0))
	}
	return percentile(ds, 50)
}

// sampleSnapshot is apps applications with an apex and a www domain each,
// a realistic mix of Let's Encrypt and custom TLS, HTTPS redirects, regex
// redirects, basic auth and stripped path prefixes.
func sampleSnapshot(apps int) proxy.Snapshot {
	const bcryptAlice = "alice:$2a$05$WuwdynZPQgS5kMoAfjdaPO5hHQdPXlgdwpZ818Pk/oQM1PTmKzFz."
	var routes []proxy.Route
	for i := range apps {
		svc := fmt.Sprintf("app%04d", i)
		apex := proxy.Route{ID: svc + "-apex", Service: svc, Port: 8080, Host: svc + ".example.com",
			TLS: proxy.TLSLetsEncrypt, RedirectToHTTPS: true}
		www := proxy.Route{ID: svc + "-www", Service: svc, Port: 8080, Host: "www." + svc + ".example.com",
			TLS: proxy.TLSLetsEncrypt, RedirectToHTTPS: true,
			Redirects: []proxy.Redirect{{Regex: `^https://www\.` + svc + `\.example\.com/(.*)`,
				Replacement: "https://" + svc + ".example.com/${1}", Permanent: true}}}
		switch i % 4 {
		case 1:
			apex.BasicAuth = []string{bcryptAlice}
		case 2:
			apex.PathPrefix, apex.StripPrefix = "/api", true
		case 3:
			apex.TLS, apex.CertFile, apex.KeyFile = proxy.TLSCustom, "/etc/traefik/certs/"+svc+".crt", "/etc/traefik/certs/"+svc+".key"
		}
		routes = append(routes, apex, www)
	}
	return proxy.Snapshot{Routes: routes, APIAllowFrom: []string{"127.0.0.1/32"}}
}
