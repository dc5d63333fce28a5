package builds_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/berth-dev/berth/plugins/index"
	"github.com/berth-dev/berth/test/berthtest"
	"github.com/berth-dev/berth/test/dockertest"
)

// railpackPluginDir builds the Railpack builder (its own Go module, which
// the root module's plugin build does not reach) and registers it in a
// third-party plugin directory, as `berth plugins register` does.
func railpackPluginDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(t.TempDir(), "berth-builder-railpack")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = filepath.Join(bins.Root, "builders", "railpack")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build builders/railpack: %v\n%s", err, out)
	}
	if _, err := index.Register(context.Background(), dir, bin); err != nil {
		t.Fatal(err)
	}
	return dir
}

// railpackFixtures are the plugin settings the fixture of
// scripts/fixtures/30-buildkit.sh needs: buildkitd's mirror of ghcr.io and
// mise from the cached npm tarball.
func railpackFixtures(t *testing.T) map[string]any {
	t.Helper()
	cache := filepath.Join(bins.Root, ".cache", "buildkit")
	cfg, err := os.ReadFile(filepath.Join(cache, "buildkitd.toml"))
	if err != nil {
		t.Fatalf("the buildkit fixture is missing (run scripts/fixtures/30-buildkit.sh): %v", err)
	}
	tgz, _ := filepath.Glob(filepath.Join(cache, "mise-linux-x64-*.tgz"))
	if len(tgz) != 1 {
		t.Fatalf("the buildkit fixture's mise tarball is missing (run scripts/fixtures/30-buildkit.sh): %v", tgz)
	}
	return map[string]any{"buildkitd_config": string(cfg), "mise_source": tgz[0]}
}

// railpackFreshBuildKit removes the managed buildkitd and its cache volume,
// so that the first deployment is a first build on a new server.
func railpackFreshBuildKit(t *testing.T) {
	t.Helper()
	cli := dockertest.EngineClient(t)
	ctx := context.Background()
	if err := cli.ContainerRemove(ctx, "berth-buildkitd", container.RemoveOptions{Force: true}); err != nil && !dockertest.IsNotFound(err) {
		t.Fatal(err)
	}
	if err := cli.VolumeRemove(ctx, "berth-buildkitd-state", true); err != nil && !dockertest.IsNotFound(err) {
		t.Fatal(err)
	}
}

// TestRailpack deploys a repository without a Dockerfile (a start.sh and
// the static test backend: Railpack's shell provider) with build_type
// railpack through a real berth and the managed buildkitd, then redeploys
// after a one-line change and compares the build steps' durations. A build
// command that fails shows its output in the deployment's error.
func TestRailpack(t *testing.T) {
	railpackFreshBuildKit(t)
	s := &server{T: berthtest.Run(t, bins, berthtest.Options{Prefix: "bld", Env: []string{"BERTH_PLUGIN_DIR=" + railpackPluginDir(t)}}), t: t}
	s.Call("PUT", "/plugins/builder.railpack/settings", map[string]any{"settings": railpackFixtures(t)}, 200, nil)

	repo := newRepo(t)
	repo.Commit("app", map[string]string{
		"start.sh":  "#!/bin/sh\nexec ./backend\n",
		"backend":   "@backend",
		"README.md": "version 1\n",
	})
	a := s.newApp(map[string]any{"name": "railpack", "git_repository": repo.Dir, "build_type": "railpack", "port": 8080,
		"build_settings": map[string]any{"build_command": "echo railpack-build-step > built.txt", "env": map[string]any{"GREETING": "hello"}}}, "railpack.bld.test")
	s.Call("PUT", "/applications/"+a.ID+"/variables/MESSAGE", map[string]any{"value": "railpack-shell"}, 200, nil)

	d1 := s.deployAndWait(a, "succeeded")
	s.Expect("railpack.bld.test", "/hello", 200, "railpack-shell /hello")
	log1 := s.logText(d1.ID)
	for _, want := range []string{"shell provider", "echo railpack-build-step", "exporting to docker image format"} {
		if !strings.Contains(log1, want) {
			t.Errorf("the first deployment's log lacks %q:\n%s", want, log1)
		}
	}

	repo.Commit("one line", map[string]string{"README.md": "version 2\n"})
	d2 := s.deployAndWait(a, "succeeded")
	s.Expect("railpack.bld.test", "/again", 200, "railpack-shell /again")
	first, second := d1.stepDuration("build"), d2.stepDuration("build")
	t.Logf("railpack build step through berth: first %s, after a one-line change %s", first, second)
	if second >= first {
		t.Errorf("the rebuild took %s, no faster than the first build (%s)", second, first)
	}

	s.Call("PATCH", "/applications/"+a.ID, map[string]any{"build_settings": map[string]any{"build_command": "echo railpack-e2e-failure >&2; exit 7"}}, 200, nil)
	d3 := s.wait(s.deploy(a).ID, 5*time.Minute, finished)
	if d3.Status != "failed" || !strings.Contains(d3.Error, "railpack-e2e-failure") {
		t.Errorf("a failing build command: status %s, error %q; want failed with the command's output", d3.Status, d3.Error)
	}
	s.Expect("railpack.bld.test", "/still", 200, "railpack-shell /still")
}
