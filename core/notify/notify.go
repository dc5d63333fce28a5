// Package notify delivers berth's events (deployments, backups, ...) to the
// notifier plugins an administrator configured. Emitting never fails the
// operation that emits: each delivery is a durable job on the notify queue,
// retried with backoff when a channel is down, and logged when it gives up.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/sdk"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// MaxAttempts is how often one delivery is tried before it is given up.
const MaxAttempts = 6

// Args is the durable job of delivering one event to one notifier plugin.
type Args struct {
	Notifier string    `json:"notifier"`
	Event    sdk.Event `json:"event"`
}

// Kind is the stable job kind name.
func (Args) Kind() string { return "berth.notify" }

// InsertOpts puts deliveries on the notify queue with retries.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.Notify, MaxAttempts: MaxAttempts}
}

// Targets names the notifier plugins events go to.
type Targets interface {
	// NotifierIDs lists the ids of the configured notifier plugins.
	NotifierIDs(ctx context.Context) ([]string, error)
}

// Inserter enqueues jobs.
type Inserter interface {
	Insert(ctx context.Context, args river.JobArgs) (int64, error)
}

// Dispatcher turns events into delivery jobs.
type Dispatcher struct {
	targets Targets
	queue   Inserter
	log     *slog.Logger
	now     func() time.Time
}

// NewDispatcher returns a dispatcher inserting deliveries with q (an
// insert-only queue.Jobs is enough: the Worker runs them); a nil q
// delivers nothing.
func NewDispatcher(targets Targets, q Inserter, log *slog.Logger) *Dispatcher {
	if log == nil {
		log = slog.Default()
	}
	return &Dispatcher{targets: targets, queue: q, log: log, now: time.Now}
}

// Emit queues ev for every configured notifier. It fills in the event's ID,
// Time and Severity when they are empty. Failures are logged, never
// returned: a notification must not fail a deployment or a backup.
func (d *Dispatcher) Emit(ctx context.Context, ev sdk.Event) {
	if d == nil || d.queue == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	ev, ids, ok := d.prepare(ctx, ev)
	if !ok {
		return
	}
	for _, id := range ids {
		if _, err := d.queue.Insert(ctx, Args{Notifier: id, Event: ev}); err != nil {
			d.log.Error("notify: queue delivery", "notifier", id, "event", ev.Type, "error", err)
		}
	}
}

// TxInserter enqueues jobs in a transaction (queue.Jobs).
type TxInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, bool, error)
}

// EmitTx queues ev's deliveries in tx, so they exist only if the state
// change tx records commits (a rolled-back change notifies no one). Each
// delivery is inserted under a savepoint: a failed insert is logged and
// never aborts tx. Without a transactional queue it falls back to Emit
// (at once, before tx commits).
func (d *Dispatcher) EmitTx(ctx context.Context, tx pgx.Tx, ev sdk.Event) {
	if d == nil || d.queue == nil {
		return
	}
	ti, ok := d.queue.(TxInserter)
	if !ok {
		d.Emit(ctx, ev)
		return
	}
	ctx = context.WithoutCancel(ctx)
	ev, ids, ok := d.prepare(ctx, ev)
	if !ok {
		return
	}
	for _, id := range ids {
		err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
			_, _, err := ti.InsertTx(ctx, sp, Args{Notifier: id, Event: ev}, nil)
			return err
		})
		if err != nil {
			d.log.Error("notify: queue delivery", "notifier", id, "event", ev.Type, "error", err)
		}
	}
}

// prepare fills in ev's defaults and lists the notifiers it goes to.
func (d *Dispatcher) prepare(ctx context.Context, ev sdk.Event) (sdk.Event, []string, bool) {
	if ev.ID == "" {
		ev.ID = newID()
	}
	if ev.Time.IsZero() {
		ev.Time = d.now().UTC()
	}
	if ev.Severity == "" {
		ev.Severity = sdk.SeverityInfo
	}
	ids, err := d.targets.NotifierIDs(ctx)
	if err != nil {
		d.log.Error("notify: list notifiers", "event", ev.Type, "error", err)
		return ev, nil, false
	}
	return ev, ids, true
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Plugins opens notifier plugins.
type Plugins interface {
	Notifier(ctx context.Context, id string) (sdk.Notifier, error)
}

// Worker delivers events.
type Worker struct {
	river.WorkerDefaults[Args]
	Plugins Plugins
	Logger  *slog.Logger
}

// Work sends one event; an error makes River retry it with backoff.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	n, err := w.Plugins.Notifier(ctx, job.Args.Notifier)
	if err != nil {
		return w.failed(job, fmt.Errorf("notify %s: %w", job.Args.Notifier, err))
	}
	if _, err := n.Send(ctx, &sdk.SendRequest{Event: job.Args.Event}); err != nil {
		return w.failed(job, fmt.Errorf("notify %s: send %s: %w", job.Args.Notifier, job.Args.Event.Type, err))
	}
	return nil
}

// failed logs the last failed attempt, so a lost notification is visible.
func (w *Worker) failed(job *river.Job[Args], err error) error {
	if job.Attempt >= job.MaxAttempts && w.Logger != nil {
		w.Logger.Error("notification given up", "notifier", job.Args.Notifier, "event", job.Args.Event.Type,
			"attempts", job.Attempt, "error", err)
	}
	return err
}

// Timeout bounds one delivery.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return time.Minute }
