package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/cmd/berth/cli"
	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/backupjob"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// cluster stands in for Docker and the backup runner: lifecycle calls are
// recorded, queued backups succeed shortly after through the real store.
type cluster struct {
	st       *store.Store
	mu       sync.Mutex
	calls    []string
	restores []store.NewRestore
}

func (c *cluster) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *cluster) Deploy(_ context.Context, db store.Database) error {
	c.record("deploy " + db.Name + " " + db.DesiredState)
	return nil
}

func (c *cluster) Delete(_ context.Context, db store.Database, deleteVolume bool) error {
	c.record(fmt.Sprintf("delete %s volume=%v", db.Name, deleteVolume))
	return nil
}

// InsertTx stands in for the backup queue: the backup the service layer
// recorded succeeds shortly after through the real store.
func (c *cluster) InsertTx(_ context.Context, _ pgx.Tx, args river.JobArgs, _ *river.InsertOpts) (int64, bool, error) {
	a, ok := args.(backupjob.Args)
	if !ok {
		return 0, false, fmt.Errorf("unexpected job %s", args.Kind())
	}
	go func() {
		ctx := context.Background()
		time.Sleep(300 * time.Millisecond)
		_ = c.st.StartBackup(ctx, a.BackupID)
		time.Sleep(700 * time.Millisecond)
		b, _ := c.st.GetBackup(ctx, a.BackupID)
		_ = c.st.FinishBackup(ctx, a.BackupID, store.BackupSucceeded, "p/"+b.Kind+"/x.gz", 1234, "ab", "")
	}()
	return 1, true, nil
}

// StartRestore records the restore through the real store; it runs
// shortly after: a restore of the object corrupt.gz fails verification,
// any other succeeds.
func (c *cluster) StartRestore(ctx context.Context, in store.NewRestore) (store.Restore, error) {
	c.mu.Lock()
	c.restores = append(c.restores, in)
	c.mu.Unlock()
	r, err := c.st.CreateRestore(ctx, in, func(context.Context, pgx.Tx, store.Restore) (int64, error) { return 0, nil })
	if err != nil {
		return r, err
	}
	go func() {
		ctx := context.Background()
		time.Sleep(200 * time.Millisecond)
		_, _ = c.st.StartRestore(ctx, r.ID)
		_ = c.st.RestoreProgress(ctx, r.ID, "loading into the fresh database", 600, 1234)
		time.Sleep(600 * time.Millisecond)
		if in.Key == "corrupt.gz" {
			_, _ = c.st.FinishRestore(ctx, r.ID, store.RestoreFailed, "failed", "backup verification failed: corrupt.gz: sha256 mismatch")
			return
		}
		_, _ = c.st.FinishRestore(ctx, r.ID, store.RestoreSucceeded, "restored", "")
	}()
	return r, nil
}

func (c *cluster) CancelRestore(ctx context.Context, r store.Restore) (store.Restore, error) {
	ok, err := c.st.CancelQueuedRestore(ctx, r.ID, "cancelled")
	if err == nil && !ok {
		err = service.ErrRestoreEnded
	}
	if err != nil {
		return r, err
	}
	return c.st.GetRestore(ctx, r.ID)
}

func (c *cluster) ListObjects(context.Context, store.BackupDestination, string) ([]service.BackupObject, error) {
	return []api.BackupObject{{Key: "p/database/x.gz", SizeBytes: 1234}, {Key: "old/postgres/main/y.dump.gz", SizeBytes: 99}}, nil
}

func (c *cluster) TestDestination(_ context.Context, d store.BackupDestination) (string, error) {
	if strings.Contains(string(d.Settings), "unreachable") {
		return "", errors.New("dial tcp: connection refused")
	}
	return "ok", nil
}

type plugins struct{}

func (plugins) ListPlugins(context.Context) ([]api.PluginInfo, error) {
	return []api.PluginInfo{{ID: "backup.local", Kind: "backup"}}, nil
}

func clusterServer(t *testing.T) (string, string, *cluster) {
	t.Helper()
	box, _ := secrets.New(bytes.Repeat([]byte{1}, secrets.KeySize))
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	cl := &cluster{st: st}
	tok, holder := auth.NewSetupToken()
	srv := api.New(api.Options{Store: st, Setup: holder, CSRFKey: box.Derive("csrf"), Plugins: plugins{},
		Services: service.New(service.Deps{Store: st, Data: service.DataDeps{Ops: cl, Jobs: cl}})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.App().Listener(ln)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String(), tok, cl
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	return v
}

func TestDatabaseAndBackupVerbs(t *testing.T) {
	url, token, cl := clusterServer(t)
	t.Setenv("BERTH_CONFIG", filepath.Join(t.TempDir(), "credentials.json"))
	t.Setenv("BERTH_SERVER", "")
	t.Setenv("BERTH_TOKEN", "")
	if r := run(t, "correct horse battery\n", "setup", "--server", url, "--setup-token", token, "--email", "a@example.com"); r.code != 0 {
		t.Fatalf("setup: %+v", r)
	}
	proj := decode[struct {
		Environments []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}](t, run(t, "", "projects", "create", "shop", "-o", "json"))
	env := proj.Environments[0].ID
	app := decode[struct{ ID string }](t, run(t, "", "apps", "create", env, "--name", "web", "--image", "nginx:1", "--port", "80", "-o", "json"))

	if r := run(t, "", "db", "create", env, "--name", "main"); r.code != cli.ExitUsage {
		t.Fatalf("create without engine: %+v", r)
	}
	if r := run(t, "", "db", "create", env, "--name", "main", "--engine", "oracle"); r.code != cli.ExitError || !strings.Contains(r.stderr, "engine") {
		t.Fatalf("create with a bad engine: %+v", r)
	}
	db := decode[struct {
		ID, Name, Engine, Version string
		DesiredState              string `json:"desired_state"`
	}](t, run(t, "", "db", "create", env, "--name", "main", "--engine", "postgres", "-o", "json"))
	if db.Engine != "postgres" || db.Version != "16" {
		t.Fatalf("created %+v", db)
	}
	if r := run(t, "", "db", "list", "--env", env); r.code != 0 || !strings.Contains(r.stdout, "main") || !strings.Contains(r.stdout, "postgres") || strings.Contains(r.stdout, "password") {
		t.Fatalf("db list: %+v", r)
	}
	r := run(t, "", "db", "url", db.ID)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "postgresql://berth:") {
		t.Fatalf("db url: %+v", r)
	}
	if r := run(t, "", "db", "stop", db.ID, "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"desired_state": "stopped"`) {
		t.Fatalf("db stop: %+v", r)
	}
	if r := run(t, "", "db", "start", db.ID); r.code != 0 {
		t.Fatalf("db start: %+v", r)
	}
	if r := run(t, "", "db", "get", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"); r.code != cli.ExitNotFound {
		t.Fatalf("db get unknown: %+v", r)
	}

	// Destinations and policies.
	dest := decode[struct{ ID string }](t, run(t, "", "backups", "destinations", "create", "disk", "--plugin", "backup.local", "--set", "directory=/srv/backups", "-o", "json"))
	if r := run(t, "", "backups", "destinations", "list"); r.code != 0 || !strings.Contains(r.stdout, "backup.local") || strings.Contains(r.stdout, "/srv/backups") {
		t.Fatalf("destinations list: %+v", r)
	}
	if r := run(t, "", "backups", "destinations", "test", dest.ID); r.code != 0 {
		t.Fatalf("destination test: %+v", r)
	}
	bad := decode[struct{ ID string }](t, run(t, "", "backups", "destinations", "create", "gone", "--plugin", "backup.local", "--set", "directory=/unreachable", "-o", "json"))
	if r := run(t, "", "backups", "destinations", "test", bad.ID); r.code != cli.ExitError || !strings.Contains(r.stderr, "connection refused") {
		t.Fatalf("failing destination test: %+v", r)
	}
	if r := run(t, "", "backups", "policies", "create", "--database", db.ID, "--destination", dest.ID, "--schedule", "61 * * * *"); r.code != cli.ExitError || !strings.Contains(r.stderr, "schedule") {
		t.Fatalf("bad schedule: %+v", r)
	}
	policy := decode[struct{ ID string }](t, run(t, "", "backups", "policies", "create", "--database", db.ID, "--destination", dest.ID,
		"--schedule", "@daily", "--timezone", "Europe/Paris", "--keep", "3", "-o", "json"))
	if r := run(t, "", "backups", "policies", "list", "--database", db.ID); r.code != 0 || !strings.Contains(r.stdout, "Europe/Paris") {
		t.Fatalf("policies list: %+v", r)
	}

	// Back up now, following it to the end.
	b := decode[struct{ ID, Status string }](t, run(t, "", "backups", "now", policy.ID, "--follow", "-o", "json"))
	if b.Status != "succeeded" {
		t.Fatalf("backup now --follow ended %q", b.Status)
	}
	if r := run(t, "", "backups", "list", "--database", db.ID); r.code != 0 || !strings.Contains(r.stdout, b.ID) || !strings.Contains(r.stdout, "succeeded") {
		t.Fatalf("backups list: %+v", r)
	}
	if r := run(t, "", "backups", "restore", "--database", db.ID, "--backup", b.ID); r.code != 0 || !strings.Contains(r.stderr, "Restored into main") {
		t.Fatalf("restore: %+v", r)
	}
	if r := run(t, "", "backups", "restore", "--database", db.ID, "--destination", dest.ID, "--key", "corrupt.gz"); r.code != cli.ExitError || !strings.Contains(r.stderr, "sha256 mismatch") {
		t.Fatalf("restore of a corrupted object: %+v", r)
	}
	if r := run(t, "", "backups", "restore", "--database", db.ID); r.code != cli.ExitUsage {
		t.Fatalf("restore without a backup: %+v", r)
	}
	if r := run(t, "", "backups", "restore", "--backup", b.ID); r.code != cli.ExitUsage {
		t.Fatalf("restore without a target: %+v", r)
	}
	// --detach returns the queued restore; restore-status --follow waits for it.
	queued := decode[struct{ ID, Status string }](t, run(t, "", "backups", "restore", "--database", db.ID, "--backup", b.ID, "--detach", "-o", "json"))
	if queued.Status != "queued" {
		t.Fatalf("restore --detach: %+v", queued)
	}
	if r := run(t, "", "backups", "restore-status", queued.ID, "--follow"); r.code != 0 || !strings.Contains(r.stderr, "succeeded") {
		t.Fatalf("restore-status --follow: %+v", r)
	}
	if r := run(t, "", "backups", "restore-cancel", queued.ID); r.code != cli.ExitError || !strings.Contains(r.stderr, "already ended") {
		t.Fatalf("cancel of an ended restore: %+v", r)
	}
	if len(cl.restores) != 3 || cl.restores[0].BackupID.String() != b.ID {
		t.Fatalf("restores = %+v", cl.restores)
	}
	// Objects on the destination: the recorded one names its backup.
	if r := run(t, "", "backups", "destinations", "objects", dest.ID); r.code != 0 || !strings.Contains(r.stdout, b.ID) || !strings.Contains(r.stdout, "old/postgres/main/y.dump.gz") {
		t.Fatalf("destination objects: %+v", r)
	}
	if r := run(t, "", "backups", "destinations", "objects", dest.ID, "--unrecorded"); r.code != 0 || strings.Contains(r.stdout, b.ID) || !strings.Contains(r.stdout, "y.dump.gz") {
		t.Fatalf("unrecorded objects: %+v", r)
	}

	// Volume backups of an application, and their restore.
	vp := decode[struct{ ID string }](t, run(t, "", "backups", "policies", "create", "--app", app.ID, "--destination", dest.ID, "--schedule", "@daily", "--stop-service", "-o", "json"))
	vb := decode[struct{ ID, Kind, Status string }](t, run(t, "", "backups", "now", vp.ID, "--follow", "-o", "json"))
	if vb.Kind != "volume" || vb.Status != "succeeded" {
		t.Fatalf("volume backup = %+v", vb)
	}
	if r := run(t, "", "backups", "list", "--app", app.ID); r.code != 0 || !strings.Contains(r.stdout, vb.ID) {
		t.Fatalf("volume backups list: %+v", r)
	}
	if r := run(t, "", "backups", "restore", "--app", app.ID, "--backup", b.ID); r.code != cli.ExitError || !strings.Contains(r.stderr, "backup_id") {
		t.Fatalf("database backup into an application: %+v", r)
	}
	if r := run(t, "", "backups", "restore", "--app", app.ID, "--backup", vb.ID); r.code != 0 || !strings.Contains(r.stderr, "Restored into web") {
		t.Fatalf("volume restore: %+v", r)
	}
	if r := run(t, "", "backups", "policies", "delete", vp.ID); r.code != 0 {
		t.Fatalf("volume policy delete: %+v", r)
	}

	if r := run(t, "", "backups", "destinations", "delete", dest.ID); r.code != cli.ExitError {
		t.Fatalf("delete a destination in use: %+v", r)
	}
	if r := run(t, "", "backups", "policies", "delete", policy.ID); r.code != 0 {
		t.Fatalf("policies delete: %+v", r)
	}
	if r := run(t, "", "backups", "destinations", "delete", dest.ID); r.code != 0 {
		t.Fatalf("destinations delete: %+v", r)
	}
	if r := run(t, "", "db", "delete", db.ID); r.code != 0 || !strings.Contains(r.stderr, "volume is kept") {
		t.Fatalf("db delete: %+v", r)
	}
	if n := len(cl.restores); n != 4 || cl.restores[n-1].Kind != "volume" || cl.restores[n-1].BackupID.String() != vb.ID {
		t.Fatalf("restores = %+v", cl.restores)
	}
	want := "deploy main running|deploy main stopped|deploy main running|delete main volume=false"
	if got := strings.Join(cl.calls, "|"); got != want {
		t.Fatalf("cluster calls %q, want %q", got, want)
	}
}
