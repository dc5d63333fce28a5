package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"
)

// Deployer queues, cancels and rolls back deployments, and removes an
// application's running service.
type Deployer interface {
	Deploy(ctx context.Context, a store.Application, in store.NewDeployment) (store.Deployment, error)
	Rollback(ctx context.Context, a store.Application, target store.Deployment, by *uuid.UUID) (store.Deployment, error)
	Cancel(ctx context.Context, d store.Deployment) error
	RemoveApplications(ctx context.Context, apps []store.Application) error
}

// LogStreams lets handlers follow a deployment's log live.
type LogStreams interface {
	Subscribe(id uuid.UUID) (<-chan store.LogLine, func())
}

// DeployRequest starts a deployment; all fields are optional.
type DeployRequest struct {
	// GitRef deploys this branch, tag or commit instead of the application's ref.
	GitRef string `json:"git_ref"`
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

func (s *Server) deployer() (Deployer, error) {
	if s.opts.Deployer == nil {
		return nil, &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable", Message: "deployments are not available on this server (no Docker)"}
	}
	return s.opts.Deployer, nil
}

func (s *Server) createDeployment(c *fiber.Ctx) error {
	a, err := s.loadApplication(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req DeployRequest
	if len(c.Body()) > 0 {
		if err := decodeBody(c, &req); err != nil {
			return err
		}
	}
	if err := validateGitRef(req.GitRef); err != nil {
		return err
	}
	if req.GitRef != "" && a.SourceType != "git" {
		return invalid("git_ref", "only applies to applications built from git")
	}
	dep, err := s.deployer()
	if err != nil {
		return err
	}
	by := principal(c).User.ID
	d, err := dep.Deploy(c.UserContext(), a, store.NewDeployment{Trigger: "manual", GitRef: req.GitRef, CreatedBy: &by})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(d)
}

func (s *Server) cancelDeployment(c *fiber.Ctx) error {
	d, err := s.loadDeployment(c, store.RoleMember)
	if err != nil {
		return err
	}
	dep, err := s.deployer()
	if err != nil {
		return err
	}
	if err := dep.Cancel(c.UserContext(), d); err != nil {
		return err
	}
	d, err = s.store.GetDeployment(c.UserContext(), d.ID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(d)
}

func (s *Server) rollbackDeployment(c *fiber.Ctx) error {
	target, err := s.loadDeployment(c, store.RoleMember)
	if err != nil {
		return err
	}
	if target.Status != store.DeploymentSucceeded || target.Image == "" {
		return conflict("id", "id: only a succeeded deployment with an image can be rolled back to")
	}
	a, err := s.store.GetApplication(c.UserContext(), target.ApplicationID)
	if err != nil {
		return err
	}
	releases, err := s.store.Releases(c.UserContext(), a.ID, a.KeepReleases)
	if err != nil {
		return err
	}
	kept := false
	for _, r := range releases {
		kept = kept || r.Image == target.Image
	}
	if !kept {
		return conflict("id", fmt.Sprintf("id: that release is older than the %d kept for rollback; deploy it again instead", a.KeepReleases))
	}
	dep, err := s.deployer()
	if err != nil {
		return err
	}
	by := principal(c).User.ID
	d, err := dep.Rollback(c.UserContext(), a, target, &by)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(d)
}

func (s *Server) listReleases(c *fiber.Ctx) error {
	a, err := s.loadApplication(c, "id", store.RoleViewer)
	if err != nil {
		return err
	}
	rs, err := s.store.Releases(c.UserContext(), a.ID, a.KeepReleases)
	if err != nil {
		return err
	}
	return c.JSON(List[store.Deployment]{Items: orEmpty(rs)})
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
	d, err := s.loadDeployment(c, store.RoleViewer)
	if err != nil {
		return err
	}
	after := 0
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
		if d.Finished() {
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
