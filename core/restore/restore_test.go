package restore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/backup"
	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/restore"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fakeRunner stands in for the backup runner: each restore blocks until
// release is closed (or its context ends) and then returns result.
type fakeRunner struct {
	mu       sync.Mutex
	started  chan backup.RestoreRequest
	release  chan struct{}
	result   error
	cleanups []uuid.UUID
}

func (f *fakeRunner) Restore(ctx context.Context, req backup.RestoreRequest, progress func(string)) error {
	progress("loading into the fresh database")
	req.OnBytes(512, 1024)
	f.started <- req
	select {
	case <-f.release:
		req.OnBytes(1024, 1024)
		return f.result
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeRunner) RestoreVolumes(ctx context.Context, req backup.VolumeRestoreRequest, progress func(string)) error {
	return f.Restore(ctx, backup.RestoreRequest{BackupID: req.BackupID, OnBytes: func(int64, int64) {}}, progress)
}

func (f *fakeRunner) CleanupRestore(_ context.Context, r store.Restore) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, r.ID)
	return "main kept its previous data", nil
}

// sink records emitted events.
type sink struct {
	mu  sync.Mutex
	evs []sdk.Event
}

func (s *sink) Emit(_ context.Context, ev sdk.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evs = append(s.evs, ev)
}

func (s *sink) all() []sdk.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sdk.Event(nil), s.evs...)
}

type env struct {
	events *sink
	envID  uuid.UUID
	ctx    context.Context
	st     *store.Store
	q      *queue.Queue
	svc    *restore.Service
	runner *fakeRunner
	org    uuid.UUID
	db     store.Database
}

// newEnv is a real store and a real River queue with the restore worker
// running on a fake runner.
func newEnv(t *testing.T, start bool) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	box, _ := secrets.New(bytes.Repeat([]byte{7}, secrets.KeySize))
	st, err := store.Open(ctx, pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := queue.Migrate(ctx, st.Pool()); err != nil {
		t.Fatal(err)
	}
	_, org, err := st.Setup(ctx, store.SetupInput{Email: "a@example.com", Name: "A", PasswordHash: "x", Organization: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	_, envr, err := st.CreateProject(ctx, org.ID, "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := database.NewCredentials(database.Postgres, "main")
	db, err := st.CreateDatabase(ctx, envr.ID, store.DatabaseSpec{Name: "main", Engine: database.Postgres}, creds)
	if err != nil {
		t.Fatal(err)
	}
	r := &fakeRunner{started: make(chan backup.RestoreRequest, 4), release: make(chan struct{})}
	workers := river.NewWorkers()
	events := &sink{}
	river.AddWorker(workers, &restore.Worker{Store: st, Runner: r, Events: events})
	q, err := queue.New(st.Pool(), workers, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: ctx, st: st, q: q, runner: r, org: org.ID, db: db, events: events, envID: envr.ID,
		svc: &restore.Service{Store: st, Queue: q, Runner: r}}
	if start {
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
			defer c()
			_ = q.Stop(sctx)
		})
	}
	return e
}

func (e *env) newRestore() store.NewRestore {
	return store.NewRestore{OrganizationID: e.org, Kind: "database", DatabaseID: &e.db.ID, Key: "k/x.dump.gz", TargetName: e.db.Name}
}

func (e *env) jobs(t *testing.T, id uuid.UUID) int {
	t.Helper()
	var n int
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT count(*) FROM river_job WHERE kind = 'berth.restore' AND args->>'restore_id' = $1`,
		id.String()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) wait(t *testing.T, id uuid.UUID, cond func(store.Restore) bool) store.Restore {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := e.st.GetRestore(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore stuck at %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// failingQueue inserts the job in the transaction, then fails: the record
// must not survive the failure.
type failingQueue struct{ *queue.Queue }

func (f failingQueue) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, bool, error) {
	if _, _, err := f.Queue.InsertTx(ctx, tx, args, opts); err != nil {
		return 0, false, err
	}
	return 0, false, errors.New("queue refused the job")
}

// TestCreateIsAtomic: the restore record and its River job are created in
// one transaction: both, or neither.
func TestCreateIsAtomic(t *testing.T) {
	e := newEnv(t, false)
	r, err := e.svc.Create(e.ctx, e.newRestore())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.RestoreQueued || r.JobID == nil || *r.JobID == 0 {
		t.Fatalf("created = %+v", r)
	}
	if n := e.jobs(t, r.ID); n != 1 {
		t.Fatalf("%d jobs for the restore, want 1", n)
	}

	bad := &restore.Service{Store: e.st, Queue: failingQueue{e.q}, Runner: e.runner}
	if _, err := bad.Create(e.ctx, e.newRestore()); err == nil {
		t.Fatal("Create succeeded although enqueueing failed")
	}
	list, err := e.st.ListRestores(e.ctx, store.RestoreFilter{Database: e.db.ID}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != r.ID {
		t.Fatalf("restores after a failed enqueue = %+v", list)
	}
	var n int
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT count(*) FROM river_job WHERE kind = 'berth.restore'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d restore jobs after a failed create, want 1", n)
	}
}

// TestWorkerLifecycle runs restores through the real queue: progress is
// recorded, success and failure end the record, a second restore of the
// same database waits for the first, and cancel stops a running one.
func TestWorkerLifecycle(t *testing.T) {
	e := newEnv(t, true)
	first, err := e.svc.Create(e.ctx, e.newRestore())
	if err != nil {
		t.Fatal(err)
	}
	req := <-e.runner.started
	if req.ID != first.ID || req.DatabaseID != e.db.ID || req.Key != "k/x.dump.gz" {
		t.Fatalf("runner asked %+v", req)
	}
	running := e.wait(t, first.ID, func(r store.Restore) bool { return r.Status == store.RestoreRunning && r.BytesTotal == 1024 })
	if running.Phase != "loading into the fresh database" || running.StartedAt == nil {
		t.Fatalf("running = %+v", running)
	}
	// A second restore of the same database waits while the first runs.
	second, err := e.svc.Create(e.ctx, e.newRestore())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if r, _ := e.st.GetRestore(e.ctx, second.ID); r.Status != store.RestoreQueued {
		t.Fatalf("second restore is %s while the first runs", r.Status)
	}
	e.runner.release <- struct{}{}
	done := e.wait(t, first.ID, func(r store.Restore) bool { return r.Done() })
	if done.Status != store.RestoreSucceeded || done.BytesRead != 1024 || done.FinishedAt == nil {
		t.Fatalf("first = %+v", done)
	}
	// The second one runs now; cancel it while it runs.
	<-e.runner.started
	e.wait(t, second.ID, func(r store.Restore) bool { return r.Status == store.RestoreRunning })
	if _, err := e.svc.Cancel(e.ctx, second); err != nil {
		t.Fatal(err)
	}
	cancelled := e.wait(t, second.ID, func(r store.Restore) bool { return r.Done() })
	if cancelled.Status != store.RestoreCancelled || !cancelled.CancelRequested {
		t.Fatalf("cancelled = %+v", cancelled)
	}
	if _, err := e.svc.Cancel(e.ctx, cancelled); !errors.Is(err, restore.ErrNotCancellable) {
		t.Fatalf("cancelling an ended restore: %v", err)
	}
	// A failure is recorded with its message.
	e.runner.result = errors.New("pg_restore exited with code 1; main still has its previous data")
	third, err := e.svc.Create(e.ctx, e.newRestore())
	if err != nil {
		t.Fatal(err)
	}
	<-e.runner.started
	close(e.runner.release)
	failed := e.wait(t, third.ID, func(r store.Restore) bool { return r.Done() })
	if failed.Status != store.RestoreFailed || failed.Error != e.runner.result.Error() {
		t.Fatalf("failed = %+v", failed)
	}
	// One event per finished restore, none for the cancelled one.
	evs := e.events.all()
	want := []struct {
		typ sdk.EventType
		id  uuid.UUID
		err string
	}{{sdk.EventRestoreSucceeded, first.ID, ""}, {sdk.EventRestoreFailed, third.ID, e.runner.result.Error()}}
	if len(evs) != len(want) {
		t.Fatalf("events = %+v", evs)
	}
	for i, w := range want {
		ev := evs[i]
		if ev.Type != w.typ || ev.Restore == nil || ev.Restore.RestoreID != w.id.String() || ev.Restore.Error != w.err ||
			ev.Restore.Database != "main" || ev.OrganizationID != e.org.String() || ev.EnvironmentID != e.envID.String() ||
			ev.Environment == "" || ev.Project != "shop" || ev.Title == "" || ev.Message == "" {
			t.Errorf("event %d = %+v (%+v)", i, ev, ev.Restore)
		}
	}
}

// TestCancelQueued: a restore cancelled before it ran never runs.
func TestCancelQueued(t *testing.T) {
	e := newEnv(t, false)
	r, err := e.svc.Create(e.ctx, e.newRestore())
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.Cancel(e.ctx, r)
	if err != nil || c.Status != store.RestoreCancelled {
		t.Fatalf("cancel = %+v, %v", c, err)
	}
	if err := e.q.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	defer e.q.Stop(context.Background())
	select {
	case req := <-e.runner.started:
		t.Fatalf("a cancelled restore ran: %+v", req)
	case <-time.After(2 * time.Second):
	}
}

// TestRecover: at start-up a restore left running is failed with the
// reason, its clean-up runs in the background and is noted on the record;
// its job then finds it not queued and does nothing.
func TestRecover(t *testing.T) {
	e := newEnv(t, false)
	r, err := e.svc.Create(e.ctx, e.newRestore())
	if err != nil {
		t.Fatal(err)
	}
	if started, err := e.st.StartRestore(e.ctx, r.ID); err != nil || started != store.RestoreStarted {
		t.Fatalf("start: %v %v", started, err)
	}
	queued, err := e.svc.Create(e.ctx, e.newRestore())
	if err != nil {
		t.Fatal(err)
	}
	done, err := e.svc.Recover(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-done
	got, _ := e.st.GetRestore(e.ctx, r.ID)
	if got.Status != store.RestoreFailed || got.Error != restore.StoppedReason+"; main kept its previous data" || got.FinishedAt == nil {
		t.Fatalf("recovered = %+v", got)
	}
	if len(e.runner.cleanups) != 1 || e.runner.cleanups[0] != r.ID {
		t.Fatalf("cleanups = %v", e.runner.cleanups)
	}
	// The queued one still runs once the queue starts.
	if err := e.q.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	defer e.q.Stop(context.Background())
	req := <-e.runner.started
	if req.ID != queued.ID {
		t.Fatalf("ran %s, want the queued %s", req.ID, queued.ID)
	}
	close(e.runner.release)
	e.wait(t, queued.ID, func(r store.Restore) bool { return r.Status == store.RestoreSucceeded })
}
