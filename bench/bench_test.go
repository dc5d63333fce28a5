package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchSmoke runs the whole benchmark with a few samples of each figure
// against a real berth server, Docker Swarm and Traefik, so `make bench`
// does not rot. It checks that every scenario runs and that no request
// failed during the redeploys (berth's zero-downtime promise holds at any
// size); latency and memory goals depend on the machine and are only
// printed; the release shapes (bench/releases.go) only have to run. -short
// trims it further and leaves the release shapes out.
func TestBenchSmoke(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "berth")
	build := exec.Command("go", "build", "-o", bin, "./cmd/berth")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build berth: %v\n%s", err, out)
	}
	var out bytes.Buffer
	cfg := quickConfig()
	cfg.berth, cfg.repo, cfg.out = bin, "..", &out
	cfg.generationApps = 200
	if testing.Short() {
		cfg.redeploys, cfg.latencySamples, cfg.routeSamples, cfg.apps, cfg.listRequests = 2, 1, 2, 10, 10
		cfg.shapes = false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	r, err := run(ctx, cfg)
	t.Logf("bench output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	figures := []string{
		"first answer after start (warm)",
		"berth server RSS idle after start",
		"requests sent during the redeploys",
		"failed or non-200 responses",
		"deploy → new version answering p50",
		"domain added → answering p95",
		"PostgreSQL PSS",
		"Traefik RSS",
		"API list endpoints p99",
		"berth memory per application",
		"Traefik applies a change",
		"full regeneration: Generate + Encode",
	}
	if cfg.shapes {
		figures = append(figures, "release instant app, port (default): failed requests",
			"release slow start (LISTEN_AFTER=3s), HTTP /healthz: deploy → new version serving all traffic",
			"release crash after answering (EXIT_AFTER=2s), port (default): deployment",
			"release never ready (NEVER_LISTEN=1), port, 15 s timeout: failed requests")
	}
	for _, name := range figures {
		if _, ok := r.find(name); !ok {
			t.Errorf("figure %q missing", name)
		}
	}
	if f, ok := r.find("failed or non-200 responses"); ok && f.value != "0" {
		f2, _ := r.find("requests sent during the redeploys")
		t.Errorf("%s of %s requests failed during the redeploys", f.value, f2.value)
	}
	if !strings.Contains(out.String(), "failures by kind: none") {
		t.Error("the failure table is not empty")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatal(err)
	}
}
