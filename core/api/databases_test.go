package api_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
)

// fakeDatabases stands in for the cluster side of databases and backups
// (Docker and plugins), recording what the API asks of it; the store is
// the real PostgreSQL one.
type fakeDatabases struct {
	st       *store.Store
	mu       sync.Mutex
	calls    []string
	restores []store.NewRestore
	testErr  error
	objects  []api.BackupObject
}

func (f *fakeDatabases) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeDatabases) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeDatabases) Deploy(_ context.Context, db store.Database) error {
	f.record("deploy %s %s", db.Name, db.DesiredState)
	return nil
}

func (f *fakeDatabases) Delete(_ context.Context, db store.Database, deleteVolume bool) error {
	f.record("delete %s volume=%v", db.Name, deleteVolume)
	return nil
}

func (f *fakeDatabases) TestDestination(_ context.Context, dest store.BackupDestination) (string, error) {
	f.record("test %s", dest.Name)
	return "bucket is writable", f.testErr
}

func (f *fakeDatabases) ListObjects(_ context.Context, dest store.BackupDestination, prefix string) ([]api.BackupObject, error) {
	f.record("list %s %q", dest.Name, prefix)
	return f.objects, nil
}

// InsertTx stands in for the job queue: backups are recorded by the
// service layer, their jobs never run.
func (f *fakeDatabases) InsertTx(_ context.Context, _ pgx.Tx, args river.JobArgs, _ *river.InsertOpts) (int64, bool, error) {
	f.record("queue %s", args.Kind())
	return 1, true, nil
}

// withDatabases is the service layer on st with ops standing in for the
// cluster and jobs for the queue.
func withDatabases(st *store.Store, ops service.DataOps, jobs service.Jobs) *service.Services {
	return service.New(service.Deps{Store: st, Data: service.DataDeps{Ops: ops, Jobs: jobs}})
}

// StartRestore records the restore with the real store (no job: the
// fake has no queue) and remembers what was asked.
func (f *fakeDatabases) StartRestore(ctx context.Context, in store.NewRestore) (store.Restore, error) {
	f.mu.Lock()
	f.restores = append(f.restores, in)
	f.calls = append(f.calls, "restore "+in.Kind+" into "+in.TargetName)
	f.mu.Unlock()
	return f.st.CreateRestore(ctx, in, func(context.Context, pgx.Tx, store.Restore) (int64, error) { return 0, nil })
}

func (f *fakeDatabases) CancelRestore(ctx context.Context, r store.Restore) (store.Restore, error) {
	ok, err := f.st.CancelQueuedRestore(ctx, r.ID, "cancelled")
	if err == nil && !ok {
		err = service.ErrRestoreEnded
	}
	if err != nil {
		return r, err
	}
	return f.st.GetRestore(ctx, r.ID)
}

type backupPlugins struct{}

func (backupPlugins) ListPlugins(context.Context) ([]api.PluginInfo, error) {
	return []api.PluginInfo{{ID: "backup.s3", Kind: "backup"}, {ID: "backup.local", Kind: "backup"}, {ID: "builder.dockerfile", Kind: "builder"}}, nil
}

// newDatabaseHarness is a harness whose server has a fake cluster and two
// installed backup plugins.
func newDatabaseHarness(t *testing.T) (*harness, *fakeDatabases) {
	h := newHarness(t)
	box, _ := secrets.New(testKey)
	fake := &fakeDatabases{st: h.store}
	tok, holder := auth.NewSetupToken()
	h.token = tok
	h.srv = api.New(api.Options{Store: h.store, Setup: holder, CSRFKey: box.Derive("csrf"), Plugins: backupPlugins{}, Services: withDatabases(h.store, fake, fake)})
	return h, fake
}

func wantField(t *testing.T, r response, status int, field string) {
	t.Helper()
	var e api.ErrorBody
	r.json(t, &e)
	if r.Status != status || e.Error.Field != field {
		t.Fatalf("status %d field %q, want %d %q: %s", r.Status, e.Error.Field, status, field, r.Body)
	}
}

func TestDatabaseLifecycleThroughTheAPI(t *testing.T) {
	h, fake := newDatabaseHarness(t)
	f := h.fixture()
	base := "/api/v1/environments/" + f.envID + "/databases"
	var db store.Database
	h.must(201, h.do("POST", base, f.key, map[string]any{"name": "main", "engine": "postgres", "external_port": 15432, "memory_limit_mb": 256})).json(t, &db)
	if db.Engine != "postgres" || db.Version != "16" || db.DesiredState != store.DatabaseRunning || !strings.HasPrefix(db.ServiceName, "main-") ||
		db.VolumeName != db.ServiceName+"-data" || db.ExternalPort != 15432 {
		t.Fatalf("created = %+v", db)
	}
	id := db.ID.String()
	var list api.List[store.Database]
	h.must(200, h.do("GET", "/api/v1/databases?environment_id="+f.envID, f.key, nil)).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != db.ID {
		t.Fatalf("list = %+v", list.Items)
	}
	h.must(200, h.do("GET", "/api/v1/databases?project_id="+f.projectID, f.key, nil)).json(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("list by project = %+v", list.Items)
	}
	// Credentials are in no ordinary answer.
	for _, path := range []string{"/api/v1/databases", "/api/v1/databases/" + id} {
		r := h.must(200, h.do("GET", path, f.key, nil))
		if strings.Contains(string(r.Body), "password") {
			t.Fatalf("%s leaks credentials: %s", path, r.Body)
		}
	}
	var conn api.ConnectionInfo
	h.must(200, h.do("GET", "/api/v1/databases/"+id+"/connection", f.key, nil)).json(t, &conn)
	if conn.Host != db.ServiceName || conn.Port != 5432 || conn.User != "berth" || len(conn.Password) != 32 || conn.ExternalPort != 15432 ||
		conn.URL != fmt.Sprintf("postgresql://berth:%s@%s:5432/main", conn.Password, db.ServiceName) {
		t.Fatalf("connection = %+v", conn)
	}
	h.must(200, h.do("POST", "/api/v1/databases/"+id+"/deploy", f.key, nil))
	h.must(200, h.do("POST", "/api/v1/databases/"+id+"/stop", f.key, nil)).json(t, &db)
	if db.DesiredState != store.DatabaseStopped {
		t.Fatalf("after stop: %s", db.DesiredState)
	}
	h.must(200, h.do("POST", "/api/v1/databases/"+id+"/start", f.key, nil)).json(t, &db)
	if db.DesiredState != store.DatabaseRunning {
		t.Fatalf("after start: %s", db.DesiredState)
	}
	h.must(200, h.do("PATCH", "/api/v1/databases/"+id, f.key, map[string]any{"version": "16.4", "cpu_limit": 1.5})).json(t, &db)
	if db.Version != "16.4" || db.CPULimit != 1.5 || db.MemoryLimitMB != 256 {
		t.Fatalf("patched = %+v", db)
	}
	var other store.Database
	h.must(201, h.do("POST", base, f.key, map[string]any{"name": "cache", "engine": "redis"})).json(t, &other)
	h.must(204, h.do("DELETE", "/api/v1/databases/"+other.ID.String(), f.key, nil))
	h.must(204, h.do("DELETE", "/api/v1/databases/"+id+"?delete_volume=true", f.key, nil))
	h.must(404, h.do("GET", "/api/v1/databases/"+id, f.key, nil))
	want := []string{"deploy main running", "deploy main stopped", "deploy main running", "delete cache volume=false", "delete main volume=true"}
	if got := fake.Calls(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("calls = %q, want %q", got, want)
	}
}

func TestDatabaseValidationNamesTheField(t *testing.T) {
	h, _ := newDatabaseHarness(t)
	f := h.fixture()
	base := "/api/v1/environments/" + f.envID + "/databases"
	h.must(201, h.do("POST", base, f.key, map[string]any{"name": "first", "engine": "mariadb", "external_port": 13306}))
	var redis store.Database
	h.must(201, h.do("POST", base, f.key, map[string]any{"name": "cache", "engine": "redis"})).json(t, &redis)
	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"unknown engine", map[string]any{"name": "x", "engine": "oracle"}, 422, "engine"},
		{"no engine", map[string]any{"name": "x"}, 422, "engine"},
		{"bad name", map[string]any{"name": "Bad Name!", "engine": "redis"}, 422, "name"},
		{"bad version", map[string]any{"name": "x", "engine": "redis", "version": "7 latest"}, 422, "version"},
		{"bad image", map[string]any{"name": "x", "engine": "redis", "image": "bad image!"}, 422, "image"},
		{"port too high", map[string]any{"name": "x", "engine": "redis", "external_port": 70000}, 422, "external_port"},
		{"negative port", map[string]any{"name": "x", "engine": "redis", "external_port": -1}, 422, "external_port"},
		{"port in use", map[string]any{"name": "y", "engine": "redis", "external_port": 13306}, 422, "external_port"},
		{"negative cpu", map[string]any{"name": "x", "engine": "redis", "cpu_limit": -1}, 422, "cpu_limit"},
		{"negative memory", map[string]any{"name": "x", "engine": "redis", "memory_limit_mb": -5}, 422, "memory_limit_mb"},
		{"wrong type", map[string]any{"name": "x", "engine": "redis", "external_port": "80"}, 400, "external_port"},
		{"memory as text", map[string]any{"name": "x", "engine": "redis", "memory_limit_mb": "lots"}, 400, "memory_limit_mb"},
		{"unknown field", map[string]any{"name": "x", "engine": "redis", "password": "mine"}, 400, "password"},
		{"duplicate name", map[string]any{"name": "first", "engine": "redis"}, 409, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantField(t, h.do("POST", base, f.key, tc.body), tc.status, tc.field) })
	}
	id := redis.ID.String()
	wantField(t, h.do("PATCH", "/api/v1/databases/"+id, f.key, map[string]any{"engine": "postgres"}), 422, "engine")
	wantField(t, h.do("PATCH", "/api/v1/databases/"+id, f.key, map[string]any{"name": "renamed"}), 422, "name")
	wantField(t, h.do("PATCH", "/api/v1/databases/"+id, f.key, map[string]any{"external_port": 13306}), 422, "external_port")
	wantField(t, h.do("DELETE", "/api/v1/databases/"+id+"?delete_volume=maybe", f.key, nil), 400, "delete_volume")
	wantField(t, h.do("GET", "/api/v1/databases?environment_id=nope", f.key, nil), 400, "environment_id")
	wantField(t, h.do("GET", "/api/v1/databases/"+id+"/backups?status=done", f.key, nil), 400, "status")
	wantField(t, h.do("GET", "/api/v1/databases/"+id+"/backups?limit=0", f.key, nil), 400, "limit")
}

func TestDatabasesWithoutAClusterAnswer503(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	var db store.Database
	h.must(201, h.do("POST", "/api/v1/environments/"+f.envID+"/databases", f.key, map[string]any{"name": "main", "engine": "postgres"})).json(t, &db)
	for _, path := range []string{"/deploy", "/start", "/stop"} {
		r := h.must(503, h.do("POST", "/api/v1/databases/"+db.ID.String()+path, f.key, nil))
		if !strings.Contains(r.errorMessage(), "not available on this server") {
			t.Fatalf("%s: %s", path, r.Body)
		}
	}
	h.must(503, h.do("DELETE", "/api/v1/databases/"+db.ID.String(), f.key, nil))
	// Records can still be managed: a destination on any backup.* plugin id.
	h.must(201, h.do("POST", "/api/v1/organizations/"+f.orgID+"/backup-destinations", f.key, map[string]any{"name": "local", "plugin_id": "backup.local"}))
}

// backupFixture is a postgres database, a destination and a policy.
type backupFixture struct {
	fixture
	db     store.Database
	dest   store.BackupDestination
	policy store.BackupPolicy
}

func (h *harness) backupFixture() backupFixture {
	h.t.Helper()
	b := backupFixture{fixture: h.fixture()}
	h.must(201, h.do("POST", "/api/v1/environments/"+b.envID+"/databases", b.key, map[string]any{"name": "main", "engine": "postgres"})).json(h.t, &b.db)
	h.must(201, h.do("POST", "/api/v1/organizations/"+b.orgID+"/backup-destinations", b.key, map[string]any{"name": "bucket", "plugin_id": "backup.s3",
		"settings": map[string]any{"bucket": "backups", "access_key_id": "AKIA", "secret_access_key": "very-secret-key"}})).json(h.t, &b.dest)
	h.must(201, h.do("POST", "/api/v1/databases/"+b.db.ID.String()+"/backup-policies", b.key, map[string]any{
		"destination_id": b.dest.ID, "schedule": "0 3 * * *", "time_zone": "Europe/Paris", "keep_latest": 3})).json(h.t, &b.policy)
	if p := b.policy; p.KeepLatest != 3 || p.Retries != 2 || !p.Enabled || p.TimeZone != "Europe/Paris" {
		h.t.Fatalf("policy = %+v", p)
	}
	return b
}

func TestBackupDestinationsKeepTheirSettingsSecret(t *testing.T) {
	h, fake := newDatabaseHarness(t)
	b := h.backupFixture()
	destPath := "/api/v1/backup-destinations/" + b.dest.ID.String()
	if b.dest.PluginID != "backup.s3" {
		t.Fatalf("destination = %+v", b.dest)
	}
	for _, path := range []string{"/api/v1/organizations/" + b.orgID + "/backup-destinations", destPath} {
		r := h.must(200, h.do("GET", path, b.key, nil))
		if strings.Contains(string(r.Body), "very-secret-key") || strings.Contains(string(r.Body), "settings") {
			t.Fatalf("%s leaks settings: %s", path, r.Body)
		}
	}
	// A patch merges: the secret stays, the bucket changes, null removes.
	h.must(200, h.do("PATCH", destPath, b.key, map[string]any{"settings": map[string]any{"bucket": "other", "access_key_id": nil}}))
	saved, err := h.store.GetBackupDestination(context.Background(), b.dest.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(saved.Settings); s != `{"bucket":"other","secret_access_key":"very-secret-key"}` {
		t.Fatalf("merged settings = %s", s)
	}
	var res api.DestinationTest
	h.must(200, h.do("POST", destPath+"/test", b.key, nil)).json(t, &res)
	if !res.OK || res.Message != "bucket is writable" {
		t.Fatalf("test = %+v", res)
	}
	fake.testErr = errors.New("dial tcp 10.0.0.1:9000: connection refused")
	h.must(200, h.do("POST", destPath+"/test", b.key, nil)).json(t, &res)
	if res.OK || !strings.Contains(res.Message, "connection refused") {
		t.Fatalf("failed test = %+v", res)
	}

	// Objects: each says which recorded backup it is, or none.
	ctx := context.Background()
	var recorded store.Backup
	h.must(202, h.do("POST", "/api/v1/backup-policies/"+b.policy.ID.String()+"/run", b.key, nil)).json(t, &recorded)
	if err := h.store.FinishBackup(ctx, recorded.ID, store.BackupSucceeded, "pg/postgres/main/a.dump.gz", 42, "abc", ""); err != nil {
		t.Fatal(err)
	}
	fake.objects = []api.BackupObject{
		{Key: "pg/postgres/main/a.dump.gz", SizeBytes: 42, Modified: time.Unix(1, 0).UTC(), Metadata: map[string]string{"sha256": "abc"}},
		{Key: "pg/postgres/main/b.dump.gz", SizeBytes: 7, Modified: time.Unix(2, 0).UTC()},
	}
	var objs api.BackupObjectList
	h.must(200, h.do("GET", destPath+"/objects?prefix=pg/", b.key, nil)).json(t, &objs)
	if len(objs.Items) != 2 || objs.Items[0].SizeBytes != 42 || objs.Items[0].BackupID == nil || *objs.Items[0].BackupID != recorded.ID || objs.Items[1].BackupID != nil {
		t.Fatalf("objects = %+v", objs)
	}
	h.must(200, h.do("GET", destPath+"/objects?unrecorded=true", b.key, nil)).json(t, &objs)
	if len(objs.Items) != 1 || objs.Items[0].Key != "pg/postgres/main/b.dump.gz" {
		t.Fatalf("unrecorded objects = %+v", objs)
	}
	if calls := fake.Calls(); calls[len(calls)-2] != `list bucket "pg/"` {
		t.Fatalf("calls = %q", calls)
	}
	wantField(t, h.do("GET", destPath+"/objects?unrecorded=maybe", b.key, nil), 400, "unrecorded")

	// In use by a policy: a conflict; once the policy is gone, deleted.
	h.must(409, h.do("DELETE", destPath, b.key, nil))
	h.must(204, h.do("DELETE", "/api/v1/backup-policies/"+b.policy.ID.String(), b.key, nil))
	h.must(204, h.do("DELETE", destPath, b.key, nil))
	h.must(404, h.do("GET", destPath, b.key, nil))
	// The backup record outlives its policy and destination.
	h.must(200, h.do("GET", "/api/v1/backups/"+recorded.ID.String(), b.key, nil))
}

func TestBackupValidationNamesTheField(t *testing.T) {
	h, _ := newDatabaseHarness(t)
	b := h.backupFixture()
	dests := "/api/v1/organizations/" + b.orgID + "/backup-destinations"
	wantField(t, h.do("POST", dests, b.key, map[string]any{"name": "x", "plugin_id": "builder.dockerfile"}), 422, "plugin_id")
	wantField(t, h.do("POST", dests, b.key, map[string]any{"name": "x", "plugin_id": "backup.nope"}), 422, "plugin_id")
	wantField(t, h.do("POST", dests, b.key, map[string]any{"name": "x"}), 422, "plugin_id")
	wantField(t, h.do("POST", dests, b.key, map[string]any{"plugin_id": "backup.s3"}), 422, "name")
	wantField(t, h.do("POST", dests, b.key, map[string]any{"name": "x", "plugin_id": "backup.s3", "settings": []string{"a"}}), 400, "settings")
	wantField(t, h.do("POST", dests, b.key, map[string]any{"name": "x", "plugin": "backup.s3"}), 400, "plugin")
	wantField(t, h.do("POST", dests, b.key, map[string]any{"name": "bucket", "plugin_id": "backup.s3"}), 409, "name")
	wantField(t, h.do("PATCH", "/api/v1/backup-destinations/"+b.dest.ID.String(), b.key, map[string]any{"plugin_id": "backup.local"}), 422, "plugin_id")

	policies := "/api/v1/databases/" + b.db.ID.String() + "/backup-policies"
	dest := b.dest.ID.String()
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no schedule", map[string]any{"destination_id": dest}, "schedule"},
		{"words", map[string]any{"destination_id": dest, "schedule": "every day"}, "schedule"},
		{"bad cron", map[string]any{"destination_id": dest, "schedule": "61 * * * *"}, "schedule"},
		{"too many fields", map[string]any{"destination_id": dest, "schedule": "* * * * * * *"}, "schedule"},
		{"tz in schedule", map[string]any{"destination_id": dest, "schedule": "CRON_TZ=UTC 0 3 * * *"}, "schedule"},
		{"bad zone", map[string]any{"destination_id": dest, "schedule": "@daily", "time_zone": "Mars/Olympus"}, "time_zone"},
		{"local zone", map[string]any{"destination_id": dest, "schedule": "@daily", "time_zone": "Local"}, "time_zone"},
		{"negative keep", map[string]any{"destination_id": dest, "schedule": "@daily", "keep_latest": -1}, "keep_latest"},
		{"retries", map[string]any{"destination_id": dest, "schedule": "@daily", "retries": 11}, "retries"},
		{"prefix", map[string]any{"destination_id": dest, "schedule": "@daily", "prefix": "../up"}, "prefix"},
		{"no destination", map[string]any{"schedule": "@daily"}, "destination_id"},
		{"unknown destination", map[string]any{"schedule": "@daily", "destination_id": uuid.NewString()}, "destination_id"},
		{"stop service on a database", map[string]any{"destination_id": dest, "schedule": "@daily", "stop_service": true}, "stop_service"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantField(t, h.do("POST", policies, b.key, tc.body), 422, tc.field) })
	}
	wantField(t, h.do("POST", policies, b.key, map[string]any{"destination_id": "nope", "schedule": "@daily"}), 400, "destination_id")
	// Seconds, descriptors, zones and keeping all are accepted.
	for _, sched := range []string{"*/2 * * * * *", "@every 1h", "30 2 * * 1-5"} {
		h.must(201, h.do("POST", policies, b.key, map[string]any{"destination_id": dest, "schedule": sched, "time_zone": "America/New_York", "keep_latest": 0}))
	}
	wantField(t, h.do("PATCH", "/api/v1/backup-policies/"+b.policy.ID.String(), b.key, map[string]any{"schedule": "nope"}), 422, "schedule")

	restore := "/api/v1/databases/" + b.db.ID.String() + "/restore"
	wantField(t, h.do("POST", restore, b.key, map[string]any{}), 422, "backup_id")
	wantField(t, h.do("POST", restore, b.key, map[string]any{"key": "a.gz"}), 422, "destination_id")
	wantField(t, h.do("POST", restore, b.key, map[string]any{"destination_id": dest}), 422, "key")
	wantField(t, h.do("POST", restore, b.key, map[string]any{"destination_id": dest, "key": "../etc"}), 422, "key")
	wantField(t, h.do("POST", restore, b.key, map[string]any{"backup_id": uuid.NewString()}), 422, "backup_id")
	wantField(t, h.do("POST", restore, b.key, map[string]any{"backup_id": uuid.NewString(), "destination_id": dest, "key": "a"}), 422, "backup_id")
	wantField(t, h.do("POST", restore, b.key, map[string]any{"target_database_id": uuid.NewString()}), 400, "target_database_id")
	volumes := "/api/v1/applications/" + b.appID + "/restore"
	wantField(t, h.do("POST", volumes, b.key, map[string]any{}), 422, "backup_id")
	wantField(t, h.do("POST", volumes, b.key, map[string]any{"backup_id": 7}), 400, "backup_id")
}

func TestBackupNowAndRestore(t *testing.T) {
	h, fake := newDatabaseHarness(t)
	b := h.backupFixture()
	var queued store.Backup
	h.must(202, h.do("POST", "/api/v1/backup-policies/"+b.policy.ID.String()+"/run", b.key, nil)).json(t, &queued)
	if queued.Status != store.BackupQueued || queued.Trigger != store.TriggerManual || queued.Kind != "database" ||
		*queued.DatabaseID != b.db.ID || *queued.PolicyID != b.policy.ID {
		t.Fatalf("queued = %+v", queued)
	}
	var list api.List[store.Backup]
	for _, path := range []string{"/api/v1/databases/" + b.db.ID.String() + "/backups", "/api/v1/backup-policies/" + b.policy.ID.String() + "/backups",
		"/api/v1/databases/" + b.db.ID.String() + "/backups?status=queued&limit=5"} {
		h.must(200, h.do("GET", path, b.key, nil)).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != queued.ID {
			t.Fatalf("%s = %+v", path, list.Items)
		}
	}
	h.must(200, h.do("GET", "/api/v1/databases/"+b.db.ID.String()+"/backups?status=failed", b.key, nil)).json(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("failed backups = %+v", list.Items)
	}
	h.must(200, h.do("GET", "/api/v1/backups/"+queued.ID.String(), b.key, nil))
	restore := "/api/v1/databases/" + b.db.ID.String() + "/restore"
	// Not finished yet: nothing to restore.
	wantField(t, h.do("POST", restore, b.key, map[string]any{"backup_id": queued.ID}), 422, "backup_id")
	ctx := context.Background()
	if err := h.store.FinishBackup(ctx, queued.ID, store.BackupSucceeded, "k/postgres/main/x.dump.gz", 10, "aa", ""); err != nil {
		t.Fatal(err)
	}
	var restored store.Restore
	h.must(202, h.do("POST", restore, b.key, map[string]any{"backup_id": queued.ID})).json(t, &restored)
	if restored.DatabaseID == nil || *restored.DatabaseID != b.db.ID || restored.Status != store.RestoreQueued ||
		restored.BackupID == nil || *restored.BackupID != queued.ID || restored.Kind != "database" {
		t.Fatalf("restore = %+v", restored)
	}
	var got store.Restore
	h.must(200, h.do("GET", "/api/v1/restores/"+restored.ID.String(), b.key, nil)).json(t, &got)
	if got.ID != restored.ID || got.TargetName != b.db.Name {
		t.Fatalf("GET restore = %+v", got)
	}
	h.must(202, h.do("POST", restore, b.key, map[string]any{"destination_id": b.dest.ID, "key": "k/postgres/main/y.dump.gz"}))
	if len(fake.restores) != 2 || *fake.restores[0].BackupID != queued.ID ||
		*fake.restores[1].DestinationID != b.dest.ID || fake.restores[1].Key != "k/postgres/main/y.dump.gz" {
		t.Fatalf("restores = %+v", fake.restores)
	}
	var restores api.List[store.Restore]
	h.must(200, h.do("GET", "/api/v1/databases/"+b.db.ID.String()+"/restores", b.key, nil)).json(t, &restores)
	if len(restores.Items) != 2 || restores.Items[1].ID != restored.ID {
		t.Fatalf("restores of the database = %+v", restores.Items)
	}
	wantField(t, h.do("GET", "/api/v1/databases/"+b.db.ID.String()+"/restores?status=done", b.key, nil), 400, "status")
	// Cancel: a queued restore is cancelled at once; then it has ended.
	var cancelled store.Restore
	h.must(202, h.do("POST", "/api/v1/restores/"+restored.ID.String()+"/cancel", b.key, nil)).json(t, &cancelled)
	if cancelled.Status != store.RestoreCancelled {
		t.Fatalf("cancelled = %+v", cancelled)
	}
	h.must(409, h.do("POST", "/api/v1/restores/"+restored.ID.String()+"/cancel", b.key, nil))
	// Events: the record, then the stream ends since it has ended.
	ev := h.do("GET", "/api/v1/restores/"+restored.ID.String()+"/events", b.key, nil)
	if ev.Status != 200 || !strings.Contains(string(ev.Body), "event: restore") || !strings.Contains(string(ev.Body), `"status":"cancelled"`) {
		t.Fatalf("events = %d %s", ev.Status, ev.Body)
	}
	wantField(t, h.do("POST", restore, b.key, map[string]any{"destination_id": b.dest.ID, "key": "../x.gz"}), 422, "key")
	// Into another engine: refused before the cluster is asked.
	var redis store.Database
	h.must(201, h.do("POST", "/api/v1/environments/"+b.envID+"/databases", b.key, map[string]any{"name": "cache", "engine": "redis"})).json(t, &redis)
	n := len(fake.restores)
	wantField(t, h.do("POST", "/api/v1/databases/"+redis.ID.String()+"/restore", b.key, map[string]any{"backup_id": queued.ID}), 422, "backup_id")
	// A database backup does not restore into an application.
	wantField(t, h.do("POST", "/api/v1/applications/"+b.appID+"/restore", b.key, map[string]any{"backup_id": queued.ID}), 422, "backup_id")
	if len(fake.restores) != n {
		t.Fatal("restore called for a backup that does not fit")
	}

	// Volume policies, backups and restores of an application.
	var vp store.BackupPolicy
	h.must(201, h.do("POST", "/api/v1/applications/"+b.appID+"/backup-policies", b.key, map[string]any{"destination_id": b.dest.ID, "schedule": "@daily", "stop_service": true})).json(t, &vp)
	if vp.ApplicationID == nil || !vp.StopService || vp.DatabaseID != nil {
		t.Fatalf("volume policy = %+v", vp)
	}
	var vb store.Backup
	h.must(202, h.do("POST", "/api/v1/backup-policies/"+vp.ID.String()+"/run", b.key, nil)).json(t, &vb)
	if vb.Kind != "volume" || vb.ApplicationID == nil {
		t.Fatalf("volume backup = %+v", vb)
	}
	var policies api.List[store.BackupPolicy]
	h.must(200, h.do("GET", "/api/v1/applications/"+b.appID+"/backup-policies", b.key, nil)).json(t, &policies)
	if len(policies.Items) != 1 || policies.Items[0].ID != vp.ID {
		t.Fatalf("application policies = %+v", policies.Items)
	}
	h.must(200, h.do("GET", "/api/v1/applications/"+b.appID+"/backups", b.key, nil)).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != vb.ID {
		t.Fatalf("application backups = %+v", list.Items)
	}
	volumes := "/api/v1/applications/" + b.appID + "/restore"
	wantField(t, h.do("POST", volumes, b.key, map[string]any{"backup_id": vb.ID}), 422, "backup_id") // still queued
	wantField(t, h.do("POST", restore, b.key, map[string]any{"backup_id": vb.ID}), 422, "backup_id") // not into a database
	if err := h.store.FinishBackup(ctx, vb.ID, store.BackupSucceeded, "k/volumes/web/x.tar.gz", 10, "aa", ""); err != nil {
		t.Fatal(err)
	}
	var vr store.Restore
	h.must(202, h.do("POST", volumes, b.key, map[string]any{"backup_id": vb.ID})).json(t, &vr)
	if vr.ApplicationID == nil || vr.ApplicationID.String() != b.appID || vr.Kind != "volume" || vr.Status != store.RestoreQueued {
		t.Fatalf("volume restore = %+v", vr)
	}
	if calls := fake.Calls(); !strings.HasPrefix(calls[len(calls)-1], "restore volume into ") {
		t.Fatalf("calls = %q", calls)
	}
	h.must(200, h.do("GET", "/api/v1/applications/"+b.appID+"/restores", b.key, nil)).json(t, &restores)
	if len(restores.Items) != 1 || restores.Items[0].ID != vr.ID {
		t.Fatalf("restores of the application = %+v", restores.Items)
	}
	// Another application of the organization cannot take it.
	var other store.Application
	h.must(201, h.do("POST", "/api/v1/environments/"+b.envID+"/applications", b.key, map[string]any{"name": "api", "image": "nginx:1", "port": 80})).json(t, &other)
	wantField(t, h.do("POST", "/api/v1/applications/"+other.ID.String()+"/restore", b.key, map[string]any{"backup_id": vb.ID}), 422, "backup_id")
	// Retention deleted it: nothing to restore.
	if err := h.store.MarkBackupDeleted(ctx, vb.ID); err != nil {
		t.Fatal(err)
	}
	wantField(t, h.do("POST", volumes, b.key, map[string]any{"backup_id": vb.ID}), 422, "backup_id")
}

func TestDatabaseRolesAndTenants(t *testing.T) {
	h, _ := newDatabaseHarness(t)
	b := h.backupFixture()
	viewer := h.member(b.fixture, "viewer")
	member := h.member(b.fixture, "member")
	db := "/api/v1/databases/" + b.db.ID.String()
	dest := "/api/v1/backup-destinations/" + b.dest.ID.String()
	policy := "/api/v1/backup-policies/" + b.policy.ID.String()
	app := "/api/v1/applications/" + b.appID
	// Viewers read, but not credentials or objects, and change nothing.
	for _, path := range []string{db, db + "/backups", db + "/backup-policies", dest, policy, policy + "/backups", app + "/backups",
		app + "/backup-policies", "/api/v1/organizations/" + b.orgID + "/backup-destinations"} {
		h.must(200, h.do("GET", path, viewer, nil))
	}
	h.must(403, h.do("GET", db+"/connection", viewer, nil))
	h.must(403, h.do("POST", db+"/stop", viewer, nil))
	h.must(403, h.do("PATCH", db, viewer, map[string]any{"cpu_limit": 1}))
	h.must(403, h.do("DELETE", db, viewer, nil))
	h.must(403, h.do("POST", "/api/v1/environments/"+b.envID+"/databases", viewer, map[string]any{"name": "v", "engine": "redis"}))
	h.must(403, h.do("POST", policy+"/run", viewer, nil))
	h.must(403, h.do("POST", db+"/restore", viewer, map[string]any{"destination_id": b.dest.ID, "key": "x"}))
	h.must(403, h.do("POST", app+"/restore", viewer, map[string]any{"backup_id": uuid.New()}))
	h.must(403, h.do("GET", dest+"/objects", viewer, nil))
	h.must(403, h.do("POST", dest+"/test", viewer, nil))
	// Members run databases and backups; destinations (organization-wide
	// credentials) and deleting a volume are for admins.
	h.must(200, h.do("GET", db+"/connection", member, nil))
	h.must(202, h.do("POST", policy+"/run", member, nil))
	h.must(200, h.do("PATCH", policy, member, map[string]any{"enabled": false}))
	h.must(200, h.do("POST", dest+"/test", member, nil))
	h.must(403, h.do("PATCH", dest, member, map[string]any{"name": "mine"}))
	h.must(403, h.do("DELETE", dest, member, nil))
	h.must(403, h.do("POST", "/api/v1/organizations/"+b.orgID+"/backup-destinations", member, map[string]any{"name": "m", "plugin_id": "backup.local"}))
	h.must(403, h.do("DELETE", db+"?delete_volume=true", member, nil))
	// Restores: members start and cancel them, viewers follow them.
	var rs store.Restore
	h.must(202, h.do("POST", db+"/restore", member, map[string]any{"destination_id": b.dest.ID, "key": "k/x.gz"})).json(t, &rs)
	restore := "/api/v1/restores/" + rs.ID.String()
	h.must(200, h.do("GET", restore, viewer, nil))
	h.must(200, h.do("GET", db+"/restores", viewer, nil))
	h.must(403, h.do("POST", restore+"/cancel", viewer, nil))
	h.must(202, h.do("POST", restore+"/cancel", member, nil))

	// Another organization sees none of it.
	h.must(200, h.do("PUT", "/api/v1/instance/settings", b.key, map[string]any{"allow_organization_creation": true}))
	var other store.Organization
	h.must(201, h.do("POST", "/api/v1/organizations", viewer, map[string]any{"name": "Other"})).json(t, &other)
	var otherDest store.BackupDestination
	h.must(201, h.do("POST", "/api/v1/organizations/"+other.ID.String()+"/backup-destinations", viewer, map[string]any{"name": "theirs", "plugin_id": "backup.local"})).json(t, &otherDest)
	outsider := h.member(fixture{key: viewer, orgID: other.ID.String()}, "owner")
	for _, path := range []string{db, db + "/connection", db + "/backups", dest, policy, policy + "/backups", dest + "/objects", "/api/v1/organizations/" + b.orgID + "/backup-destinations"} {
		h.must(404, h.do("GET", path, outsider, nil))
	}
	h.must(404, h.do("POST", db+"/stop", outsider, nil))
	h.must(404, h.do("DELETE", dest, outsider, nil))
	for _, path := range []string{restore, restore + "/events", db + "/restores", app + "/restores"} {
		h.must(404, h.do("GET", path, outsider, nil))
	}
	h.must(404, h.do("POST", restore+"/cancel", outsider, nil))
	h.must(404, h.do("POST", db+"/restore", outsider, map[string]any{"destination_id": b.dest.ID, "key": "k/x.gz"}))
	// A destination of another organization cannot be used.
	wantField(t, h.do("POST", db+"/backup-policies", b.key, map[string]any{"destination_id": otherDest.ID, "schedule": "@daily"}), 422, "destination_id")
	wantField(t, h.do("POST", db+"/restore", b.key, map[string]any{"destination_id": otherDest.ID, "key": "x.gz"}), 422, "destination_id")
	var list api.List[store.BackupDestination]
	h.must(200, h.do("GET", "/api/v1/organizations/"+other.ID.String()+"/backup-destinations", outsider, nil)).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != otherDest.ID {
		t.Fatalf("other organization's destinations = %+v", list.Items)
	}
	h.must(401, h.do("GET", "/api/v1/databases", "", nil))
}
