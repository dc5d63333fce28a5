package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/berth-dev/berth/core/store"
)

var restoreStatuses = []string{store.RestoreQueued, store.RestoreRunning, store.RestoreSucceeded, store.RestoreFailed, store.RestoreCancelled}

// loadRestore loads the restore named by :id, authorizing min on its
// organization (another organization's restore is a 404).
func (s *Server) loadRestore(c *fiber.Ctx, min store.Role) (store.Restore, error) {
	id, err := pathID(c, "id", "restore")
	if err != nil {
		return store.Restore{}, err
	}
	r, err := s.store.GetRestore(c.UserContext(), id)
	if err != nil {
		return r, notFoundAs(err, "restore")
	}
	return r, authorize(c, r.OrganizationID, min, "restore")
}

func (s *Server) getRestore(c *fiber.Ctx) error {
	r, err := s.loadRestore(c, store.RoleViewer)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) cancelRestore(c *fiber.Ctx) error {
	r, err := s.loadRestore(c, store.RoleMember)
	if err != nil {
		return err
	}
	ops, err := s.dbOps()
	if err != nil {
		return err
	}
	r, err = ops.CancelRestore(c.UserContext(), r)
	if errors.Is(err, ErrRestoreEnded) {
		return &Error{Status: fiber.StatusConflict, Code: "conflict", Message: err.Error()}
	} else if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(r)
}

// listRestores lists the restores of the database or application named by
// :id, newest first.
func (s *Server) listRestores(owner ownerLoader) fiber.Handler {
	return func(c *fiber.Ctx) error {
		o, err := owner(c, store.RoleViewer)
		if err != nil {
			return err
		}
		var f store.RestoreFilter
		if o.database != nil {
			f.Database = *o.database
		} else {
			f.Application = *o.application
		}
		limit, err := listLimit(c)
		if err != nil {
			return err
		}
		st, err := statusQuery(c, restoreStatuses)
		if err != nil {
			return err
		}
		if st != "" {
			f.Statuses = []string{st}
		}
		items, err := s.store.ListRestores(c.UserContext(), f, limit)
		if err != nil {
			return err
		}
		if items == nil {
			items = []store.Restore{}
		}
		return c.JSON(List[store.Restore]{Items: items})
	}
}

// restoreEvents streams the restore as server-sent events: the record
// (event: restore) at once and whenever its status, phase or byte counts
// change, until it ends or the client goes away.
func (s *Server) restoreEvents(c *fiber.Ctx) error {
	r, err := s.loadRestore(c, store.RoleViewer)
	if err != nil {
		return err
	}
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
