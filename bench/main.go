// Command bench measures berth against its goals and prints each figure
// next to its goal: start-up time, zero downtime during redeploys under
// load, deploy latency, route propagation, the failed requests and the
// time to serve all traffic of one release of each app shape (instant,
// slow start, crash after answering, never ready; with and without
// readiness checks), the memory of berth, its PostgreSQL and Traefik,
// behaviour at 1,000 applications, and the plugin host's cold start and
// warm call (docs/performance.md).
//
//	go run ./bench -berth bin/berth           # make bench
//	go run ./bench -berth bin/berth -quick    # a few samples of each
//	go test ./bench/                          # the smoke run make test includes
//
// It runs a whole `berth server` with its own name, data directory, ports
// and Traefik (like test/e2e), deploys the test backend (test/backend) from
// prebuilt local images through the API, and removes everything at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// config sizes a run.
type config struct {
	// berth is the berth binary to run.
	berth string
	// repo is the repository root (test/backend is built from it).
	repo string
	// rate and clients shape the load during the redeploys.
	rate, clients int
	// redeploys is how many releases are deployed under load.
	redeploys int
	// latencySamples is how many deploys are timed for deploy latency.
	latencySamples int
	// routeSamples is how many domains are timed for route propagation.
	routeSamples int
	// deployments is the count after which memory is measured again.
	deployments int
	// apps is the number of applications (two domains each) of the scale run.
	apps int
	// listRequests is the number of timed requests per list endpoint.
	listRequests int
	// applySamples is how many route changes are timed at scale.
	applySamples int
	// generationApps sizes the in-process configuration generation.
	generationApps int
	// shapes runs the release of each app shape (instant, slow start,
	// crash after answering, never ready) under load.
	shapes bool
	// plugins runs the plugin host's benchmarks too.
	plugins bool
	// out receives the report.
	out io.Writer
}

// fullConfig is `make bench`.
func fullConfig() config {
	return config{berth: "bin/berth", repo: ".", rate: 250, clients: 8, redeploys: 10, latencySamples: 10,
		routeSamples: 25, deployments: 100, apps: 1000, listRequests: 300, applySamples: 5, generationApps: 1000,
		shapes: true, plugins: true, out: os.Stdout}
}

// quickConfig is a smoke run: every scenario, a few samples each.
func quickConfig() config {
	return config{berth: "bin/berth", repo: ".", rate: 100, clients: 4, redeploys: 3, latencySamples: 2,
		routeSamples: 3, deployments: 0, apps: 20, listRequests: 20, applySamples: 1, generationApps: 1000,
		shapes: true, out: os.Stdout}
}

func main() {
	cfg := fullConfig()
	bindFlags(flag.CommandLine, &cfg)
	quick := flag.Bool("quick", false, "a smoke run: a few samples of each figure (flags given still apply)")
	flag.Parse()
	if *quick {
		q := quickConfig()
		fs := flag.NewFlagSet("quick", flag.ContinueOnError)
		bindFlags(fs, &q)
		flag.Visit(func(f *flag.Flag) {
			if fs.Lookup(f.Name) != nil {
				_ = fs.Set(f.Name, f.Value.String())
			}
		})
		cfg = q
	}
	r, err := run(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if missed := r.missed(); len(missed) > 0 {
		fmt.Printf("\n%d goal(s) missed:\n  %s\n", len(missed), strings.Join(missed, "\n  "))
	}
}

// bindFlags registers the flags that size a run, defaulting to c's values.
func bindFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.berth, "berth", c.berth, "berth binary")
	fs.StringVar(&c.repo, "repo", c.repo, "repository root")
	fs.IntVar(&c.rate, "rate", c.rate, "requests per second during the redeploys")
	fs.IntVar(&c.clients, "clients", c.clients, "concurrent keep-alive clients")
	fs.IntVar(&c.redeploys, "redeploys", c.redeploys, "releases deployed under load")
	fs.IntVar(&c.latencySamples, "latency-samples", c.latencySamples, "deploys timed for deploy latency")
	fs.IntVar(&c.routeSamples, "route-samples", c.routeSamples, "domains timed for route propagation")
	fs.IntVar(&c.deployments, "deployments", c.deployments, "deployments before the second memory reading")
	fs.IntVar(&c.apps, "apps", c.apps, "applications of the scale run (two domains each; 0 skips it)")
	fs.IntVar(&c.listRequests, "list-requests", c.listRequests, "timed requests per list endpoint")
	fs.IntVar(&c.applySamples, "apply-samples", c.applySamples, "route changes timed at scale")
	fs.IntVar(&c.generationApps, "generation-apps", c.generationApps, "applications of the in-process generation timing")
	fs.BoolVar(&c.shapes, "shapes", c.shapes, "deploy one release of each app shape under load (instant, slow start, crash, never ready)")
	fs.BoolVar(&c.plugins, "plugins", c.plugins, "run the plugin benchmarks (go test -bench ./plugins/)")
}

// bench is one run's state.
type bench struct {
	cfg config
	r   *report
	in  *instance
	// images maps "plain" and "checked" to the backend images.
	images map[string]string
	mu     sync.Mutex
	// deploys counts the deployments the server ran.
	deploys int
}

// run measures everything cfg asks for and returns the report.
func run(ctx context.Context, cfg config) (*report, error) {
	b := &bench{cfg: cfg, r: &report{out: cfg.out}}
	dir, err := os.MkdirTemp("", "berth-bench-")
	if err != nil {
		return b.r, err
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o711) // the embedded PostgreSQL runs as another user
	name := fmt.Sprintf("bench%d", time.Now().UnixNano()%1e6)
	if b.images, err = buildImages(cfg.repo, dir, name); err != nil {
		return b.r, err
	}
	defer removeImages(b.images)

	env := []string{"BERTH_DEPLOY_CONCURRENCY=4"}
	if index, err := filepath.Abs(filepath.Join(cfg.repo, "plugin-index.json")); err == nil {
		if _, err := os.Stat(index); err == nil {
			env = append(env, "BERTH_PLUGIN_INDEX="+index)
		}
	}
	b.in, err = newInstance(cfg.berth, dir, name, env...)
	if err != nil {
		return b.r, err
	}
	defer b.in.cleanup(context.Background())
	err = b.measure(ctx)
	if err != nil {
		err = fmt.Errorf("%w\nberth log (tail):\n%s", err, b.in.LogTail(4000))
	}
	return b.r, err
}

// idleSettle is how long the bench leaves the server alone before reading
// its idle memory: idle means it stopped working, and the server returns
// the pages a burst touched once it has been quiet for 10 s (core/workingset).
const idleSettle = 15 * time.Second

// measure runs the scenarios in order on one server.
func (b *bench) measure(ctx context.Context) error {
	b.r.section("start-up and idle memory")
	cold, err := b.in.Start(ctx)
	if err != nil {
		return err
	}
	b.in.Stop()
	warm, err := b.in.Start(ctx)
	if err != nil {
		return err
	}
	b.r.row("first answer after start (cold: initdb, Traefik created)", ms(cold), "-", true)
	b.r.row("first answer after start (warm)", ms(warm), "<= 1 s", warm <= time.Second)
	if err := b.in.setup(ctx); err != nil {
		return err
	}
	time.Sleep(idleSettle)
	if err := b.footprint("idle after start", 40<<20); err != nil {
		return err
	}

	_, env, err := b.in.api.project(ctx, "bench")
	if err != nil {
		return err
	}
	w := &webApp{host: "web.bench.test", image: b.images["plain"], replicas: 1}
	if w.id, err = b.in.api.app(ctx, env, "web", w.image); err != nil {
		return err
	}
	if _, err := b.in.api.domain(ctx, w.id, map[string]any{"host": w.host}); err != nil {
		return err
	}
	if err := b.in.api.setVar(ctx, w.id, "MESSAGE", "zd0"); err != nil {
		return err
	}
	if err := b.deployAndWait(ctx, w.id); err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	_, err = newProbe(b.in.HTTPPort).until(pctx, w.host, "zd0 ", 20*time.Millisecond)
	cancel()
	if err != nil {
		return err
	}

	if err := b.zeroDowntime(ctx, w); err != nil {
		return err
	}
	if err := b.deployLatency(ctx, w); err != nil {
		return err
	}
	message := fmt.Sprintf("lat%d", b.cfg.latencySamples)
	if err := b.routePropagation(ctx, w, message); err != nil {
		return err
	}

	if b.cfg.shapes {
		if err := b.releaseShapes(ctx, env); err != nil {
			return err
		}
	}

	b.r.section(fmt.Sprintf("footprint after %d deployments", max(b.cfg.deployments, b.deploys)))
	if err := b.fillDeployments(ctx, b.cfg.deployments); err != nil {
		return err
	}
	time.Sleep(idleSettle)
	if err := b.footprint(fmt.Sprintf("after %d deployments", b.deploys), 40<<20); err != nil {
		return err
	}

	if b.cfg.apps > 0 {
		if err := b.scale(ctx, w, message); err != nil {
			return err
		}
	}
	if err := b.generation(b.cfg.generationApps); err != nil {
		return err
	}
	if b.cfg.plugins {
		return b.plugins()
	}
	return nil
}

// buildImages builds the test backend into two local images FROM scratch:
// "plain" without a health check and "checked" with one (interval 1s).
func buildImages(repo, dir, name string) (map[string]string, error) {
	ctxDir := filepath.Join(dir, "image")
	if err := os.MkdirAll(ctxDir, 0o755); err != nil {
		return nil, err
	}
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ctxDir, "app"), "./test/backend")
	build.Dir = repo
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build test backend: %w\n%s", err, out)
	}
	dockerfiles := map[string]string{
		"plain": "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
		"checked": "FROM scratch\nCOPY app /app\n" +
			"HEALTHCHECK --interval=1s --timeout=2s --start-period=30s --retries=2 CMD [\"/app\", \"healthcheck\"]\n" +
			"ENTRYPOINT [\"/app\"]\n",
	}
	images := map[string]string{}
	for kind, df := range dockerfiles {
		tag := fmt.Sprintf("berth-bench/backend-%s:%s", kind, name)
		if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(df), 0o644); err != nil {
			return nil, err
		}
		if out, err := exec.Command("docker", "build", "-q", "-t", tag, ctxDir).CombinedOutput(); err != nil {
			removeImages(images)
			return nil, fmt.Errorf("docker build %s: %w\n%s", tag, err, out)
		}
		images[kind] = tag
	}
	return images, nil
}

func removeImages(images map[string]string) {
	for _, tag := range images {
		_ = exec.Command("docker", "rmi", "-f", tag).Run()
	}
}
