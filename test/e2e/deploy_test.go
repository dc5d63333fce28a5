package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/berthtest"
	"github.com/docker/docker/api/types/swarm"
)

// gitRepo is a local repository standing in for the remote.
type gitRepo = berthtest.Repo

func newRepo(t *testing.T) *gitRepo { return berthtest.NewRepo(t, bins) }

// dockerfile is a small web app image FROM scratch: the test backend,
// answering "<message> <path>", with a health check.
func dockerfile(message string, extra ...string) string {
	lines := []string{
		"FROM scratch",
		"COPY app /app",
		"ENV MESSAGE=" + message,
		`HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ["/app", "healthcheck"]`,
	}
	lines = append(lines, extra...)
	lines = append(lines, `ENTRYPOINT ["/app"]`)
	return strings.Join(lines, "\n") + "\n"
}

// TestDeployFromGit walks the whole life of a git application: deploy,
// redeploy new code, a release failing its health check, rollback, and
// cancelling a running build.
func TestDeployFromGit(t *testing.T) {
	s := newServer(t)
	repo := newRepo(t)
	repo.Commit("v1", map[string]string{"app": "@backend", "Dockerfile": dockerfile("hello-v1")})

	a := s.newApp(map[string]any{"name": "web", "git_repository": repo.Dir, "git_ref": "main", "build_type": "dockerfile", "port": 8080}, "web.e2e.test")
	started := time.Now()
	v1 := s.deployAndWait(a, "succeeded")
	t.Logf("first deployment (clone, build, create service) took %s", time.Since(started).Round(time.Millisecond))
	s.Expect("web.e2e.test", "/hi", 200, "hello-v1 /hi")
	if len(v1.Steps) != 4 {
		t.Errorf("steps = %+v, want source, build, release, route", v1.Steps)
	}
	if log := s.logText(v1.ID); !strings.Contains(log, "Step 1/") && !strings.Contains(log, "COPY app") {
		t.Errorf("build output missing from the log:\n%s", log)
	}

	t.Run("new code", func(t *testing.T) {
		repo.Commit("v2", map[string]string{"Dockerfile": dockerfile("hello-v2")})
		started := time.Now()
		s.deployAndWait(a, "succeeded")
		t.Logf("redeploy took %s", time.Since(started).Round(time.Millisecond))
		s.Expect("web.e2e.test", "/", 200, "hello-v2 /")
	})

	t.Run("failing health check keeps the previous version", func(t *testing.T) {
		repo.Commit("v3 never healthy", map[string]string{"Dockerfile": dockerfile("hello-v3", "ENV HEALTHY_AFTER=1h")})
		d := s.deployAndWait(a, "failed")
		if !strings.Contains(strings.ToLower(d.Error), "health") {
			t.Errorf("error %q does not say the health check failed", d.Error)
		}
		s.Expect("web.e2e.test", "/", 200, "hello-v2 /")
	})

	t.Run("rollback", func(t *testing.T) {
		var rb deployment
		s.Call("POST", "/deployments/"+v1.ID+"/rollback", nil, 202, &rb)
		rb = s.wait(rb.ID, 2*time.Minute, finished)
		if rb.Status != "succeeded" {
			t.Fatalf("rollback %s: %s", rb.Status, rb.Error)
		}
		s.Expect("web.e2e.test", "/", 200, "hello-v1 /")
		var releases struct {
			Items []deployment `json:"items"`
		}
		s.Call("GET", "/applications/"+a.ID+"/releases", nil, 200, &releases)
		if len(releases.Items) < 2 {
			t.Errorf("releases = %d, want at least 2", len(releases.Items))
		}
	})

	t.Run("cancel a running build", func(t *testing.T) {
		repo.Commit("v4 slow build", map[string]string{"Dockerfile": dockerfile("hello-v4", `RUN ["/app", "sleep", "120s"]`)})
		d := s.deploy(a)
		s.wait(d.ID, time.Minute, func(d deployment) bool { return d.Step == "build" })
		time.Sleep(2 * time.Second) // inside the RUN step
		cancelled := time.Now()
		s.Call("POST", "/deployments/"+d.ID+"/cancel", nil, 202, nil)
		d = s.wait(d.ID, 30*time.Second, finished)
		if d.Status != "cancelled" {
			t.Fatalf("status %s (%s), want cancelled", d.Status, d.Error)
		}
		t.Logf("build cancelled in %s", time.Since(cancelled).Round(time.Millisecond))
		s.Expect("web.e2e.test", "/", 200, "hello-v1 /")
	})

	t.Run("queued deployments run one at a time and can be cancelled", func(t *testing.T) {
		first := s.deploy(a)
		second := s.deploy(a)
		s.Call("POST", "/deployments/"+second.ID+"/cancel", nil, 202, nil)
		second = s.wait(second.ID, 10*time.Second, finished)
		if second.Status != "cancelled" {
			t.Fatalf("queued deployment: %s, want cancelled", second.Status)
		}
		s.Call("POST", "/deployments/"+first.ID+"/cancel", nil, 202, nil)
		s.wait(first.ID, 30*time.Second, finished)
	})

	t.Run("logs stream as server-sent events", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://"+s.Addr+"/api/v1/deployments/"+v1.ID+"/logs?follow=true", nil)
		req.Header.Set("Authorization", "Bearer "+s.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		sc := bufio.NewScanner(resp.Body)
		logs, end := 0, false
		for sc.Scan() {
			switch sc.Text() {
			case "event: log":
				logs++
			case "event: end":
				end = true
			}
		}
		if logs < 5 || !end {
			t.Fatalf("stream gave %d log events, end=%v", logs, end)
		}
	})
}

// TestDeployFromImage runs an existing image (no build).
func TestDeployFromImage(t *testing.T) {
	s := newServer(t)
	image := "berth-e2e/backend:" + s.Name
	buildImage(t, s, image)
	a := s.newApp(map[string]any{"name": "img", "image": image, "port": 8080, "replicas": 2}, "img.e2e.test")
	s.Call("PUT", "/applications/"+a.ID+"/variables/MESSAGE", map[string]any{"value": "from-${{project.WHO}}"}, 200, nil)
	var full struct {
		ProjectID string `json:"project_id"`
	}
	s.Call("GET", "/applications/"+a.ID, nil, 200, &full)
	s.Call("PUT", "/projects/"+full.ProjectID+"/variables/WHO", map[string]any{"value": "image"}, 200, nil)
	s.deployAndWait(a, "succeeded")
	s.Expect("img.e2e.test", "/x", 200, "from-image /x")

	// The plugin list shows the installed plugins with their health and settings schema.
	var plugins struct {
		Items []struct {
			ID     string          `json:"id"`
			Kind   string          `json:"kind"`
			Health string          `json:"health"`
			Schema json.RawMessage `json:"settings_schema"`
		} `json:"items"`
	}
	s.Call("GET", "/plugins", nil, 200, &plugins)
	found := map[string]bool{}
	for _, p := range plugins.Items {
		found[p.ID] = p.Health != "" && len(p.Schema) > 2
	}
	for _, id := range []string{"builder.dockerfile", "builder.static", "git.generic"} {
		if !found[id] {
			t.Errorf("plugin %s missing or incomplete in %+v", id, plugins.Items)
		}
	}

	// Plugin settings are validated by the plugin itself, saved sealed and kept.
	s.Call("PUT", "/plugins/builder.dockerfile/settings", map[string]any{"settings": map[string]any{"network_mode": "bogus"}}, 422, nil)
	s.Call("PUT", "/plugins/no.such/settings", map[string]any{"settings": map[string]any{}}, 404, nil)
	s.Call("PUT", "/plugins/builder.dockerfile/settings", map[string]any{"settings": map[string]any{"network_mode": "none"}}, 200, nil)
	var saved struct {
		Settings map[string]any `json:"settings"`
	}
	s.Call("GET", "/plugins/builder.dockerfile/settings", nil, 200, &saved)
	if saved.Settings["network_mode"] != "none" {
		t.Fatalf("saved settings = %v", saved.Settings)
	}
	s.Call("PUT", "/plugins/builder.dockerfile/settings", map[string]any{"settings": map[string]any{}}, 200, nil)

	// The CLI deploys and follows the log to the end, with step progress.
	cli := exec.Command(bins.Berth, "deploy", a.ID, "--follow")
	cli.Env = append(os.Environ(), "BERTH_SERVER=http://"+s.Addr, "BERTH_TOKEN="+s.Key, "BERTH_CONFIG="+filepath.Join(t.TempDir(), "c.json"))
	var stdout, stderr strings.Builder
	cli.Stdout, cli.Stderr = &stdout, &stderr
	if err := cli.Run(); err != nil {
		t.Fatalf("berth deploy --follow: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "step 3/4: release") || !strings.Contains(stderr.String(), "succeeded") ||
		!strings.Contains(stdout.String(), "deployment succeeded") {
		t.Fatalf("berth deploy --follow output:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}

	// A second domain with basic auth and a regex redirect, changed live.
	var d struct{ ID string }
	s.Call("POST", "/applications/"+a.ID+"/domains", map[string]any{"host": "private.e2e.test",
		"basic_auth": []map[string]any{{"username": "ann", "password": "s3cret-pass"}},
		"redirects":  []map[string]any{{"regex": "^http://private\\.e2e\\.test/old/(.*)", "replacement": "http://img.e2e.test/${1}", "permanent": true}}}, 201, &d)
	s.Expect("private.e2e.test", "/old/page", 301, "Location: http://img.e2e.test/page")
	s.Expect("private.e2e.test", "/secret", 401, "")
	s.Call("PATCH", "/domains/"+d.ID, map[string]any{"basic_auth": []any{}}, 200, nil)
	s.Expect("private.e2e.test", "/secret", 200, "from-image /secret")
}

// buildImage builds the test backend into a local image.
func buildImage(t *testing.T, s *server, tag string) {
	t.Helper()
	dir := t.TempDir()
	data, _ := os.ReadFile(bins.Backend)
	os.WriteFile(filepath.Join(dir, "app"), data, 0o755)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n"), 0o644)
	if out, err := exec.Command("docker", "build", "-q", "-t", tag, dir).CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
}

// TestKilledDuringDeploy kills berth during a build and during a rollout:
// after a restart nothing is stuck and the application answers. A build
// killed is failed; a rollout Swarm was already doing is settled from what
// Swarm runs once it ends: succeeded when the new version runs, failed when
// Swarm rolled it back.
func TestKilledDuringDeploy(t *testing.T) {
	s := newServer(t)
	repo := newRepo(t)
	repo.Commit("v1", map[string]string{"app": "@backend", "Dockerfile": dockerfile("kill-v1")})
	a := s.newApp(map[string]any{"name": "kill", "git_repository": repo.Dir, "build_type": "dockerfile", "port": 8080}, "kill.e2e.test")
	s.deployAndWait(a, "succeeded")
	s.Expect("kill.e2e.test", "/", 200, "kill-v1 /")

	for _, tc := range []struct {
		step       string
		dockerfile string
		status     string
		note       string
	}{
		{"build", dockerfile("kill-v2", `RUN ["/app", "sleep", "60s"]`), "failed", "berth stopped"},
		// The release runs as a candidate next to the untouched service
		// (core/release): killed while it runs, the candidate is removed at
		// start-up and the previous version never stopped serving, whether
		// the new one was healthy or never would be.
		{"release", dockerfile("kill-v3"), "failed", "the previous version keeps serving"},
		{"release", dockerfile("kill-v4", "ENV HEALTHY_AFTER=1h"), "failed", "the previous version keeps serving"},
	} {
		t.Run("during "+tc.step+" "+tc.status, func(t *testing.T) {
			repo.Commit("slow "+tc.step, map[string]string{"Dockerfile": tc.dockerfile})
			d := s.deploy(a)
			s.wait(d.ID, 2*time.Minute, func(d deployment) bool { return d.Step == tc.step })
			if tc.step == "release" { // kill once the candidate runs
				s.waitFor("the release's candidate service", time.Minute, func() bool {
					_, _, err := s.Docker.ServiceInspectWithRaw(context.Background(), a.ServiceName+"-next", swarm.ServiceInspectOptions{})
					return err == nil
				})
				time.Sleep(time.Second)
			} else {
				time.Sleep(time.Second)
			}
			s.Kill()
			s.Expect("kill.e2e.test", "/", 200, "") // Traefik and the service keep serving
			s.Start()
			d = s.wait(d.ID, 2*time.Minute, finished)
			if d.Status != tc.status {
				t.Fatalf("interrupted deployment: %s %q, want %s", d.Status, d.Error, tc.status)
			}
			if log := s.logText(d.ID); !strings.Contains(d.Error, tc.note) && !strings.Contains(log, tc.note) {
				t.Fatalf("interrupted deployment %s: error %q, log:\n%s\nwant %q", d.Status, d.Error, log, tc.note)
			}
			s.Expect("kill.e2e.test", "/", 200, "")
			if tc.step == "release" {
				s.waitFor("the candidate service removed", time.Minute, func() bool {
					_, _, err := s.Docker.ServiceInspectWithRaw(context.Background(), a.ServiceName+"-next", swarm.ServiceInspectOptions{})
					return err != nil
				})
			}
			// The queue moves on: a new deployment runs to the end.
			after := "kill-after-" + tc.step + "-" + tc.status
			repo.Commit("after "+tc.step, map[string]string{"Dockerfile": dockerfile(after)})
			s.deployAndWait(a, "succeeded")
			s.Expect("kill.e2e.test", "/", 200, after+" /")
		})
	}
}

// TestDeployStaticSite builds a directory into a FROM-scratch image with the
// static builder and serves it as a single-page app.
func TestDeployStaticSite(t *testing.T) {
	s := newServer(t)
	repo := newRepo(t)
	repo.Commit("site", map[string]string{
		"public/index.html":    "<!doctype html><title>shop</title><h1>static-v1</h1>",
		"public/assets/app.js": "console.log('hi')",
		"README.md":            "not published",
	})
	a := s.newApp(map[string]any{"name": "site", "git_repository": repo.Dir, "build_type": "static", "port": 8080,
		"build_settings": map[string]any{"spa": true}}, "site.e2e.test")
	s.deployAndWait(a, "succeeded")
	s.Expect("site.e2e.test", "/", 200, "static-v1")
	s.Expect("site.e2e.test", "/assets/app.js", 200, "console.log")
	s.Expect("site.e2e.test", "/some/client/route", 200, "static-v1") // SPA fallback
	s.Expect("site.e2e.test", "/README.md", 404, "")

	repo.Commit("site v2", map[string]string{"public/index.html": "<!doctype html><title>shop</title><h1>static-v2</h1>"})
	s.deployAndWait(a, "succeeded")
	s.Expect("site.e2e.test", "/", 200, "static-v2")
}
