package builds_test

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/buildpacks/cnbtest"
	"github.com/berth-dev/berth/test/dockertest"
)

// TestCNBHeroku deploys a repository without a Dockerfile (a Procfile, a
// static binary and a deps.lock) with build_type heroku through a real
// berth, with the offline test builder as the app's builder image (trusted
// as the plugin's default_builder), then redeploys after a one-line change:
// the dependencies' layer (an 8 s install) comes from the app's cache
// volume. The Paketo
// plugin shares the engine and is covered at plugin level.
func TestCNBHeroku(t *testing.T) {
	cli := dockertest.EngineClient(t)
	im := cnbtest.Fixtures(t, cli)
	s := newServer(t)
	s.Call("PUT", "/plugins/builder.heroku/settings", map[string]any{"settings": map[string]any{"default_builder": im.Builder}}, 200, nil)

	repo := newRepo(t)
	repo.Commit("app", map[string]string{
		"Procfile":  "web: ./backend\n",
		"backend":   "@backend",
		"deps.lock": "left-pad 1.3.0\n",
		"README.md": "version 1\n",
	})
	a := s.newApp(map[string]any{"name": "cnb", "git_repository": repo.Dir, "build_type": "heroku", "port": 8080,
		"build_settings": map[string]any{"builder_image": im.Builder, "build_env": map[string]any{"GREETING": "hello", "DEPS_INSTALL_SECONDS": "8"}}}, "cnb.bld.test")
	s.Call("PUT", "/applications/"+a.ID+"/variables/MESSAGE", map[string]any{"value": "cnb-heroku"}, 200, nil)
	cnbtest.Cleanup(t, cli, "berth/"+a.ServiceName)

	d1 := s.deployAndWait(a, "succeeded")
	s.Expect("cnb.bld.test", "/hello", 200, "cnb-heroku /hello")
	log1 := s.logText(d1.ID)
	for _, want := range []string{"===> DETECTING", "deps: installing dependencies", "procfile: process web: ./backend", "GREETING=hello"} {
		if !strings.Contains(log1, want) {
			t.Errorf("the first deployment's log lacks %q:\n%s", want, log1)
		}
	}

	repo.Commit("one line", map[string]string{"README.md": "version 2\n"})
	d2 := s.deployAndWait(a, "succeeded")
	s.Expect("cnb.bld.test", "/again", 200, "cnb-heroku /again")
	if log2 := s.logText(d2.ID); !strings.Contains(log2, "deps: reusing cached dependencies") {
		t.Errorf("the second build did not reuse the cache:\n%s", log2)
	}
	first, second := d1.stepDuration("build"), d2.stepDuration("build")
	t.Logf("build step: first %s, after a one-line change %s", first, second)
	if second >= first-4*time.Second {
		t.Errorf("the rebuild took %s, the first build %s: the cache saved less than half the 8 s install", second, first)
	}
}
