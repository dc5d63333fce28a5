package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// SendTimeout bounds one delivery attempt: a channel that hangs holds a
// worker this long at most.
const SendTimeout = 20 * time.Second

// busyRetry is how long a delivery waits when its channel already has a
// delivery in flight: one slow channel holds at most one worker.
const busyRetry = 2 * time.Second

// Channels loads channels and records their health (store.Store).
type Channels interface {
	GetNotificationChannel(ctx context.Context, id uuid.UUID) (store.NotificationChannel, error)
	RecordChannelDelivery(ctx context.Context, id uuid.UUID, errText string, gaveUp bool) error
}

// Plugins opens a channel's own notifier process (plugins.Host).
type Plugins interface {
	NotifierInstance(ctx context.Context, pluginID, key string, settings json.RawMessage) (sdk.Notifier, error)
}

// OutboundCheck checks, right before a delivery, the addresses a channel's
// settings name (host names are resolved again); nil checks nothing.
type OutboundCheck func(ctx context.Context, ch store.NotificationChannel) error

// Worker delivers events to channels.
type Worker struct {
	river.WorkerDefaults[Args]
	Channels Channels
	Plugins  Plugins
	Outbound OutboundCheck
	Logger   *slog.Logger

	busy sync.Map // channel id → struct{}: a delivery is in flight
}

// Work sends one event to one channel. A retriable failure makes River try
// again with backoff; a permanent one (credentials refused, invalid
// settings) is given up at once. Either is recorded on the channel's
// health. A deleted or disabled channel drops the delivery.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	ch, err := w.Channels.GetNotificationChannel(ctx, job.Args.Channel)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("notify: channel %s: %w", job.Args.Channel, err)
	}
	if !ch.Enabled {
		return nil
	}
	if _, inFlight := w.busy.LoadOrStore(ch.ID, struct{}{}); inFlight {
		return river.JobSnooze(busyRetry)
	}
	defer w.busy.Delete(ch.ID)

	err = w.send(ctx, ch, job.Args.Event)
	if err == nil {
		return w.record(ctx, ch, job, "", false)
	}
	permanent := Permanent(err)
	last := permanent || job.Attempt >= job.MaxAttempts
	w.log().Warn("notification not delivered", "channel", ch.ID, "plugin", ch.PluginID, "event", job.Args.Event.Type,
		"event_id", job.Args.EventID, "attempt", job.Attempt, "given_up", last, "error", err)
	if rerr := w.record(ctx, ch, job, netguard.Describe(err), last); rerr != nil {
		w.log().Error("notify: record channel health", "channel", ch.ID, "error", rerr)
	}
	if permanent {
		return river.JobCancel(err)
	}
	return err
}

// send delivers ev through ch's own plugin process.
func (w *Worker) send(ctx context.Context, ch store.NotificationChannel, ev sdk.Event) error {
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	if w.Outbound != nil {
		if err := w.Outbound(ctx, ch); err != nil {
			return err
		}
	}
	n, err := w.Plugins.NotifierInstance(ctx, ch.PluginID, ch.ID.String(), ch.Settings)
	if err != nil {
		return fmt.Errorf("notifier %s: %w", ch.PluginID, err)
	}
	if _, err := n.Send(ctx, &sdk.SendRequest{Event: ev}); err != nil {
		return fmt.Errorf("notifier %s: send %s: %w", ch.PluginID, ev.Type, err)
	}
	return nil
}

func (w *Worker) record(ctx context.Context, ch store.NotificationChannel, job *river.Job[Args], errText string, gaveUp bool) error {
	ctx = context.WithoutCancel(ctx)
	if err := w.Channels.RecordChannelDelivery(ctx, ch.ID, errText, gaveUp); err != nil {
		if errText == "" {
			w.log().Error("notify: record channel health", "channel", ch.ID, "error", err)
		}
		return err
	}
	if gaveUp {
		w.log().Error("notification given up", "channel", ch.ID, "plugin", ch.PluginID,
			"event", job.Args.Event.Type, "event_id", job.Args.EventID, "attempts", job.Attempt)
	}
	return nil
}

func (w *Worker) log() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}

// Permanent reports whether a delivery failure will not go away by
// trying again: refused credentials, invalid settings or request, a
// missing channel or plugin, or an address the outbound guard refuses.
func Permanent(err error) bool {
	var ce *sdk.ConfigError
	var be *netguard.BlockedError
	return errors.As(err, &ce) || errors.As(err, &be) ||
		errors.Is(err, sdk.ErrUnauthenticated) ||
		errors.Is(err, sdk.ErrInvalidArgument) || errors.Is(err, sdk.ErrNotConfigured) ||
		errors.Is(err, sdk.ErrNotFound)
}

// Timeout bounds one delivery job (SendTimeout plus loading the channel).
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return SendTimeout + 10*time.Second }
