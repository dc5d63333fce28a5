package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/berth-dev/berth/test/loadgen"
)

// release is one change deployed while the load runs.
type release struct {
	// what is printed for the release.
	what string
	// image is "plain" (no health check) or "checked" (HEALTHCHECK every second, 30 s start period).
	image string
	// healthyAfter is HEALTHY_AFTER ("" = healthy at once).
	healthyAfter string
	replicas     int
}

// releases is the sequence the zero-downtime run deploys; a shorter run
// deploys a prefix of it, so it still changes the replica count and rolls
// out a slow, health-checked release.
var releases = []release{
	{"new MESSAGE", "plain", "", 1},
	{"replicas 1→2", "plain", "", 2},
	{"health-checked, HEALTHY_AFTER=4s (2 replicas)", "checked", "4s", 2},
	{"replicas 2→1 (health-checked)", "checked", "4s", 1},
	{"new MESSAGE, no health check", "plain", "", 1},
	{"new MESSAGE", "plain", "", 1},
	{"health-checked, HEALTHY_AFTER=4s", "checked", "4s", 1},
	{"new MESSAGE", "plain", "", 1},
	{"replicas 1→2", "plain", "", 2},
	{"replicas 2→1", "plain", "", 1},
}

// webApp is the application the deploy figures use.
type webApp struct {
	id, host string
	// state last deployed
	image, healthyAfter string
	replicas            int
}

// apply changes the application towards r through the API.
func (b *bench) apply(ctx context.Context, w *webApp, r release, message string) error {
	img := b.images[r.image]
	if img != w.image {
		if err := b.in.api.call(ctx, "PATCH", "/applications/"+w.id, map[string]any{"image": img}, nil); err != nil {
			return err
		}
		w.image = img
	}
	if r.replicas != w.replicas {
		if err := b.in.api.call(ctx, "PATCH", "/applications/"+w.id, map[string]any{"replicas": r.replicas}, nil); err != nil {
			return err
		}
		w.replicas = r.replicas
	}
	if r.healthyAfter != w.healthyAfter {
		if err := b.in.api.setVar(ctx, w.id, "HEALTHY_AFTER", r.healthyAfter); err != nil {
			return err
		}
		w.healthyAfter = r.healthyAfter
	}
	return b.in.api.setVar(ctx, w.id, "MESSAGE", message)
}

// zeroDowntime redeploys the web application n times under steady load
// and reports every failed request.
func (b *bench) zeroDowntime(ctx context.Context, w *webApp) error {
	n := b.cfg.redeploys
	b.r.section(fmt.Sprintf("zero downtime: %d redeploys under %d requests/s (¼ POST) from %d keep-alive clients through Traefik",
		n, b.cfg.rate, b.cfg.clients))
	l := b.startLoad(w.host)
	defer l.Stop()
	time.Sleep(2 * time.Second)
	var underLoad []time.Duration
	for i := range n {
		r := releases[i%len(releases)]
		msg := fmt.Sprintf("zd%d", i+1)
		if err := b.apply(ctx, w, r, msg); err != nil {
			return fmt.Errorf("release %d: %w", i+1, err)
		}
		t0 := time.Now()
		d, err := b.deploy(ctx, w.id)
		if err != nil {
			return fmt.Errorf("release %d: %w", i+1, err)
		}
		if _, err := b.in.api.waitDeployment(ctx, d.ID, 5*time.Minute); err != nil {
			return fmt.Errorf("release %d: %w", i+1, err)
		}
		done := time.Since(t0)
		// The last old task may still answer a moment after Swarm
		// reports the update complete; wait for the new version.
		deadline := time.Now().Add(10 * time.Second)
		seen, ok := l.FirstSeen(msg)
		for !ok && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			seen, ok = l.FirstSeen(msg)
		}
		answer := "never"
		if ok {
			answer = ms(seen.Sub(t0))
			if r.healthyAfter == "" {
				underLoad = append(underLoad, seen.Sub(t0))
			}
		}
		b.r.note("release %2d %-48s new version answering after %8s, deployment finished after %s",
			i+1, r.what, answer, ms(done))
	}
	time.Sleep(2 * time.Second)
	l.Stop()
	res := l.Result()
	b.r.row("requests sent during the redeploys", fmt.Sprintf("%d", res.Sent), "-", true)
	b.r.row("achieved request rate", fmt.Sprintf("%.0f/s", res.Rate), fmt.Sprintf(">= %d/s", b.cfg.rate*9/10),
		res.Rate >= float64(b.cfg.rate)*0.9)
	b.r.row("failed or non-200 responses", fmt.Sprintf("%d", res.Failed()), "0", res.Failed() == 0)
	b.r.note("failures by kind: %s", res.FailureList())
	b.r.row("latency through Traefik p50", ms(res.P50), "-", true)
	b.r.row("latency through Traefik p99", ms(res.P99), "-", true)
	b.r.row("latency through Traefik max", ms(res.Max), "-", true)
	if len(underLoad) > 0 {
		b.r.row("new version answering, under load (no health check) p50", ms(percentile(underLoad, 50)), "-", true)
	}
	return nil
}

// deployLatency redeploys the web application (a prebuilt local image, one
// replica, no health check) and times the API call to the first answer of
// the new version through Traefik, probing every 10 ms on a keep-alive
// connection.
func (b *bench) deployLatency(ctx context.Context, w *webApp) error {
	n := b.cfg.latencySamples
	b.r.section(fmt.Sprintf("deploy latency: prebuilt local image, %d deploys, API call → first answer of the new version", n))
	if err := b.apply(ctx, w, release{image: "plain", replicas: 1}, "warm"); err != nil {
		return err
	}
	if err := b.deployAndWait(ctx, w.id); err != nil {
		return err
	}
	p := newProbe(b.in.HTTPPort)
	var answered, finished []time.Duration
	for i := range n {
		msg := fmt.Sprintf("lat%d", i+1)
		if err := b.in.api.setVar(ctx, w.id, "MESSAGE", msg); err != nil {
			return err
		}
		t0 := time.Now()
		d, err := b.deploy(ctx, w.id)
		if err != nil {
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		at, err := p.until(pctx, w.host, msg+" ", 10*time.Millisecond)
		cancel()
		if err != nil {
			return err
		}
		answered = append(answered, at.Sub(t0))
		if _, err := b.in.api.waitDeployment(ctx, d.ID, 5*time.Minute); err != nil {
			return err
		}
		finished = append(finished, time.Since(t0))
	}
	b.r.note("samples: %s", durations(answered))
	b.r.row("deploy → new version answering p50", ms(percentile(answered, 50)), "<= 3 s", percentile(answered, 50) <= 3*time.Second)
	b.r.row("deploy → new version answering max", ms(percentile(answered, 100)), "-", true)
	b.r.row("deploy → deployment succeeded p50", ms(percentile(finished, 50)), "-", true)
	return nil
}

// startLoad begins the configured load (rate, clients, one POST in four)
// for host through Traefik's published port.
func (b *bench) startLoad(host string) *loadgen.Load {
	return loadgen.Start(loadgen.Config{Addr: fmt.Sprintf("127.0.0.1:%d", b.in.HTTPPort), Host: host,
		Rate: b.cfg.rate, Clients: b.cfg.clients})
}

// deploy queues a deployment of app and counts it.
func (b *bench) deploy(ctx context.Context, app string) (deployment, error) {
	d, err := b.in.api.deploy(ctx, app)
	if err == nil {
		b.mu.Lock()
		b.deploys++
		b.mu.Unlock()
	}
	return d, err
}

// deployAndWait deploys an application and waits for success.
func (b *bench) deployAndWait(ctx context.Context, app string) error {
	d, err := b.deploy(ctx, app)
	if err != nil {
		return err
	}
	_, err = b.in.api.waitDeployment(ctx, d.ID, 5*time.Minute)
	return err
}

// durations formats samples compactly.
func durations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = ms(d)
	}
	return strings.Join(parts, ", ")
}
