package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/notify"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// recorder is a notifier plugin that fails its first failFirst sends.
type recorder struct {
	sdk.UnimplementedNotifier
	mu        sync.Mutex
	failFirst int
	calls     int
	got       []sdk.Event
}

func (r *recorder) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "notifier.recorder", Version: "0.0.1"}, nil
}

func (r *recorder) Send(_ context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls <= r.failFirst {
		return nil, errors.New("channel down")
	}
	r.got = append(r.got, req.Event)
	return &sdk.SendResponse{}, nil
}

func (r *recorder) events() (int, []sdk.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, append([]sdk.Event(nil), r.got...)
}

type targets []string

func (t targets) NotifierIDs(context.Context) ([]string, error) { return t, nil }

type pluginMap map[string]sdk.Notifier

func (m pluginMap) Notifier(_ context.Context, id string) (sdk.Notifier, error) {
	n, ok := m[id]
	if !ok {
		return nil, errors.New("unknown plugin " + id)
	}
	return n, nil
}

// startQueue starts a queue working deliveries and returns it with an
// insert-only job client on the same database (as berth wires them).
func startQueue(t *testing.T, plugins notify.Plugins) (*queue.Queue, *queue.Jobs) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := queue.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	jobs, err := queue.NewJobs(pool)
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &notify.Worker{Plugins: plugins, Logger: slog.Default()})
	q, err := queue.New(pool, workers, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(stop)
	})
	return q, jobs
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEmitDeliversToEveryConfiguredNotifier(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	plugins := pluginMap{"notifier.a": plugintest.Notifier(t, a), "notifier.b": plugintest.Notifier(t, b)}
	_, jobs := startQueue(t, plugins)
	d := notify.NewDispatcher(targets{"notifier.a", "notifier.b"}, jobs, slog.Default()) // insert-only, as in berth

	d.Emit(context.Background(), sdk.Event{Type: sdk.EventBackupSucceeded, Title: "backup done", Message: "ok",
		Backup: &sdk.BackupDetails{BackupID: "b1"}})
	for _, r := range []*recorder{a, b} {
		waitFor(t, "delivery", func() bool { _, got := r.events(); return len(got) == 1 })
		_, got := r.events()
		ev := got[0]
		if ev.Type != sdk.EventBackupSucceeded || ev.Title != "backup done" || ev.ID == "" || ev.Time.IsZero() ||
			ev.Severity != sdk.SeverityInfo || ev.Backup == nil || ev.Backup.BackupID != "b1" {
			t.Errorf("delivered event = %+v", ev)
		}
	}
	_, ga := a.events()
	_, gb := b.events()
	if ga[0].ID != gb[0].ID {
		t.Errorf("one event should carry one id to every notifier: %s vs %s", ga[0].ID, gb[0].ID)
	}
}

func TestFailedDeliveryIsRetried(t *testing.T) {
	r := &recorder{failFirst: 1}
	q, _ := startQueue(t, pluginMap{"notifier.flaky": plugintest.Notifier(t, r)})
	d := notify.NewDispatcher(targets{"notifier.flaky"}, q, slog.Default())
	d.Emit(context.Background(), sdk.Event{Type: sdk.EventDeployFailed, Title: "t", Message: "m"})
	// River's first retry comes after about a second.
	waitFor(t, "retried delivery", func() bool { _, got := r.events(); return len(got) == 1 })
	if calls, _ := r.events(); calls != 2 {
		t.Errorf("calls = %d, want 2 (one failure, one retry)", calls)
	}
}

func TestEmitWithoutQueueOrTargetsIsHarmless(t *testing.T) {
	var nilDispatcher *notify.Dispatcher
	nilDispatcher.Emit(context.Background(), sdk.Event{Type: sdk.EventTest})
	d := notify.NewDispatcher(targets{}, nil, nil)
	d.Emit(context.Background(), sdk.Event{Type: sdk.EventTest})
}
