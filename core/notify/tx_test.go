package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/notify"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// TestEmitTxCommitsWithTheStateChange: deliveries queued with EmitTx exist
// only when the transaction that records the state change commits.
func TestEmitTxCommitsWithTheStateChange(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := queue.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE things (id int PRIMARY KEY, state text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	workers := river.NewWorkers()
	river.AddWorker(workers, &notify.Worker{Plugins: pluginMap{"notifier.a": plugintest.Notifier(t, r)}, Logger: slog.Default()})
	q, err := queue.New(pool, workers, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := notify.NewDispatcher(targets{"notifier.a"}, q, slog.Default())

	rollback := errors.New("the state change failed")
	tests := []struct {
		name   string
		id     int
		fail   error
		events int
	}{
		{"rolled back", 1, rollback, 0},
		{"committed", 2, nil, 1},
	}
	for _, tt := range tests {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO things VALUES ($1, 'done')`, tt.id); err != nil {
				return err
			}
			d.EmitTx(ctx, tx, sdk.Event{Type: sdk.EventDeploySucceeded, Title: tt.name})
			return tt.fail
		})
		if !errors.Is(err, tt.fail) {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(stop)
	})
	waitFor(t, "the committed delivery", func() bool { _, got := r.events(); return len(got) == 1 })
	time.Sleep(time.Second) // a rolled-back delivery would arrive meanwhile
	var jobs int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'berth.notify'`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if _, got := r.events(); len(got) != 1 || got[0].Title != "committed" || jobs != 1 {
		t.Fatalf("delivered %+v (%d jobs), want only the committed event", got, jobs)
	}
}
