package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
)

var restoreStatuses = []string{store.RestoreQueued, store.RestoreRunning, store.RestoreSucceeded, store.RestoreFailed, store.RestoreCancelled}

func (s *Server) getRestore(c *fiber.Ctx) (store.Restore, error) { return resolved(c).Restore, nil }

func (s *Server) cancelRestore(c *fiber.Ctx) (store.Restore, error) {
	return s.svc.Restores.Cancel(c.UserContext(), principal(c), resolved(c).Restore)
}

// listRestores lists the restores of the database or application named by
// :id, newest first.
func (s *Server) listRestores(c *fiber.Ctx) (List[store.Restore], error) {
	var f store.RestoreFilter
	if res := resolved(c); res.Kind == service.DatabaseResource {
		f.Database = res.Database.ID
	} else {
		f.Application = res.Application.ID
	}
	limit, err := listLimit(c)
	if err != nil {
		return List[store.Restore]{}, err
	}
	st, err := statusQuery(c, restoreStatuses)
	if err != nil {
		return List[store.Restore]{}, err
	}
	if st != "" {
		f.Statuses = []string{st}
	}
	items, err := s.store.ListRestores(c.UserContext(), f, limit)
	if items == nil {
		items = []store.Restore{}
	}
	return List[store.Restore]{Items: items}, err
}

// restoreEvents streams the restore as server-sent events: the record
// (event: restore) at once and whenever its status, phase or byte counts
// change, until it ends or the client goes away.
func (s *Server) restoreEvents(c *fiber.Ctx) error {
	r := resolved(c).Restore
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	id := r.ID
	c.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		s.streamRestore(id, w)
	}))
	return nil
}

// restoreEventInterval is how often a followed restore is read again.
const restoreEventInterval = 300 * time.Millisecond

func (s *Server) streamRestore(id uuid.UUID, w *bufio.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Hour)
	defer cancel()
	var last []byte
	t := time.NewTicker(restoreEventInterval)
	defer t.Stop()
	for n := 0; ; n++ {
		r, err := s.store.GetRestore(ctx, id)
		if err != nil {
			return
		}
		data, _ := json.Marshal(r)
		if string(data) != string(last) {
			last = data
			fmt.Fprintf(w, "event: restore\ndata: %s\n\n", data)
			if w.Flush() != nil {
				return
			}
		} else if n%30 == 0 {
			fmt.Fprint(w, ": keep-alive\n\n")
			if w.Flush() != nil {
				return
			}
		}
		if r.Done() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
