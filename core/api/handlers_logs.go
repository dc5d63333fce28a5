package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/runtimelog"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// RuntimeLogs reads what applications and databases print;
// *runtimelog.Reader implements it.
type RuntimeLogs interface {
	Read(ctx context.Context, services []string, q runtimelog.Query, emit func(runtimelog.Line) error) error
}

// RuntimeLogPage is an answer of GET .../logs: the lines, oldest first.
type RuntimeLogPage struct {
	Items []runtimelog.Line `json:"items"`
}

// runtimeLogQuery documents the parameters of the runtime log routes.
var runtimeLogQuery = []QueryParam{
	{"tail", fmt.Sprintf("the latest lines matching the filters, 1 to %d (default %d; with follow, 0 to %d before the live ones)", runtimelog.MaxTail, runtimelog.DefaultTail, runtimelog.MaxTail), "integer"},
	{"since", "only lines from this time on: RFC 3339, or a duration back from now (10m, 2h)", "string"},
	{"until", "only lines up to this time: RFC 3339 or a duration back from now (not with follow)", "string"},
	{"task", "only the lines of the tasks whose id begins with this, or of this replica slot (a number)", "string"},
	{"grep", "only lines containing this text, ignoring case", "string"},
	{"stream", "only stdout or only stderr", "string"},
	{"follow", "stream the lines, then new ones live, as server-sent events (also with Accept: text/event-stream)", "boolean"},
}

// followLimit is how long one live stream lasts; an EventSource reconnects
// and resumes after its last line (Last-Event-ID).
const followLimit = time.Hour

// applicationLogs answers GET /applications/:id/logs.
func (s *Server) applicationLogs(c *fiber.Ctx) error {
	return s.runtimeLogs(c, runtimelog.ApplicationServices(resolved(c).Application))
}

// databaseLogs answers GET /databases/:id/logs.
func (s *Server) databaseLogs(c *fiber.Ctx) error {
	return s.runtimeLogs(c, runtimelog.DatabaseServices(resolved(c).Database))
}

// runtimeLogs returns the latest lines of services as JSON, or streams
// them and the new ones as server-sent events.
func (s *Server) runtimeLogs(c *fiber.Ctx, services []string) error {
	sse := c.Get(fiber.HeaderAccept) == "text/event-stream"
	q, err := runtimelog.ParseQuery(func(name string) string {
		if name == "follow" && sse && c.Query(name) == "" {
			return "true"
		}
		return c.Query(name)
	}, time.Now())
	if err != nil {
		return err
	}
	if s.opts.RuntimeLogs == nil {
		return problem.Down("runtime logs need the Docker Engine, which berth does not use here", nil)
	}
	if !q.Follow {
		page := RuntimeLogPage{Items: []runtimelog.Line{}}
		err := s.opts.RuntimeLogs.Read(c.UserContext(), services, q, func(l runtimelog.Line) error {
			page.Items = append(page.Items, l)
			return nil
		})
		if err != nil {
			return problem.Upstream("docker_failed", "the Docker Engine did not return the logs", err)
		}
		return c.JSON(page)
	}
	// An EventSource reconnecting says the last line it got: resume after it.
	if t, err := time.Parse(time.RFC3339Nano, c.Get("Last-Event-ID")); err == nil && !t.Before(q.Since) {
		q.Since, q.Tail = t.Add(time.Nanosecond), runtimelog.MaxTail
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	logs := s.opts.RuntimeLogs
	c.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		s.followRuntimeLogs(logs, services, q, w)
	}))
	return nil
}

// followRuntimeLogs writes the lines as events ("log", id = the line's
// time) with a keep-alive comment every second, until the client leaves
// (a write fails) or followLimit passes. A failure of Docker ends the
// stream with a "failed" event (not "error", which EventSource uses for
// its own connection errors).
func (s *Server) followRuntimeLogs(logs RuntimeLogs, services []string, q runtimelog.Query, w *bufio.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), followLimit)
	defer cancel()
	lines := make(chan runtimelog.Line)
	failed := make(chan error, 1)
	go func() {
		err := logs.Read(ctx, services, q, func(l runtimelog.Line) error {
			select {
			case lines <- l:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			failed <- err
		}
		cancel()
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case l := <-lines:
			data, _ := json.Marshal(l)
			fmt.Fprintf(w, "id: %s\nevent: log\ndata: %s\n\n", l.Time.Format(time.RFC3339Nano), data)
			if w.Flush() != nil {
				return
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || w.Flush() != nil {
				return
			}
		case err := <-failed:
			s.log.Warn("runtime logs: follow failed", "services", services, "err", err)
			data, _ := json.Marshal(map[string]string{"error": "the Docker Engine stopped sending the logs"})
			fmt.Fprintf(w, "event: failed\ndata: %s\n\n", data)
			_ = w.Flush()
			return
		case <-ctx.Done():
			return
		}
	}
}
