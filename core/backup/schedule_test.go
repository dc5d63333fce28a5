package backup_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/schedule"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// startQueue runs the backup queue and the scheduler until the test ends.
func (e *env) startQueue() (*schedule.Scheduler, *queue.Queue) {
	e.t.Helper()
	if err := queue.Migrate(e.ctx, e.store.Pool()); err != nil {
		e.t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &schedule.Worker{Store: e.store, Runner: e.runner, RetryDelay: 200 * time.Millisecond})
	q, err := queue.New(e.store.Pool(), workers, queue.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := q.Start(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = q.Stop(e.ctx) })
	s := schedule.New(e.store, q, e.events, nil)
	s.Tick = 200 * time.Millisecond
	go s.Run(e.ctx)
	return s, q
}

func (e *env) waitBackups(what string, cond func([]store.Backup) bool, filter store.BackupFilter) []store.Backup {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		list, err := e.store.ListBackups(e.ctx, filter, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		if cond(list) {
			return list
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s: %+v", what, list)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestScheduledBackupsAndRetention lets a policy fire every two seconds,
// keeps the latest two, and restores the latest.
func TestScheduledBackupsAndRetention(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	op := ops[database.Postgres]
	db := e.database(database.Postgres, "shop")
	op.write(e, db)
	want := op.checksum(e, db)
	p, err := e.store.CreateBackupPolicy(e.ctx, &db.ID, nil, e.dest.ID, store.BackupPolicySpec{Schedule: "*/2 * * * * *",
		TimeZone: "Europe/Paris", Prefix: "nightly", KeepLatest: 2, Retries: 1, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	e.startQueue()
	list := e.waitBackups("four scheduled backups", func(l []store.Backup) bool {
		n := 0
		for _, b := range l {
			if b.Status == store.BackupSucceeded {
				n++
			}
		}
		return n >= 4
	}, store.BackupFilter{Policy: p.ID})
	_, _ = e.store.UpdateBackupPolicy(e.ctx, p.ID, e.dest.ID, store.BackupPolicySpec{Schedule: p.Schedule, TimeZone: p.TimeZone,
		Prefix: p.Prefix, KeepLatest: 2, Retries: 1, Enabled: false})
	// Let the runs already recorded finish and their retention passes run
	// (on a loaded machine a run can take longer than a tick): settled when
	// nothing is queued or running and at most the latest two are kept.
	settled := func(l []store.Backup) bool {
		kept := 0
		for _, b := range l {
			switch {
			case b.Status == store.BackupQueued || b.Status == store.BackupRunning:
				return false
			case b.Status == store.BackupSucceeded && b.DeletedAt == nil:
				kept++
			}
		}
		return kept <= 2
	}
	e.waitBackups("the scheduled runs to settle", settled, store.BackupFilter{Policy: p.ID})
	time.Sleep(time.Second) // a run the scheduler was recording as the policy was disabled
	e.waitBackups("the scheduled runs to settle", settled, store.BackupFilter{Policy: p.ID})
	list, _ = e.store.ListBackups(e.ctx, store.BackupFilter{Policy: p.ID, Status: store.BackupSucceeded}, 100)
	var kept, deleted []store.Backup
	for _, b := range list { // newest first
		if b.Trigger != store.TriggerSchedule || b.ScheduledAt == nil || !strings.HasPrefix(b.Key, "nightly/postgres/shop/") {
			t.Errorf("backup %+v", b)
		}
		if b.DeletedAt == nil {
			kept = append(kept, b)
		} else {
			deleted = append(deleted, b)
		}
	}
	if len(kept) != 2 || kept[0].ID != list[0].ID || kept[1].ID != list[1].ID {
		t.Fatalf("retention kept %d backups, want exactly the latest 2", len(kept))
	}
	for _, b := range deleted {
		if _, err := os.Stat(objectPath(e, b.Key)); err == nil {
			t.Errorf("retention left %s", b.Key)
		}
	}
	for _, b := range kept {
		objectFile(t, e.root, b.Key)
	}
	op.destroy(e, db)
	if err := e.runner.Restore(e.ctx, restoreOf(kept[0], db), nil); err != nil {
		t.Fatal(err)
	}
	if got := op.checksum(e, db); got != want {
		t.Errorf("restored %q, want %q", got, want)
	}
}

// TestUnreachableDestinationIsRetried fails a backup whose destination
// cannot store it, retries it per the policy, and reports it once.
func TestUnreachableDestinationIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	db := e.database(database.Postgres, "shop")
	broken := e.destination("broken", e.root+"/broken")
	// Replace the destination's directory with a file: nothing can be stored.
	if err := os.RemoveAll(e.root + "/broken"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.root+"/broken", []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := e.store.CreateBackupPolicy(e.ctx, &db.ID, nil, broken.ID, store.BackupPolicySpec{Schedule: "@yearly", KeepLatest: 3, Retries: 2, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	_, q := e.startQueue()
	b, err := schedule.Enqueue(e.ctx, e.store, q, store.NewBackup{PolicyID: &p.ID, DatabaseID: &db.ID, DestinationID: broken.ID,
		Status: store.BackupQueued, Trigger: store.TriggerManual}, p.Retries)
	if err != nil {
		t.Fatal(err)
	}
	e.waitBackups("three failed attempts", func(l []store.Backup) bool {
		return len(l) == 1 && l[0].Attempts == 3 && l[0].Status == store.BackupFailed && len(e.events.of(sdk.EventBackupFailed)) == 1
	}, store.BackupFilter{Policy: p.ID})
	got, _ := e.store.GetBackup(e.ctx, b.ID)
	if !strings.Contains(got.Error, "not a directory") && !strings.Contains(got.Error, "broken") {
		t.Errorf("error %q does not say why", got.Error)
	}
	ev := e.events.of(sdk.EventBackupFailed)[0]
	if ev.Backup.Error != got.Error || !strings.Contains(ev.Title, "shop") {
		t.Errorf("failed event = %+v", ev)
	}
	if len(e.events.of(sdk.EventBackupSucceeded)) != 0 {
		t.Error("no success expected")
	}
}

// TestMissedRunsAreReported records a run missed while berth was down.
func TestMissedRunsAreReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	db := e.database(database.Redis, "cache")
	p, err := e.store.CreateBackupPolicy(e.ctx, &db.ID, nil, e.dest.ID, store.BackupPolicySpec{Schedule: "0 3 * * *", TimeZone: "UTC", KeepLatest: 3, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Pool().Exec(e.ctx, `UPDATE backup_policies SET last_scheduled_at = now() - interval '3 days' WHERE id = $1`, p.ID); err != nil {
		t.Fatal(err)
	}
	s := schedule.New(e.store, nil, e.events, nil)
	if err := s.ReportMissed(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.ReportMissed(e.ctx); err != nil { // idempotent
		t.Fatal(err)
	}
	list, _ := e.store.ListBackups(e.ctx, store.BackupFilter{Policy: p.ID}, 10)
	if len(list) != 1 || list[0].Status != store.BackupMissed || !strings.Contains(list[0].Error, "missed while berth was down") {
		t.Fatalf("backups = %+v", list)
	}
	ev := e.events.of(sdk.EventBackupMissed)
	if len(ev) != 1 || !strings.Contains(ev[0].Message, "missed") || ev[0].Backup.Schedule != "0 3 * * *" ||
		ev[0].Backup.MissedRuns < 2 || ev[0].Backup.MissedAt.IsZero() || ev[0].Backup.Database != "cache" ||
		ev[0].OrganizationID != e.orgID.String() || ev[0].EnvironmentID != e.envID.String() {
		t.Errorf("events = %+v", ev)
	}
	if ev := e.events.of(sdk.EventBackupFailed); len(ev) != 0 {
		t.Errorf("missed runs emitted backup.failed: %+v", ev)
	}
	p, _ = e.store.GetBackupPolicy(e.ctx, p.ID)
	if p.LastScheduledAt == nil || time.Since(*p.LastScheduledAt) > time.Minute {
		t.Errorf("the schedule should continue from now: %v", p.LastScheduledAt)
	}
}
