package builds_test

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/nixpacks"
)

// TestNixpacksDeploy deploys an app without a Dockerfile with the Nixpacks
// builder and the stand-in nixpacks: chosen by auto (the instance's default
// builder set to nixpacks), built, answering through Traefik, rebuilt
// faster after a one-line change; a failing build shows the tool's error,
// a missing binary the install hint, and a cancelled build stops.
func TestNixpacksDeploy(t *testing.T) {
	s := newServer(t)
	base := nixpackstest.BaseImage(t)
	app := nixpackstest.AppFiles(t, base, "hello from nixpacks")
	app["web"] = "@backend"

	// Not installed: the deployment says how to install it.
	s.Call("PUT", "/plugins/builder.nixpacks/settings", map[string]any{"settings": map[string]any{"path": "/nonexistent/nixpacks"}}, 200, nil)
	repo := newRepo(t)
	repo.Commit("app", app)
	missing := s.newApp(map[string]any{"name": "npmissing", "git_repository": repo.Dir, "git_ref": "main", "build_type": "nixpacks", "port": 8080}, "")
	d := s.deployAndWait(missing, "failed")
	if !strings.Contains(d.Error, "nixpacks is not installed") || !strings.Contains(d.Error, "https://nixpacks.com/docs/install") {
		t.Errorf("deployment error = %q, want the not-installed hint", d.Error)
	}

	s.Call("PUT", "/plugins/builder.nixpacks/settings", map[string]any{"settings": map[string]any{"path": nixpackstest.StandIn(t)}}, 200, nil)
	s.Call("PUT", "/instance/settings", map[string]any{"default_builder": "nixpacks"}, 200, nil)
	a := s.newApp(map[string]any{"name": "np", "git_repository": repo.Dir, "git_ref": "main", "port": 8080}, "nixpacks.bld.test")
	first := s.deployAndWait(a, "succeeded")
	s.Expect("nixpacks.bld.test", "/", 200, "hello from nixpacks /")
	log := s.logText(first.ID)
	for _, want := range []string{"auto: chose builder.nixpacks — nixpacks.toml found; builder.dockerfile: no Dockerfile", "Saved output to", "Step 1/"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}

	// A one-line change the install phase does not see.
	repo.Commit("change", map[string]string{"message.txt": "hello again\n"})
	second := s.deployAndWait(a, "succeeded")
	s.Expect("nixpacks.bld.test", "/", 200, "hello again /")
	t.Logf("nixpacks build step through berth: first %s, after a one-line change %s", first.stepDuration("build"), second.stepDuration("build"))
	if !strings.Contains(s.logText(second.ID), "Using cache") || second.stepDuration("build") >= first.stepDuration("build") {
		t.Errorf("the rebuild took %s, the first build %s", second.stepDuration("build"), first.stepDuration("build"))
	}

	// The tool's error, and the engine's.
	bad := newRepo(t)
	bad.Commit("node without start", map[string]string{"package.json": "{}"})
	b := s.newApp(map[string]any{"name": "npbad", "git_repository": bad.Dir, "git_ref": "main", "build_type": "nixpacks", "port": 8080}, "")
	if d := s.deployAndWait(b, "failed"); !strings.Contains(d.Error, "Error: No start command could be found") {
		t.Errorf("deployment error = %q, want nixpacks' own error", d.Error)
	}
	s.Call("PATCH", "/applications/"+b.ID, map[string]any{"build_settings": map[string]any{"start_cmd": "true", "build_cmd": "echo failing on purpose && exit 3"}}, 200, nil)
	bad.Commit("config", map[string]string{"nixpacks.toml": "buildImage = '" + base + "'\n"})
	if d := s.deployAndWait(b, "failed"); !strings.Contains(d.Error, "returned a non-zero code: 3") {
		t.Errorf("deployment error = %q, want the failing command's", d.Error)
	}

	// Cancelling while nixpacks runs stops the deployment at once.
	slow := newRepo(t)
	slow.Commit("slow", map[string]string{".nixpacks-standin-delay": "120", "nixpacks.toml": "[start]\ncmd = 'true'\n"})
	c := s.newApp(map[string]any{"name": "npslow", "git_repository": slow.Dir, "git_ref": "main", "build_type": "nixpacks", "port": 8080}, "")
	d = s.deploy(c)
	s.wait(d.ID, 2*time.Minute, func(deployment) bool { return strings.Contains(s.logText(d.ID), "stand-in: waiting") })
	cancelled := time.Now()
	s.Call("POST", "/deployments/"+d.ID+"/cancel", nil, 202, nil)
	d = s.wait(d.ID, 30*time.Second, finished)
	t.Logf("a nixpacks build ended %s after the cancel request", time.Since(cancelled).Round(time.Millisecond))
	if d.Status != "cancelled" {
		t.Errorf("status %s (%s) after cancel", d.Status, d.Error)
	}
}
