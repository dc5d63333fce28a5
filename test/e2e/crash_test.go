package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/berth-dev/berth/core/testhook"
	"github.com/berth-dev/berth/test/dbimages"
	"github.com/berth-dev/berth/test/dockertest"
)

// Fault injection: berth is SIGKILLed at a precise step (the test-only
// BERTH_TEST_PAUSE_AT makes it block there), restarted, and must have left
// nothing stuck: no record queued or running for ever, no service at zero
// replicas, and the next run of the same thing succeeds.

// restart kills berth (if running) and starts it again, paused at point
// ("" for none).
func (s *server) restart(point string) {
	s.t.Helper()
	s.Restart(testhook.Env, point)
}

// pausedCount counts how often berth's output says it paused at point.
func (s *server) pausedCount(point string) int {
	return strings.Count(s.Output(), "testhook: paused at "+point)
}

// waitPaused waits until berth paused at point n times in all.
func (s *server) waitPaused(point string, n int, timeout time.Duration) {
	s.t.Helper()
	s.waitFor(fmt.Sprintf("berth to pause at %s", point), timeout, func() bool { return s.pausedCount(point) >= n })
}

// noUnfinishedDeployments fails the test when one of the application's deployments is
// still queued or running.
func (s *server) noUnfinishedDeployments(appID string) {
	s.t.Helper()
	var list struct {
		Items []deployment `json:"items"`
	}
	s.Call("GET", "/applications/"+appID+"/deployments", nil, 200, &list)
	for _, d := range list.Items {
		if d.Status == "queued" || d.Status == "running" {
			s.t.Fatalf("deployment %s is still %s after the restart", d.ID, d.Status)
		}
	}
}

// replicas returns a service's desired and running task counts.
func (s *server) replicas(service string) (desired uint64, running int) {
	s.t.Helper()
	ctx := context.Background()
	svc, _, err := s.Docker.ServiceInspectWithRaw(ctx, service, swarm.ServiceInspectOptions{})
	if err != nil {
		s.t.Fatalf("inspect %s: %v", service, err)
	}
	if svc.Spec.Mode.Replicated != nil && svc.Spec.Mode.Replicated.Replicas != nil {
		desired = *svc.Spec.Mode.Replicated.Replicas
	}
	tasks, err := s.Docker.TaskList(ctx, swarm.TaskListOptions{Filters: serviceTaskFilter(service)})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, t := range tasks {
		if t.Status.State == swarm.TaskStateRunning && t.DesiredState == swarm.TaskStateRunning {
			running++
		}
	}
	return desired, running
}

func serviceTaskFilter(service string) filters.Args {
	return filters.NewArgs(filters.Arg("service", service))
}

// TestKilledAtEachDeployStep kills berth while a deployment is queued
// (its job picked up), fetching its source, building, and releasing
// (before Swarm is asked for anything): each time the deployment is
// settled as failed with the reason, the previous version keeps serving,
// and the next deployment succeeds.
func TestKilledAtEachDeployStep(t *testing.T) {
	s := newServer(t)
	repo := newRepo(t)
	repo.Commit("v1", map[string]string{"app": "@backend", "Dockerfile": dockerfile("step-v1")})
	a := s.newApp(map[string]any{"name": "steps", "git_repository": repo.Dir, "build_type": "dockerfile", "port": 8080}, "steps.e2e.test")
	s.deployAndWait(a, "succeeded")
	s.Expect("steps.e2e.test", "/", 200, "step-v1 /")

	for _, tc := range []struct {
		step   string
		reason string
	}{
		{"queued", "lost this deployment's queue job before it started"},
		{"source", "berth stopped during the deployment (in the source step)"},
		{"build", "berth stopped during the deployment (in the build step)"},
		{"release", "the previous version keeps serving (the new one was never applied)"},
	} {
		t.Run(tc.step, func(t *testing.T) {
			start := time.Now()
			point := "deploy." + tc.step
			s.restart(point)
			paused := s.pausedCount(point)
			repo.Commit("killed at "+tc.step, map[string]string{"Dockerfile": dockerfile("step-killed-" + tc.step)})
			d := s.deploy(a)
			s.waitPaused(point, paused+1, 2*time.Minute)
			s.Kill()
			s.Expect("steps.e2e.test", "/", 200, "step-") // Traefik and the service keep serving
			s.restart("")
			d = s.wait(d.ID, time.Minute, finished)
			if d.Status != "failed" || !strings.Contains(d.Error, tc.reason) {
				t.Fatalf("interrupted deployment: %s %q, want failed %q", d.Status, d.Error, tc.reason)
			}
			s.noUnfinishedDeployments(a.ID)
			if desired, running := s.replicas(a.ServiceName); desired != 1 || running != 1 {
				t.Fatalf("service after the restart: desired %d running %d, want 1", desired, running)
			}
			s.Expect("steps.e2e.test", "/", 200, "step-")
			// The queue moves on: a new deployment runs to the end.
			repo.Commit("after "+tc.step, map[string]string{"Dockerfile": dockerfile("step-after-" + tc.step)})
			s.deployAndWait(a, "succeeded")
			s.Expect("steps.e2e.test", "/", 200, "step-after-"+tc.step+" /")
			t.Logf("killed at %s and recovered in %s", tc.step, time.Since(start).Round(time.Second))
		})
	}
}

type backupPolicy struct {
	ID string `json:"id"`
}

// TestKilledDuringBackups kills berth while a volume backup with
// stop_service has the application scaled to zero and while a database
// backup dumps: after a restart the application runs its two replicas
// again, both backups are failed with the reason, and the next runs of
// both policies succeed.
func TestKilledDuringBackups(t *testing.T) {
	images := dbimages.Ensure(t)
	s := newServer(t)
	var proj struct {
		OrganizationID string `json:"organization_id"`
		Environments   []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	s.Call("POST", "/projects", map[string]any{"name": "crash-backups"}, 201, &proj)
	envID := proj.Environments[0].ID
	var dest struct {
		ID string `json:"id"`
	}
	s.Call("POST", "/organizations/"+proj.OrganizationID+"/backup-destinations", map[string]any{
		"name": "disk", "plugin_id": "backup.local", "settings": map[string]any{"directory": dockertest.SearchableTempDir(t)}}, 201, &dest)

	// An application with a named volume and two replicas.
	image := s.Name + "-vol:v1"
	buildImage(t, s, image)
	var a app
	s.Call("POST", "/environments/"+envID+"/applications", map[string]any{"name": "vol", "source_type": "image", "image": image,
		"port": 8080, "replicas": 2, "mounts": []map[string]any{{"type": "volume", "source": "data", "target": "/data"}}}, 201, &a)
	t.Cleanup(func() { s.removeAppVolumes(a) })
	s.deployAndWait(a, "succeeded")
	var volPolicy backupPolicy
	s.Call("POST", "/applications/"+a.ID+"/backup-policies", map[string]any{"destination_id": dest.ID, "schedule": "0 0 1 1 *",
		"retries": 0, "enabled": true, "stop_service": true}, 201, &volPolicy)

	// A PostgreSQL database.
	var db database
	s.Call("POST", "/environments/"+envID+"/databases", map[string]any{"name": "crashdb", "engine": "postgres", "image": images.Postgres}, 201, &db)
	s.Call("POST", "/databases/"+db.ID+"/deploy", nil, 200, nil)
	var conn struct{ User, Password, Database string }
	s.Call("GET", "/databases/"+db.ID+"/connection", nil, 200, &conn)
	s.waitFor("postgres accepting connections", 60*time.Second, func() bool {
		_, err := s.execErr(db.ServiceName, []string{"PGPASSWORD=" + conn.Password},
			"psql", "-h", "127.0.0.1", "-U", conn.User, "-d", conn.Database, "-c", "select 1")
		return err == nil
	})
	var dbPolicy backupPolicy
	s.Call("POST", "/databases/"+db.ID+"/backup-policies", map[string]any{"destination_id": dest.ID, "schedule": "0 0 1 1 *",
		"retries": 0, "enabled": true}, 201, &dbPolicy)

	// Both backups run and pause mid-copy: the application is at zero.
	const point = "backup.copy"
	s.restart(point)
	var volRun, dbRun backupRecord
	s.Call("POST", "/backup-policies/"+volPolicy.ID+"/run", nil, 202, &volRun)
	s.Call("POST", "/backup-policies/"+dbPolicy.ID+"/run", nil, 202, &dbRun)
	s.waitPaused(point, 2, 2*time.Minute)
	if desired, running := s.replicas(a.ServiceName); desired != 0 || running != 0 {
		t.Fatalf("during the volume copy: desired %d running %d, want 0", desired, running)
	}
	s.Kill()
	s.restart("")

	s.waitFor("the application's replicas back", time.Minute, func() bool {
		desired, running := s.replicas(a.ServiceName)
		return desired == 2 && running == 2
	})
	for _, b := range []backupRecord{volRun, dbRun} {
		var got backupRecord
		s.Call("GET", "/backups/"+b.ID, nil, 200, &got)
		if got.Status != "failed" || !strings.Contains(got.Error, "berth stopped during the backup") {
			t.Fatalf("interrupted backup %s: %s %q", b.ID, got.Status, got.Error)
		}
	}
	// The next runs of both policies succeed (nothing blocks them).
	for _, p := range []backupPolicy{volPolicy, dbPolicy} {
		var run backupRecord
		s.Call("POST", "/backup-policies/"+p.ID+"/run", nil, 202, &run)
		s.waitFor("backup "+run.ID+" to finish", 2*time.Minute, func() bool {
			s.Call("GET", "/backups/"+run.ID, nil, 200, &run)
			return run.Status == "succeeded" || run.Status == "failed"
		})
		if run.Status != "succeeded" {
			t.Fatalf("backup after the restart: %s %q", run.Status, run.Error)
		}
	}
	if desired, running := s.replicas(a.ServiceName); desired != 2 || running != 2 {
		t.Fatalf("after the second volume backup: desired %d running %d, want 2", desired, running)
	}
}

// TestKilledDuringPreviewCreation kills berth after a preview's
// application, domain, deployment and job were written but before their
// transaction committed: after a restart none of them exists, and the
// pull request's next delivery creates the preview and deploys it.
func TestKilledDuringPreviewCreation(t *testing.T) {
	s := newServer(t)
	repo := newRepo(t)
	repo.Commit("v1", map[string]string{"app": "@backend", "Dockerfile": dockerfile("crash-main")})
	gh := exampleFormat.host(t, s, repo)
	spec := map[string]any{"name": "crashpr", "git_ref": "main", "build_type": "dockerfile", "port": 8080,
		"preview": map[string]any{"enabled": true, "host_pattern": "pr-{number}.{app}.crash.e2e.test"}}
	for k, v := range gh.app {
		spec[k] = v
	}
	a := s.newApp(spec, "crashpr.e2e.test")
	var hook struct {
		GitURL string `json:"git_url"`
		Secret string `json:"secret"`
	}
	s.Call("GET", "/applications/"+a.ID+"/webhook", nil, 200, &hook)
	u, _ := url.Parse(hook.GitURL)
	repo.Git("-C", repo.Dir, "checkout", "-q", "-b", "feature")
	repo.Commit("feature", map[string]string{"Dockerfile": dockerfile("crash-pr")})
	head := repo.Git("-C", repo.Dir, "rev-parse", "HEAD")
	repo.Git("-C", repo.Dir, "checkout", "-q", "main")
	h, body := exampleFormat.pullRequest(gh, hook.Secret, 3, "opened", "feature", head)

	const point = "preview.create"
	s.restart(point)
	go func() { // answered only by the kill
		req, _ := http.NewRequest("POST", "http://"+s.Addr+u.Path, strings.NewReader(string(body)))
		req.Header = h
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	s.waitPaused(point, 1, time.Minute)
	s.Kill()
	s.restart("")

	var previews struct {
		Items []app `json:"items"`
	}
	s.Call("GET", "/applications/"+a.ID+"/previews", nil, 200, &previews)
	if len(previews.Items) != 0 {
		t.Fatalf("a preview survived the killed transaction: %+v", previews.Items)
	}
	services, err := s.Docker.ServiceList(context.Background(), serviceListOptions(s.Name))
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range services {
		if strings.Contains(svc.Spec.Name, "pr-3") {
			t.Fatalf("a preview service exists: %s", svc.Spec.Name)
		}
	}

	status, answer := s.webhook(u.Path, h, body)
	if status != 202 {
		t.Fatalf("pull request delivered again: %d %s", status, answer)
	}
	var opened struct {
		DeploymentID string `json:"deployment_id"`
		PreviewID    string `json:"preview_id"`
	}
	json.Unmarshal(answer, &opened)
	d := s.wait(opened.DeploymentID, 3*time.Minute, finished)
	if d.Status != "succeeded" {
		t.Fatalf("preview deployment %s: %s\n%s", d.Status, d.Error, s.logText(d.ID))
	}
	s.Expect("pr-3.crashpr.crash.e2e.test", "/", 200, "crash-pr /")
	s.noUnfinishedDeployments(opened.PreviewID)
}

// TestRestartRepublishesRoutes: a route file left pointing at task
// addresses (a handoff interrupted by a kill) is replaced at start-up by
// routes generated from the desired state.
func TestRestartRepublishesRoutes(t *testing.T) {
	s := newServer(t)
	image := s.Name + "-routes:v1"
	buildImage(t, s, image)
	a := s.newApp(map[string]any{"name": "routes", "source_type": "image", "image": image, "port": 8080}, "routes.e2e.test")
	s.deployAndWait(a, "succeeded")
	s.Expect("routes.e2e.test", "/", 200, "")
	s.Kill()
	dir := filepath.Join(s.DataDir, "traefik", "dynamic")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dynamic configuration in %s: %v", dir, err)
	}
	// What an interrupted handoff leaves: the service's backend is a list
	// of task addresses (here, one that answers nothing).
	for _, f := range files {
		data, _ := os.ReadFile(f)
		stale := strings.ReplaceAll(string(data), "http://tasks."+a.ServiceName+":8080", "http://10.255.255.1:8080")
		if err := os.WriteFile(f, []byte(stale), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.restart("")
	s.Expect("routes.e2e.test", "/", 200, "")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if strings.Contains(string(data), "10.255.255.1") {
			t.Fatalf("the stale handoff list survived the restart in %s", f)
		}
	}
}
