package teardown_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	dockerswarm "github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/dbservice"
	"github.com/berth-dev/berth/core/deploy"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
	"github.com/berth-dev/berth/core/teardown"
	"github.com/berth-dev/berth/test/dbimages"
	"github.com/berth-dev/berth/test/dockertest"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	dockertest.RemoveImages(appImage)
	os.Exit(code)
}

// world is a store, the real Docker Swarm, the API with the real teardown,
// and one project with two environments, each running a deployed
// application (with a config file and a named volume) and a database.
type world struct {
	t        *testing.T
	ctx      context.Context
	store    *store.Store
	docker   *client.Client
	mgr      *swarm.Manager
	srv      *api.Server
	key      string
	instance string
	proxyNet string
	project  store.Project
	envs     []envObjects
}

// envObjects is what one environment runs.
type envObjects struct {
	env       store.Environment
	app       store.Application
	appVolume string
	db        store.Database
}

var testKey = bytes.Repeat([]byte{9}, secrets.KeySize)

// appImage is the test backend, built once for the package's tests.
var (
	appImage     string
	appImageOnce sync.Once
)

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	box, _ := secrets.New(testKey)
	st, err := store.Open(ctx, pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cli := dockertest.Client(t)
	appImageOnce.Do(func() {
		tag := "berth-test/teardown-backend:" + strings.ToLower(dockertest.UniqueName("t"))
		dockertest.BuildGoImage(t, cli, "./test/backend", tag, true)
		appImage = tag
	})
	if appImage == "" {
		t.Fatal("the test backend image could not be built (see the first test's failure)")
	}
	w := &world{t: t, ctx: ctx, store: st, docker: cli, mgr: swarm.NewManager(cli, nil),
		instance: dockertest.UniqueName("td")}
	w.proxyNet = w.instance + "-proxy"
	if err := w.mgr.EnsureNetwork(ctx, w.proxyNet, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.removeLeftovers)
	td := teardown.New(teardown.Deps{Store: st, Swarm: w.mgr, Databases: dbservice.New(w.mgr, cli, w.instance),
		Instance: w.instance, Logger: slog.New(slog.DiscardHandler)})
	w.srv = api.New(api.Options{Store: st, CSRFKey: box.Derive("csrf"), Teardown: td, Logger: slog.New(slog.DiscardHandler)})

	u, org, err := st.Setup(ctx, store.SetupInput{Email: "owner@example.com", Name: "Owner", PasswordHash: "x", Organization: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	w.key = auth.NewToken(auth.APIKeyPrefix)
	if _, err := st.CreateAPIKey(ctx, u.ID, "test", w.key, nil); err != nil {
		t.Fatal(err)
	}
	var prod store.Environment
	if w.project, prod, err = st.CreateProject(ctx, org.ID, "shop", ""); err != nil {
		t.Fatal(err)
	}
	staging, err := st.CreateEnvironment(ctx, w.project, "staging")
	if err != nil {
		t.Fatal(err)
	}
	redis := dbimages.Ensure(t).Redis
	for _, e := range []store.Environment{prod, staging} {
		w.envs = append(w.envs, w.deployEnvironment(e, redis))
	}
	return w
}

// deployEnvironment deploys an application and a database into e exactly
// as the release step and the database service do.
func (w *world) deployEnvironment(e store.Environment, redisImage string) envObjects {
	w.t.Helper()
	a, err := w.store.CreateApplication(w.ctx, e.ID, store.ApplicationSpec{Name: "web", SourceType: "image",
		Image: appImage, Port: 8080, Replicas: 1})
	if err != nil {
		w.t.Fatal(err)
	}
	// The release mounts the application's own volume for its source.
	o := envObjects{env: e, app: a, appVolume: store.DefaultVolumeName(a, "uploads")}
	a.Mounts = []store.Mount{{Type: "volume", Source: "uploads", Target: "/uploads"}}
	a.Files = []store.File{{Target: "/etc/web.conf", Content: "greeting = hello\n", Mode: 0o444}}
	network := deploy.EnvironmentNetwork(w.instance, a)
	if err := w.mgr.EnsureNetwork(w.ctx, network, map[string]string{"dev.berth.environment": e.ID.String()}); err != nil {
		w.t.Fatal(err)
	}
	spec := deploy.ServiceSpec(w.instance, w.proxyNet, a, store.Deployment{ID: uuid.New()}, appImage,
		map[string]string{"MESSAGE": "hi"})
	if _, err := w.mgr.Deploy(w.ctx, spec, nil); err != nil {
		w.t.Fatal(err)
	}
	creds, err := database.NewCredentials(database.Redis, "cache")
	if err != nil {
		w.t.Fatal(err)
	}
	if o.db, err = w.store.CreateDatabase(w.ctx, e.ID, store.DatabaseSpec{Name: "cache", Engine: database.Redis,
		Image: redisImage}, creds); err != nil {
		w.t.Fatal(err)
	}
	if err := dbservice.New(w.mgr, w.docker, w.instance).Deploy(w.ctx, o.db, nil); err != nil {
		w.t.Fatal(err)
	}
	// Everything is really there before the deletion.
	w.assertServices(o, true)
	return o
}

// deleteVia sends DELETE path with the owner's key and returns the status.
func (w *world) deleteVia(path string) int {
	w.t.Helper()
	req := httptest.NewRequest("DELETE", path, nil)
	req.Header.Set("Authorization", "Bearer "+w.key)
	resp, err := w.srv.App().Test(req, -1)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		w.t.Logf("DELETE %s answered %d: %s", path, resp.StatusCode, body.String())
	}
	return resp.StatusCode
}

// assertServices checks whether o's services, configs and network exist
// (want) or are all gone, asking Docker by name and by berth's labels.
func (w *world) assertServices(o envObjects, want bool) {
	w.t.Helper()
	ctx := w.ctx
	var found []string
	for _, name := range []string{o.app.ServiceName, o.db.ServiceName} {
		if _, _, err := w.docker.ServiceInspectWithRaw(ctx, name, dockerswarm.ServiceInspectOptions{}); err == nil {
			found = append(found, "service "+name)
		}
		configs, err := w.docker.ConfigList(ctx, dockerswarm.ConfigListOptions{Filters: filters.NewArgs(
			filters.Arg("label", swarm.LabelService+"="+name))})
		if err != nil {
			w.t.Fatal(err)
		}
		for _, c := range configs {
			found = append(found, "config "+c.Spec.Name)
		}
	}
	for _, f := range []filters.Args{
		filters.NewArgs(filters.Arg("label", "dev.berth.environment="+o.env.ID.String())),
		filters.NewArgs(filters.Arg("label", swarm.LabelAppID+"="+o.app.ID.String())),
		filters.NewArgs(filters.Arg("label", dbservice.LabelDatabaseID+"="+o.db.ID.String())),
	} {
		services, err := w.docker.ServiceList(ctx, dockerswarm.ServiceListOptions{Filters: f})
		if err != nil {
			w.t.Fatal(err)
		}
		for _, s := range services {
			found = append(found, "service "+s.Spec.Name)
		}
		nets, err := w.docker.NetworkList(ctx, network.ListOptions{Filters: f})
		if err != nil {
			w.t.Fatal(err)
		}
		for _, n := range nets {
			found = append(found, "network "+n.Name)
		}
	}
	netName := deploy.EnvironmentNetworkOf(w.instance, o.env.ID)
	if _, err := w.docker.NetworkInspect(ctx, netName, network.InspectOptions{}); err == nil {
		found = append(found, "network "+netName)
	}
	secrets, err := w.docker.SecretList(ctx, dockerswarm.SecretListOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.HasPrefix(s.Spec.Name, w.instance) || s.Spec.Labels["dev.berth.environment"] == o.env.ID.String() ||
			s.Spec.Labels[swarm.LabelService] == o.app.ServiceName || s.Spec.Labels[swarm.LabelService] == o.db.ServiceName {
			found = append(found, "secret "+s.Spec.Name)
		}
	}
	slices.Sort(found)
	found = slices.Compact(found)
	if want {
		// service app + db, one config, the network (found by name and
		// label): at least these.
		for _, kind := range []string{"service " + o.app.ServiceName, "service " + o.db.ServiceName, "network " + netName} {
			if !slices.Contains(found, kind) {
				w.t.Fatalf("environment %s: %s is missing before the deletion (found %v)", o.env.Name, kind, found)
			}
		}
		return
	}
	if len(found) > 0 {
		w.t.Errorf("environment %s: left behind after the deletion: %v", o.env.Name, found)
	}
}

// volumeExists reports whether the named volume exists.
func (w *world) volumeExists(name string) bool {
	w.t.Helper()
	_, err := w.docker.VolumeInspect(w.ctx, name)
	if err != nil && !dockertest.IsNotFound(err) {
		w.t.Fatal(err)
	}
	return err == nil
}

// assertVolumes checks whether o's database and application volumes exist.
func (w *world) assertVolumes(o envObjects, want bool) {
	w.t.Helper()
	for _, v := range []string{o.db.VolumeName, o.appVolume} {
		if got := w.volumeExists(v); got != want {
			w.t.Errorf("environment %s: volume %s exists = %t, want %t", o.env.Name, v, got, want)
		}
	}
}

// removeLeftovers removes whatever a failed test left in Docker.
func (w *world) removeLeftovers() {
	ctx := context.Background()
	for _, o := range w.envs {
		_ = w.mgr.Remove(ctx, o.app.ServiceName)
		_ = w.mgr.Remove(ctx, o.db.ServiceName)
		_ = w.mgr.RemoveNetwork(ctx, deploy.EnvironmentNetworkOf(w.instance, o.env.ID))
		_ = swarm.RemoveVolume(ctx, w.docker, o.db.VolumeName)
		_ = swarm.RemoveVolume(ctx, w.docker, o.appVolume)
	}
	_ = w.mgr.RemoveNetwork(ctx, w.proxyNet)
}

func TestDeleteProjectRemovesEverything(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		query         string
		volumesRemain bool
	}{
		{name: "volumes kept by default", query: "", volumesRemain: true},
		{name: "delete_volumes removes them", query: "?delete_volumes=true", volumesRemain: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			start := time.Now()
			if got := w.deleteVia("/api/v1/projects/" + w.project.ID.String() + tt.query); got != http.StatusNoContent {
				t.Fatalf("DELETE project = %d, want 204", got)
			}
			t.Logf("project deleted in %s", time.Since(start).Round(time.Millisecond))
			if _, err := w.store.GetProject(w.ctx, w.project.ID); err == nil {
				t.Error("the project record is still there")
			}
			for _, o := range w.envs {
				w.assertServices(o, false)
				w.assertVolumes(o, tt.volumesRemain)
			}
			if _, err := w.docker.NetworkInspect(w.ctx, w.proxyNet, network.InspectOptions{}); err != nil {
				t.Errorf("the shared proxy network was removed: %v", err)
			}
		})
	}
}

func TestDeleteEnvironmentRemovesOnlyItsObjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		query         string
		volumesRemain bool
	}{
		{name: "volumes kept by default", query: "", volumesRemain: true},
		{name: "delete_volumes removes them", query: "?delete_volumes=1", volumesRemain: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			gone, kept := w.envs[1], w.envs[0]
			if got := w.deleteVia("/api/v1/environments/" + gone.env.ID.String() + tt.query); got != http.StatusNoContent {
				t.Fatalf("DELETE environment = %d, want 204", got)
			}
			if _, err := w.store.GetEnvironment(w.ctx, gone.env.ID); err == nil {
				t.Error("the environment record is still there")
			}
			w.assertServices(gone, false)
			w.assertVolumes(gone, tt.volumesRemain)
			// The other environment runs on, untouched.
			w.assertServices(kept, true)
			w.assertVolumes(kept, true)
			if _, err := w.store.GetDatabase(w.ctx, kept.db.ID); err != nil {
				t.Errorf("the other environment's database record: %v", err)
			}
			// The last environment cannot go on its own.
			if got := w.deleteVia("/api/v1/environments/" + kept.env.ID.String()); got != http.StatusConflict {
				t.Errorf("DELETE last environment = %d, want 409", got)
			}
			if got := w.deleteVia("/api/v1/projects/" + w.project.ID.String() + "?delete_volumes=true"); got != http.StatusNoContent {
				t.Fatalf("DELETE project = %d, want 204", got)
			}
			w.assertServices(kept, false)
			w.assertVolumes(kept, false)
		})
	}
}

// TestDeleteVolumesRemovesMappedVolumes: delete_volumes removes the volumes
// an application's mounts are recorded to map to (a volume a restore
// switched to, a volume of a service older than per-application volumes)
// even without the application's label, and keeps a volume another
// application still maps although it carries the deleted one's label.
func TestDeleteVolumesRemovesMappedVolumes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	kept, gone := w.envs[0], w.envs[1]
	shared, restored := w.instance+"-shared", w.instance+"-restored"
	for name, labels := range map[string]map[string]string{
		shared:   {swarm.LabelManaged: "true", swarm.LabelAppID: gone.app.ID.String()},
		restored: {swarm.LabelManaged: "true"},
	} {
		if _, err := w.docker.VolumeCreate(w.ctx, volume.CreateOptions{Name: name, Labels: labels}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = swarm.RemoveVolume(context.Background(), w.docker, name) })
	}
	for _, m := range []struct {
		app            uuid.UUID
		source, volume string
	}{{gone.app.ID, "shared", shared}, {kept.app.ID, "shared", shared}, {gone.app.ID, "files", restored}} {
		if _, err := w.store.Pool().Exec(w.ctx, `INSERT INTO app_volumes (application_id, source, volume) VALUES ($1, $2, $3)`,
			m.app, m.source, m.volume); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(name string) bool {
		_, err := w.docker.VolumeInspect(w.ctx, name)
		return err == nil
	}
	if got := w.deleteVia("/api/v1/environments/" + gone.env.ID.String() + "?delete_volumes=true"); got != http.StatusNoContent {
		t.Fatalf("DELETE environment = %d, want 204", got)
	}
	w.assertVolumes(gone, false)
	if exists(restored) {
		t.Error("the volume the deleted application was recorded to mount is still there")
	}
	if !exists(shared) {
		t.Error("a volume another application maps was removed")
	}
	if got := w.deleteVia("/api/v1/projects/" + w.project.ID.String() + "?delete_volumes=true"); got != http.StatusNoContent {
		t.Fatalf("DELETE project = %d, want 204", got)
	}
	if exists(shared) {
		t.Error("the shared volume outlived the last application mapping it")
	}
}

// TestFailedTeardownKeepsRecords checks that a deletion that cannot remove
// everything fails with a clear error, keeps the records, and succeeds
// when retried once the obstacle is gone.
func TestFailedTeardownKeepsRecords(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	o := w.envs[0]
	// A service berth does not manage joins the environment's network.
	foreign := w.instance + "-foreign"
	netName := deploy.EnvironmentNetworkOf(w.instance, o.env.ID)
	id := dockertest.CreateService(t, w.docker, dockertest.ServiceSpec{Name: foreign, Image: appImage, Network: netName, Replicas: 1})
	req := httptest.NewRequest("DELETE", "/api/v1/projects/"+w.project.ID.String(), nil)
	req.Header.Set("Authorization", "Bearer "+w.key)
	resp, err := w.srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body.String(), foreign) ||
		!strings.Contains(body.String(), "not managed by berth") {
		t.Fatalf("DELETE project = %d %s, want 502 naming the foreign service", resp.StatusCode, body.String())
	}
	if _, err := w.store.GetProject(w.ctx, w.project.ID); err != nil {
		t.Fatalf("the project record went with a failed teardown: %v", err)
	}
	dockertest.RemoveService(w.docker, id)
	waitServiceGone(t, w.docker, foreign)
	if got := w.deleteVia("/api/v1/projects/" + w.project.ID.String()); got != http.StatusNoContent {
		t.Fatalf("retried DELETE project = %d, want 204", got)
	}
	for _, o := range w.envs {
		w.assertServices(o, false)
	}
}

func waitServiceGone(t *testing.T, cli *client.Client, name string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		tasks, err := cli.TaskList(context.Background(), dockerswarm.TaskListOptions{
			Filters: filters.NewArgs(filters.Arg("service", name))})
		if err != nil || len(tasks) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("service %s still has tasks", name)
}

// TestWithoutSwarm checks what a server without Docker Swarm deletes:
// only what never ran there; the rest is refused and kept.
func TestWithoutSwarm(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	box, _ := secrets.New(testKey)
	st, err := store.Open(ctx, pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Options{Store: st, CSRFKey: box.Derive("csrf"), Logger: slog.New(slog.DiscardHandler)}) // default teardown: no Swarm
	u, org, err := st.Setup(ctx, store.SetupInput{Email: "owner@example.com", Name: "Owner", PasswordHash: "x", Organization: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	key := auth.NewToken(auth.APIKeyPrefix)
	if _, err := st.CreateAPIKey(ctx, u.ID, "test", key, nil); err != nil {
		t.Fatal(err)
	}
	creds, _ := database.NewCredentials(database.Redis, "cache")
	tests := []struct {
		name   string
		setup  func(env store.Environment)
		query  string
		status int
		gone   bool
	}{
		{name: "empty project", status: http.StatusNoContent, gone: true},
		{name: "application never deployed", setup: func(env store.Environment) {
			if _, err := st.CreateApplication(ctx, env.ID, store.ApplicationSpec{Name: "web", SourceType: "image", Image: "x", Port: 80, Replicas: 1}); err != nil {
				t.Fatal(err)
			}
		}, status: http.StatusNoContent, gone: true},
		{name: "deployed application", setup: func(env store.Environment) {
			a, err := st.CreateApplication(ctx, env.ID, store.ApplicationSpec{Name: "web", SourceType: "image", Image: "x", Port: 80, Replicas: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateDeployment(ctx, a.ID, store.NewDeployment{Trigger: "manual"}); err != nil {
				t.Fatal(err)
			}
		}, status: http.StatusServiceUnavailable},
		{name: "database", setup: func(env store.Environment) {
			if _, err := st.CreateDatabase(ctx, env.ID, store.DatabaseSpec{Name: "cache", Engine: database.Redis}, creds); err != nil {
				t.Fatal(err)
			}
		}, status: http.StatusServiceUnavailable},
		{name: "bad delete_volumes", query: "?delete_volumes=maybe", status: http.StatusBadRequest},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, env, err := st.CreateProject(ctx, org.ID, fmt.Sprintf("p%d", i), "")
			if err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(env)
			}
			req := httptest.NewRequest("DELETE", "/api/v1/projects/"+p.ID.String()+tt.query, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := srv.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("DELETE = %d, want %d", resp.StatusCode, tt.status)
			}
			_, err = st.GetProject(ctx, p.ID)
			if gone := err != nil; gone != tt.gone {
				t.Errorf("project gone = %t, want %t", gone, tt.gone)
			}
		})
	}
}
