// Package deploylog records deployment logs and streams them live.
//
// A Writer numbers each line, hands it at once to every subscriber (the
// server-sent-events endpoint, `berth deploy --follow`) and persists lines
// in small batches, so a log survives restarts and can be replayed from any
// sequence number.
package deploylog

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// Store persists log lines.
type Store interface {
	AppendLogs(ctx context.Context, id uuid.UUID, lines []store.LogLine) error
	MaxLogSeq(ctx context.Context, id uuid.UUID) (int, error)
}

// Hub fans deployment log lines out to subscribers.
type Hub struct {
	store Store
	log   *slog.Logger

	mu   sync.Mutex
	subs map[uuid.UUID]map[chan store.LogLine]struct{}
}

// NewHub returns a Hub persisting to st.
func NewHub(st Store, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	return &Hub{store: st, log: log, subs: map[uuid.UUID]map[chan store.LogLine]struct{}{}}
}

// Subscribe returns a channel receiving the deployment's new lines, and a
// function ending the subscription. The channel is closed when the
// deployment's Writer closes or the subscription ends. A subscriber that
// falls more than 1024 lines behind is dropped (its channel closed); it can
// resume from the stored log.
func (h *Hub) Subscribe(id uuid.UUID) (<-chan store.LogLine, func()) {
	ch := make(chan store.LogLine, 1024)
	h.mu.Lock()
	if h.subs[id] == nil {
		h.subs[id] = map[chan store.LogLine]struct{}{}
	}
	h.subs[id][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() { h.unsubscribe(id, ch) }
}

func (h *Hub) unsubscribe(id uuid.UUID, ch chan store.LogLine) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[id][ch]; ok {
		delete(h.subs[id], ch)
		close(ch)
	}
	if len(h.subs[id]) == 0 {
		delete(h.subs, id)
	}
}

func (h *Hub) publish(id uuid.UUID, l store.LogLine) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[id] {
		select {
		case ch <- l:
		default: // too slow: drop it rather than block the deployment
			delete(h.subs[id], ch)
			close(ch)
		}
	}
}

func (h *Hub) closeAll(id uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[id] {
		close(ch)
	}
	delete(h.subs, id)
}

// Writer appends lines to one deployment's log.
type Writer struct {
	hub *Hub
	id  uuid.UUID

	mu      sync.Mutex
	seq     int
	pending []store.LogLine
	secrets []string
	closed  bool
	done    chan struct{}
	flushed chan struct{}
}

// Writer starts writing the log of deployment id, continuing its numbering.
// Every occurrence of a value in secrets is masked.
func (h *Hub) Writer(ctx context.Context, id uuid.UUID, secrets []string) *Writer {
	seq, err := h.store.MaxLogSeq(ctx, id)
	if err != nil {
		h.log.Warn("reading deployment log position failed", "deployment", id, "err", err)
	}
	w := &Writer{hub: h, id: id, seq: seq, done: make(chan struct{}), flushed: make(chan struct{})}
	for _, s := range secrets {
		if len(s) >= 4 { // masking very short values would garble the log
			w.secrets = append(w.secrets, s)
		}
	}
	go w.loop(context.WithoutCancel(ctx))
	return w
}

// Line records one line (split on newlines; empty lines are kept).
func (w *Writer) Line(stream, text string) {
	text = strings.TrimRight(text, "\r\n")
	for _, s := range w.secrets {
		text = strings.ReplaceAll(text, s, "********")
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	var out []store.LogLine
	for _, part := range strings.Split(text, "\n") {
		w.seq++
		l := store.LogLine{Seq: w.seq, At: time.Now().UTC(), Stream: stream, Line: strings.TrimRight(part, "\r")}
		w.pending = append(w.pending, l)
		out = append(out, l)
	}
	w.mu.Unlock()
	for _, l := range out {
		w.hub.publish(w.id, l)
	}
}

// Info records a progress line of berth itself.
func (w *Writer) Info(text string) { w.Line("berth", text) }

func (w *Writer) loop(ctx context.Context) {
	defer close(w.flushed)
	t := time.NewTicker(150 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			w.flush(ctx)
			return
		case <-t.C:
			w.flush(ctx)
		}
	}
}

func (w *Writer) flush(ctx context.Context) {
	w.mu.Lock()
	batch := w.pending
	w.pending = nil
	w.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := w.hub.store.AppendLogs(ctx, w.id, batch); err != nil {
		w.hub.log.Error("storing deployment log lines failed", "deployment", w.id, "lines", len(batch), "err", err)
	}
}

// Close flushes the remaining lines and ends every subscription.
func (w *Writer) Close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.done)
	<-w.flushed
	w.hub.closeAll(w.id)
}
