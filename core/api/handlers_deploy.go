package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/berth-dev/berth/core/service"
	"strconv"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"
)

// Deployer is the enqueue side of the deployment pipeline.
type Deployer = service.Deployer

// LogStreams lets handlers follow a deployment's log live.
type LogStreams interface {
	Subscribe(id uuid.UUID) (<-chan store.LogLine, func())
}

// DeployRequest starts a deployment; all fields are optional.
type DeployRequest struct {
	// GitRef deploys this branch, tag or commit instead of the application's ref.
	GitRef string `json:"git_ref"`
	// Canary releases the new version to a share of the traffic until it
	// is promoted (POST /deployments/{id}/promote) or aborted.
	Canary *store.CanaryRequest `json:"canary"`
}

// LogPage is a slice of a deployment's log.
type LogPage struct {
	Items []store.LogLine `json:"items"`
	// Next is passed as ?after= to read on.
	Next int `json:"next"`
	// Finished says the deployment ended, so no more lines will come.
	Finished bool   `json:"finished"`
	Status   string `json:"status"`
}

func (s *Server) createDeployment(c *fiber.Ctx) error {
	var req DeployRequest
	if len(c.Body()) > 0 {
		if err := decodeBody(c, &req); err != nil {
			return err
		}
	}
	d, err := s.svc.Deployments.Deploy(c.UserContext(), principal(c), resolved(c).Application, service.DeployInput{GitRef: req.GitRef, Canary: req.Canary})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(d)
}

func (s *Server) promoteDeployment(c *fiber.Ctx) (store.Deployment, error) {
	return s.svc.Deployments.Promote(c.UserContext(), principal(c), resolved(c).Deployment)
}

func (s *Server) abortDeployment(c *fiber.Ctx) (store.Deployment, error) {
	return s.svc.Deployments.Abort(c.UserContext(), principal(c), resolved(c).Deployment)
}

func (s *Server) cancelDeployment(c *fiber.Ctx) (store.Deployment, error) {
	return s.svc.Deployments.Cancel(c.UserContext(), principal(c), resolved(c).Deployment)
}

func (s *Server) rollbackDeployment(c *fiber.Ctx) (store.Deployment, error) {
	return s.svc.Deployments.Rollback(c.UserContext(), principal(c), resolved(c).Deployment)
}

func (s *Server) listDeployments(c *fiber.Ctx) (List[store.Deployment], error) {
	pg, err := pageParams(c)
	if err != nil {
		return List[store.Deployment]{}, err
	}
	ds, more, err := s.store.ListDeployments(c.UserContext(), resolved(c).Application.ID, pg)
	if err != nil {
		return List[store.Deployment]{}, err
	}
	return listOf(ds, more, func(d store.Deployment) uuid.UUID { return d.ID }), nil
}

func (s *Server) getDeployment(c *fiber.Ctx) (store.Deployment, error) {
	return resolved(c).Deployment, nil
}

func (s *Server) deleteDeployment(c *fiber.Ctx) (NoContent, error) {
	return NoContent{}, s.svc.Deployments.Delete(c.UserContext(), principal(c), resolved(c).Deployment)
}

func (s *Server) listReleases(c *fiber.Ctx) (List[store.Deployment], error) {
	a := resolved(c).Application
	rs, err := s.store.Releases(c.UserContext(), a.ID, a.KeepReleases)
	return List[store.Deployment]{Items: orEmpty(rs)}, err
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// deploymentLogs returns a page of the log, or follows it with server-sent
// events when the client asks for text/event-stream or ?follow=true.
func (s *Server) deploymentLogs(c *fiber.Ctx) error {
	d := resolved(c).Deployment
	after := 0
	var err error
	if v := c.Query("after"); v != "" {
		if after, err = strconv.Atoi(v); err != nil || after < 0 {
			return badRequest("after", "must be a non-negative integer")
		}
	}
	follow := c.Query("follow") == "true" || c.Get(fiber.HeaderAccept) == "text/event-stream"
	if !follow {
		lines, err := s.store.ListLogs(c.UserContext(), d.ID, after, 1000)
		if err != nil {
			return err
		}
		page := LogPage{Items: orEmpty(lines), Next: after, Finished: d.Finished(), Status: d.Status}
		if len(lines) > 0 {
			page.Next = lines[len(lines)-1].Seq
		}
		return c.JSON(page)
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	id := d.ID
	c.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		s.streamLogs(id, after, w)
	}))
	return nil
}

// streamLogs writes stored lines after `after`, then live ones, until the
// deployment finishes or the client goes away.
func (s *Server) streamLogs(id uuid.UUID, after int, w *bufio.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	var live <-chan store.LogLine
	if s.opts.Logs != nil {
		ch, unsubscribe := s.opts.Logs.Subscribe(id)
		defer unsubscribe()
		live = ch
	}
	last := after
	send := func(l store.LogLine) bool {
		if l.Seq <= last {
			return true
		}
		last = l.Seq
		data, _ := json.Marshal(l)
		fmt.Fprintf(w, "id: %d\nevent: log\ndata: %s\n\n", l.Seq, data)
		return w.Flush() == nil
	}
	catchUp := func() bool {
		for {
			lines, err := s.store.ListLogs(ctx, id, last, 1000)
			if err != nil {
				return false
			}
			for _, l := range lines {
				if !send(l) {
					return false
				}
			}
			if len(lines) < 1000 {
				return true
			}
		}
	}
	if !catchUp() {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case l, ok := <-live:
			if ok {
				if !send(l) {
					return
				}
				continue
			}
			live = nil // writer closed: the deployment is ending
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || w.Flush() != nil {
				return
			}
		case <-ctx.Done():
			return
		}
		d, err := s.store.GetDeployment(ctx, id)
		if err != nil {
			return
		}
		if d.Finished() || d.Status == store.DeploymentCanary {
			// A canary's release is done too: it holds its share until a
			// promotion or abortion, which log to the same deployment.
			time.Sleep(200 * time.Millisecond) // let the writer's last batch land
			if !catchUp() {
				return
			}
			data, _ := json.Marshal(map[string]string{"status": d.Status, "error": d.Error})
			fmt.Fprintf(w, "event: end\ndata: %s\n\n", data)
			_ = w.Flush()
			return
		}
	}
}
