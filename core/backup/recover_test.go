package backup_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// TestRecoverAfterAKilledVolumeBackup: a berth killed while a stop_service
// volume backup had the application at zero left the service stopped and
// the backup running. Recover (at start-up) scales the service back to the
// replicas recorded before the stop, fails the backup with the reason and
// a queued one whose job is gone, and the next run succeeds.
func TestRecoverAfterAKilledVolumeBackup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.application("crashed")
	if _, err := e.mgr.Scale(e.ctx, app.ServiceName, 2); err != nil {
		t.Fatal(err)
	}
	p := e.volumePolicy(app, e.dest, true)
	// What the killed process left: the service stopped for the copy, the
	// run recorded running, and a queued run without a job.
	if prev, err := e.mgr.StopForCopy(e.ctx, app.ServiceName); err != nil || prev != 2 {
		t.Fatalf("StopForCopy = %d, %v", prev, err)
	}
	running, _, err := e.store.CreateBackup(e.ctx, store.NewBackup{PolicyID: &p.ID, ApplicationID: &app.ID, DestinationID: p.DestinationID,
		Kind: "volume", Status: store.BackupQueued, Trigger: store.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.StartBackup(e.ctx, running.ID); err != nil {
		t.Fatal(err)
	}
	orphan, _, err := e.store.CreateBackup(e.ctx, store.NewBackup{PolicyID: &p.ID, ApplicationID: &app.ID, DestinationID: p.DestinationID,
		Kind: "volume", Status: store.BackupQueued, Trigger: store.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}

	if err := queue.Migrate(e.ctx, e.store.Pool()); err != nil {
		t.Fatal(err)
	}
	q, err := queue.New(e.store.Pool(), river.NewWorkers(), queue.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	runner := e.newRunner(e.targets)
	if err := runner.Recover(e.ctx, q, map[string]string{swarm.LabelAppID: app.ID.String()}); err != nil {
		t.Fatal(err)
	}

	svc, _, err := e.docker.ServiceInspectWithRaw(e.ctx, app.ServiceName, swarmInspect)
	if err != nil {
		t.Fatal(err)
	}
	if r := *svc.Spec.Mode.Replicated.Replicas; r != 2 || len(e.appContainers(app)) != 2 {
		t.Fatalf("after Recover: %d replicas, %d running containers; want the recorded 2", r, len(e.appContainers(app)))
	}
	if _, marked := svc.Spec.Labels[swarm.LabelStoppedReplicas]; marked {
		t.Fatalf("the service still carries %s", swarm.LabelStoppedReplicas)
	}
	for _, tt := range []struct {
		name   string
		id     store.Backup
		reason string
	}{
		{"running", running, "berth stopped during the backup"},
		{"queued without a job", orphan, "it has no job"},
	} {
		b, err := e.store.GetBackup(e.ctx, tt.id.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != store.BackupFailed || !strings.Contains(b.Error, tt.reason) {
			t.Errorf("%s backup: %s %q, want failed %q", tt.name, b.Status, b.Error, tt.reason)
		}
	}
	// Nothing blocks the policy: the next run succeeds and restarts the
	// service again.
	b, err := e.volumeBackup(e.ctx, runner, app, p)
	if err != nil || b.Status != store.BackupSucceeded {
		t.Fatalf("next volume backup: %v (%+v)", err, b)
	}
	if n := len(e.appContainers(app)); n != 2 {
		t.Fatalf("after the next backup: %d running containers, want 2", n)
	}
}

// TestRecoverStopsADatabaseStartedForADump: a backup starts a stopped
// database for its dump and stops it afterwards; when berth is killed in
// between, start-up stops it again, so "stopped" keeps meaning stopped.
func TestRecoverStopsADatabaseStartedForADump(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	db := e.database(database.Postgres, "idle")
	if err := e.store.SetDatabaseState(e.ctx, db.ID, store.DatabaseStopped); err != nil {
		t.Fatal(err)
	}
	db, _ = e.store.GetDatabase(e.ctx, db.ID)
	// What the killed process left: the database started for the dump.
	if err := e.svc.Start(e.ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.execErr(db, "", nil, "true"); err != nil {
		t.Fatalf("the database should run before Recover: %v", err)
	}
	if err := queue.Migrate(e.ctx, e.store.Pool()); err != nil {
		t.Fatal(err)
	}
	q, err := queue.New(e.store.Pool(), river.NewWorkers(), queue.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.newRunner(e.targets).Recover(e.ctx, q, map[string]string{swarm.LabelAppID: "none"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.execErr(db, "", nil, "true"); err == nil {
		t.Fatal("after Recover the database that should be stopped still runs")
	}
	svc, _, err := e.docker.ServiceInspectWithRaw(e.ctx, db.ServiceName, swarmInspect)
	if err != nil {
		t.Fatal(err)
	}
	if r := *svc.Spec.Mode.Replicated.Replicas; r != 0 {
		t.Fatalf("after Recover: %d replicas, want 0", r)
	}
}
