package backup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	dockerswarm "github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"github.com/berth-dev/berth/core/backup"
	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/dbservice"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/plugins/index"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/test/dbimages"
	"github.com/berth-dev/berth/test/dockertest"
)

// pluginBin and s3PluginBin are the backup target plugins the tests store
// backups with: berth's own local directory and S3 targets, built once.
var pluginBin, s3PluginBin string

const pluginID = "backup.local"

// defaultParallel is how many tests run at once unless -test.parallel is
// given: they spend their time waiting for containers (database start-up,
// health checks, Swarm convergence), not on the CPU, so more than
// GOMAXPROCS of them overlap well even on two cores.
const defaultParallel = 4

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", strconv.Itoa(defaultParallel))
	}
	dir, err := os.MkdirTemp("", "berth-backup-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pluginBin = filepath.Join(dir, "berth-backup-local")
	s3PluginBin = filepath.Join(dir, "berth-backup-s3")
	out, err := exec.Command("go", "build", "-o", dir, "github.com/berth-dev/berth/providers/backup/local",
		"github.com/berth-dev/berth/providers/backup/s3").CombinedOutput()
	if err == nil {
		err = os.Rename(filepath.Join(dir, "local"), pluginBin)
	}
	if err == nil {
		err = os.Rename(filepath.Join(dir, "s3"), s3PluginBin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the backup plugins: %v\n%s", err, out)
		os.Exit(1)
	}
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	removeVolumeApp()
	os.Exit(code)
}

// testImage returns the local image of engine e built by test/dbimages
// (override with BERTH_TEST_IMAGE_<ENGINE>), failing when it is missing.
func testImage(t *testing.T, cli *client.Client, e database.Engine) string {
	t.Helper()
	ref := os.Getenv("BERTH_TEST_IMAGE_" + strings.ToUpper(string(e)))
	if ref == "" {
		images := dbimages.Ensure(t)
		ref = map[database.Engine]string{database.Postgres: images.Postgres, database.MariaDB: images.MariaDB,
			database.MySQL: images.MySQL, database.Redis: images.Redis}[e]
	}
	if _, err := cli.ImageInspect(context.Background(), ref); err != nil {
		t.Fatalf("test image %s is missing (%v): run `make test`, which builds the database images", ref, err)
	}
	return ref
}

// events records emitted events.
type events struct {
	mu  sync.Mutex
	evs []sdk.Event
}

func (e *events) Emit(_ context.Context, ev sdk.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

func (e *events) of(typ sdk.EventType) []sdk.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []sdk.Event
	for _, ev := range e.evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// env is a store, Docker, a plugin host and a runner.
type env struct {
	t       *testing.T
	ctx     context.Context
	store   *store.Store
	docker  *client.Client
	svc     *dbservice.Service
	mgr     *swarm.Manager
	host    *plugins.Host
	runner  *backup.Runner
	events  *events
	envID   uuid.UUID
	orgID   uuid.UUID
	root    string // the destination's directory
	dest    store.BackupDestination
	targets backup.HostTargets
}

var testKey = bytes.Repeat([]byte{7}, secrets.KeySize)

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
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
	pdir := t.TempDir()
	for _, bin := range []string{pluginBin, s3PluginBin} {
		if _, err := index.Register(ctx, pdir, bin); err != nil {
			t.Fatal(err)
		}
	}
	host, err := plugins.New(plugins.Options{Dirs: []string{pdir},
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: io.Discard})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close() })
	e := &env{t: t, ctx: ctx, store: st, docker: cli, host: host, events: &events{}, targets: backup.HostTargets{Host: host}}
	instance := dockertest.UniqueName("bk")
	e.mgr = swarm.NewManager(cli, nil)
	e.svc = dbservice.New(e.mgr, cli, instance)
	e.runner = e.newRunner(e.targets)
	e.orgID = uuid.New()
	if _, err := st.Pool().Exec(ctx, `INSERT INTO organizations (id, name) VALUES ($1, 'acme')`, e.orgID); err != nil {
		t.Fatal(err)
	}
	_, environment, err := st.CreateProject(ctx, e.orgID, "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	e.envID = environment.ID
	t.Cleanup(func() {
		_ = cli.NetworkRemove(context.Background(), e.svc.Network(store.Database{EnvironmentID: e.envID}))
	})
	e.root = dockertest.SearchableTempDir(t)
	e.dest = e.destination("local", e.root)
	return e
}

// newRunner returns a runner storing through targets.
func (e *env) newRunner(targets backup.Targets) *backup.Runner {
	return backup.New(backup.Deps{Store: e.store, Docker: e.docker, Targets: targets, Services: e.svc, Scaler: e.mgr, Switcher: e.mgr,
		Events: e.events, Logger: slog.New(slog.DiscardHandler)})
}

// destination creates a destination storing into dir.
func (e *env) destination(name, dir string) store.BackupDestination {
	e.t.Helper()
	d, err := e.store.CreateBackupDestination(e.ctx, e.orgID, name, pluginID, json.RawMessage(`{"directory":"`+dir+`"}`))
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// database creates and deploys a database of engine from its test image,
// removed with its volume when the test ends.
func (e *env) database(engine database.Engine, name string) store.Database {
	e.t.Helper()
	creds, err := database.NewCredentials(engine, name)
	if err != nil {
		e.t.Fatal(err)
	}
	db, err := e.store.CreateDatabase(e.ctx, e.envID, store.DatabaseSpec{Name: name, Engine: engine,
		Image: testImage(e.t, e.docker, engine)}, creds)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = e.svc.Delete(context.Background(), db, true) })
	if err := e.svc.Deploy(e.ctx, db, nil); err != nil {
		e.t.Fatal(err)
	}
	return db
}

// exec runs argv in db's running container and returns its stdout.
func (e *env) exec(db store.Database, stdin string, env []string, argv ...string) string {
	e.t.Helper()
	out, err := e.execErr(db, stdin, env, argv...)
	if err != nil {
		e.t.Fatalf("%v: %v", argv, err)
	}
	return out
}

func (e *env) execErr(db store.Database, stdin string, env []string, argv ...string) (string, error) {
	cs, err := e.docker.ContainerList(e.ctx, container.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		if c.Labels["com.docker.swarm.service.name"] == db.ServiceName && c.State == "running" {
			return backup.ExecForTest(e.ctx, e.docker, c.ID, database.Command{Argv: argv, Env: env}, stdin)
		}
	}
	return "", fmt.Errorf("no running container of %s", db.ServiceName)
}

// backupNow records a manual backup of db and runs it.
func (e *env) backupNow(db store.Database, dest store.BackupDestination, policy *store.BackupPolicy) (store.Backup, error) {
	e.t.Helper()
	nb := store.NewBackup{DatabaseID: &db.ID, DestinationID: dest.ID, Status: store.BackupQueued, Trigger: store.TriggerManual}
	if policy != nil {
		nb.PolicyID = &policy.ID
	}
	b, _, err := e.store.CreateBackup(e.ctx, nb)
	if err != nil {
		e.t.Fatal(err)
	}
	runErr := e.runner.Run(e.ctx, b.ID, true)
	b, err = e.store.GetBackup(e.ctx, b.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return b, runErr
}

var swarmInspect = dockerswarm.ServiceInspectOptions{}
