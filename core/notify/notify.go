// Package notify delivers berth's events (deployments, backups, ...) to
// the notification channels that subscribed to them. Emitting never fails
// the operation that emits: each delivery to each channel is a durable job
// on the notify queue, inserted with the state change it announces,
// retried with backoff while the channel is down, and recorded on the
// channel's health.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// MaxAttempts is how often one delivery is tried before it is given up.
const MaxAttempts = 6

// Args is the durable job of delivering one event to one channel. A job
// is unique per (channel, event): an event emitted twice is delivered
// once.
type Args struct {
	Channel uuid.UUID `json:"channel" river:"unique"`
	EventID string    `json:"event_id" river:"unique"`
	Event   sdk.Event `json:"event"`
}

// Kind is the stable job kind name.
func (Args) Kind() string { return "berth.notify" }

// InsertOpts puts deliveries on the notify queue with retries, unique
// per channel and event while the job exists.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.Notify, MaxAttempts: MaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Targets picks the channels an event goes to (store.Store).
type Targets interface {
	ChannelsFor(ctx context.Context, ev store.EventScope) ([]uuid.UUID, error)
}

// Inserter enqueues jobs.
type Inserter interface {
	Insert(ctx context.Context, args river.JobArgs) (int64, error)
}

// TxInserter enqueues jobs in a transaction (queue.Jobs).
type TxInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, bool, error)
}

// Dispatcher turns events into delivery jobs, one per channel.
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

// Emit queues ev for every channel subscribed to it. It fills in the
// event's ID, Time and Severity when they are empty. Failures are logged,
// never returned: a notification must not fail a deployment or a backup.
func (d *Dispatcher) Emit(ctx context.Context, ev sdk.Event) {
	if d == nil || d.queue == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	ev, ids, ok := d.prepare(ctx, d.targets, ev)
	if !ok {
		return
	}
	for _, id := range ids {
		if _, err := d.queue.Insert(ctx, Args{Channel: id, EventID: ev.ID, Event: ev}); err != nil {
			d.log.Error("notify: queue delivery", "channel", id, "event", ev.Type, "error", err)
		}
	}
}

// EmitTx queues ev's deliveries in tx, so they exist only if the state
// change tx records commits (a rolled-back change notifies no one). The
// channels are looked up in tx too. Each delivery is inserted under a
// savepoint: a failed insert is logged and never aborts tx. Without a
// transactional queue it falls back to Emit (at once, before tx commits).
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
	targets := d.targets
	if st, ok := targets.(*store.Store); ok {
		targets = st.Bound(tx)
	}
	ev, ids, ok := d.prepare(ctx, targets, ev)
	if !ok {
		return
	}
	for _, id := range ids {
		err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
			_, _, err := ti.InsertTx(ctx, sp, Args{Channel: id, EventID: ev.ID, Event: ev}, nil)
			return err
		})
		if err != nil {
			d.log.Error("notify: queue delivery", "channel", id, "event", ev.Type, "error", err)
		}
	}
}

// prepare fills in ev's defaults and lists the channels it goes to.
func (d *Dispatcher) prepare(ctx context.Context, targets Targets, ev sdk.Event) (sdk.Event, []uuid.UUID, bool) {
	if ev.ID == "" {
		ev.ID = newID()
	}
	if ev.Time.IsZero() {
		ev.Time = d.now().UTC()
	}
	if ev.Severity == "" {
		ev.Severity = sdk.SeverityInfo
	}
	ids, err := targets.ChannelsFor(ctx, Scope(ev))
	if err != nil {
		d.log.Error("notify: list channels", "event", ev.Type, "error", err)
		return ev, nil, false
	}
	return ev, ids, true
}

// Scope is what ev concerns: its type, organization, project and
// environment (nil when not set or not a UUID).
func Scope(ev sdk.Event) store.EventScope {
	return store.EventScope{Type: string(ev.Type), Organization: parseID(ev.OrganizationID),
		Project: parseID(ev.ProjectID), Environment: parseID(ev.EnvironmentID)}
}

func parseID(s string) *uuid.UUID {
	id, err := uuid.Parse(s)
	if err != nil || id == uuid.Nil {
		return nil
	}
	return &id
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
