package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/core/eventscope"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/jackc/pgx/v5"
)

// EventEmitter delivers notification events (core/notify).
type EventEmitter interface {
	Emit(ctx context.Context, ev sdk.Event)
}

// TxEmitter is an EventEmitter that queues deliveries in a transaction, so
// a state change and its notification commit together.
type TxEmitter interface {
	EventEmitter
	EmitTx(ctx context.Context, tx pgx.Tx, ev sdk.Event)
}

// SetEvents makes the previews emit preview.created (in the transaction
// creating the preview) and preview.removed (in the one deleting it). Call
// it before serving requests; nil emits nothing.
func (ps *Previews) SetEvents(e EventEmitter) { ps.events = e }

// emitTx scopes ev to preview app and queues it in tx (or emits it at once
// through an emitter that cannot join transactions).
func (ps *Previews) emitTx(ctx context.Context, tx *store.Tx, app store.Application, ev sdk.Event) {
	if ps.events == nil {
		return
	}
	_ = eventscope.Application(ctx, tx.Store, app, &ev)
	ev.Title = app.Name + ": " + ev.Title
	if te, ok := ps.events.(TxEmitter); ok {
		te.EmitTx(ctx, tx.Pgx(), ev)
		return
	}
	ps.events.Emit(context.WithoutCancel(ctx), ev)
}

// delete removes a preview's row (its domains go with it) and emits
// preview.removed in the same transaction. A preview already gone emits
// nothing.
func (ps *Previews) delete(ctx context.Context, pv store.Application) error {
	st := ps.s.deps.Store
	host := ""
	if ds, _, err := st.ListDomains(ctx, pv.ID, store.Page{Limit: 1}); err == nil && len(ds) > 0 {
		host = ds[0].Host
	}
	err := st.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteApplication(ctx, pv.ID); err != nil {
			return err
		}
		ps.emitTx(ctx, tx, pv, previewEvent(sdk.EventPreviewRemoved, pv, host, ""))
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// previewEvent describes the preview app of a pull request, served at host.
func previewEvent(typ sdk.EventType, app store.Application, host, prURL string) sdk.Event {
	d := &sdk.PreviewDetails{PullRequest: app.PreviewNumber, PullRequestURL: prURL, Branch: app.PreviewHeadRef, Domain: host}
	ev := sdk.Event{Type: typ, Severity: sdk.SeverityInfo, Preview: d, Title: "preview created",
		Message: fmt.Sprintf("The preview of pull request #%d (%s) was created", d.PullRequest, d.Branch)}
	if host != "" {
		ev.Message += " at " + host
	}
	ev.Message += "."
	if typ == sdk.EventPreviewRemoved {
		ev.Title = "preview removed"
		ev.Message = fmt.Sprintf("The preview of pull request #%d (%s) was removed.", d.PullRequest, d.Branch)
	}
	return ev
}
