package restore

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/core/eventscope"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/jackc/pgx/v5"
)

// EventEmitter delivers events (core/notify).
type EventEmitter interface {
	Emit(ctx context.Context, ev sdk.Event)
}

// TxEmitter is an EventEmitter that queues deliveries in a transaction, so
// a restore's outcome and its notification commit together.
type TxEmitter interface {
	EventEmitter
	EmitTx(ctx context.Context, tx pgx.Tx, ev sdk.Event)
}

// finish records a restore's outcome and, in the same transaction, emits
// restore.succeeded or restore.failed (a cancelled restore, asked for by a
// user, emits nothing).
func (w *Worker) finish(ctx context.Context, rec store.Restore, status, phase, msg string) error {
	te, txEmit := w.Events.(TxEmitter)
	var ev *sdk.Event
	err := w.Store.WithTx(ctx, func(tx *store.Tx) error {
		done, err := tx.FinishRestore(ctx, rec.ID, status, phase, msg)
		if err != nil || !done || w.Events == nil {
			return err
		}
		cur, err := tx.GetRestore(ctx, rec.ID)
		if err != nil {
			return err
		}
		e, ok := restoreEvent(cur)
		if !ok {
			return nil
		}
		scope(ctx, tx.Store, cur, &e)
		if txEmit {
			te.EmitTx(ctx, tx.Pgx(), e)
		} else {
			ev = &e
		}
		return nil
	})
	if err == nil && ev != nil {
		w.Events.Emit(ctx, *ev)
	}
	return err
}

// scope fills in the organization, project and environment of what was
// restored (best effort).
func scope(ctx context.Context, st *store.Store, r store.Restore, ev *sdk.Event) {
	ev.OrganizationID = r.OrganizationID.String()
	switch {
	case r.DatabaseID != nil:
		_ = eventscope.DatabaseID(ctx, st, *r.DatabaseID, ev)
	case r.ApplicationID != nil:
		_ = eventscope.ApplicationID(ctx, st, *r.ApplicationID, ev)
	}
}

// restoreEvent describes a finished restore; false for a cancelled one.
func restoreEvent(r store.Restore) (sdk.Event, bool) {
	d := &sdk.RestoreDetails{RestoreID: r.ID.String(), Error: r.Error}
	if r.BackupID != nil {
		d.BackupID = r.BackupID.String()
	}
	if r.Kind == "volume" {
		d.App = r.TargetName
	} else {
		d.Database = r.TargetName
	}
	if r.StartedAt != nil && r.FinishedAt != nil {
		d.Duration = r.FinishedAt.Sub(*r.StartedAt)
	}
	ev := sdk.Event{Restore: d}
	switch r.Status {
	case store.RestoreSucceeded:
		ev.Type, ev.Severity = sdk.EventRestoreSucceeded, sdk.SeverityInfo
		ev.Title = "Restore of " + r.TargetName + " succeeded"
		ev.Message = fmt.Sprintf("%s was restored", r.TargetName)
		if d.BackupID != "" {
			ev.Message += " from backup " + d.BackupID
		} else if r.Key != "" {
			ev.Message += " from " + r.Key
		}
		ev.Message += "."
	case store.RestoreFailed:
		ev.Type, ev.Severity = sdk.EventRestoreFailed, sdk.SeverityError
		ev.Title = "Restore of " + r.TargetName + " failed"
		ev.Message = r.Error
	default:
		return sdk.Event{}, false
	}
	return ev, true
}
