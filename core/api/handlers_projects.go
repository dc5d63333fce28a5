package api

import (
	"context"
	"errors"
	"strings"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/teardown"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// CreateProjectRequest creates a project.
type CreateProjectRequest struct {
	// OrganizationID may be omitted when the caller belongs to one organization.
	OrganizationID *uuid.UUID `json:"organization_id"`
	Name           string     `json:"name"`
	Description    string     `json:"description"`
}

// UpdateProjectRequest changes a project; omitted fields stay.
type UpdateProjectRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// ProjectWithEnvironments is a new project with its environments.
type ProjectWithEnvironments struct {
	store.Project
	Environments []store.Environment `json:"environments"`
}

// EnvironmentRequest names an environment.
type EnvironmentRequest struct {
	Name string `json:"name"`
}

func validateProjectFields(name, description *string) error {
	if name != nil {
		if err := validateText("name", *name, 1, 100); err != nil {
			return err
		}
	}
	if description != nil && len(*description) > 2000 {
		return invalid("description", "must be at most 2000 characters")
	}
	return nil
}

func (s *Server) listProjects(c *fiber.Ctx) error {
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	org, err := queryID(c, "organization_id")
	if err != nil {
		return err
	}
	p := principal(c)
	orgs := orgIDs(p)
	if org != uuid.Nil {
		// Like every list's filters: naming an organization the caller is
		// not in lists nothing (it was a 404 here alone).
		orgs = []uuid.UUID{org}
		if _, ok := p.Roles[org]; !ok {
			orgs = nil
		}
	}
	projects, more, err := s.store.ListProjects(c.UserContext(), orgs, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(projects, more, func(p store.Project) uuid.UUID { return p.ID }))
}

func (s *Server) createProject(c *fiber.Ctx) error {
	var req CreateProjectRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	p := principal(c)
	var org uuid.UUID
	switch {
	case req.OrganizationID != nil:
		org = *req.OrganizationID
	case len(p.Roles) == 1:
		org = orgIDs(p)[0]
	default:
		return invalid("organization_id", "is required when you belong to several organizations")
	}
	if err := authorize(c, org, store.RoleMember, "organization"); err != nil {
		return err
	}
	if err := validateProjectFields(&req.Name, &req.Description); err != nil {
		return err
	}
	proj, env, err := s.store.CreateProject(c.UserContext(), org, strings.TrimSpace(req.Name), req.Description)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(ProjectWithEnvironments{Project: proj, Environments: []store.Environment{env}})
}

func (s *Server) getProject(c *fiber.Ctx) error {
	p, err := s.loadProject(c, "id", store.RoleViewer)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) updateProject(c *fiber.Ctx) error {
	p, err := s.loadProject(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req UpdateProjectRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if err := validateProjectFields(req.Name, req.Description); err != nil {
		return err
	}
	if req.Name != nil {
		trimmed := strings.TrimSpace(*req.Name)
		req.Name = &trimmed
	}
	p, err = s.store.UpdateProject(c.UserContext(), p.ID, store.ProjectUpdate{Name: req.Name, Description: req.Description})
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) deleteProject(c *fiber.Ctx) error {
	p, err := s.loadProject(c, "id", store.RoleAdmin)
	if err != nil {
		return err
	}
	opts, err := teardownOptions(c)
	if err != nil {
		return err
	}
	if err := s.opts.Teardown.DeleteProject(c.UserContext(), p, opts); err != nil {
		return teardownError(err, "project")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// Teardown deletes projects and environments together with everything
// berth runs for them in Docker Swarm; *teardown.Service implements it.
type Teardown interface {
	DeleteProject(ctx context.Context, p store.Project, opts teardown.Options) error
	DeleteEnvironment(ctx context.Context, e store.Environment, opts teardown.Options) error
	// RemoveApplications removes the Swarm services of applications about
	// to be deleted.
	RemoveApplications(ctx context.Context, apps []store.Application) error
}

// teardownOptions reads ?delete_volumes= (the caller is an admin or owner:
// deleting projects and environments needs that role already).
func teardownOptions(c *fiber.Ctx) (teardown.Options, error) {
	del, err := queryBool(c, "delete_volumes")
	return teardown.Options{DeleteVolumes: del}, err
}

// teardownError maps a failed deletion to its answer; the records are
// still there, so the caller can retry.
func teardownError(err error, what string) error {
	switch {
	case errors.Is(err, teardown.ErrLastEnvironment):
		return conflict("", teardown.ErrLastEnvironment.Error())
	case errors.Is(err, teardown.ErrNoSwarm):
		return &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable", Message: err.Error()}
	case errors.Is(err, store.ErrNotFound):
		return notFoundAs(err, what)
	}
	return clusterFailed("teardown_failed", "the records were kept, so the deletion can be retried: ", err)
}

func (s *Server) listEnvironments(c *fiber.Ctx) error {
	p, err := s.loadProject(c, "id", store.RoleViewer)
	if err != nil {
		return err
	}
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	envs, more, err := s.store.ListEnvironments(c.UserContext(), p.ID, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(envs, more, func(e store.Environment) uuid.UUID { return e.ID }))
}

func (s *Server) createEnvironment(c *fiber.Ctx) error {
	p, err := s.loadProject(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req EnvironmentRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if err := validateSlug("name", req.Name, 32); err != nil {
		return err
	}
	e, err := s.store.CreateEnvironment(c.UserContext(), p, req.Name)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(e)
}

func (s *Server) getEnvironment(c *fiber.Ctx) error {
	e, err := s.loadEnvironment(c, "id", store.RoleViewer)
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (s *Server) updateEnvironment(c *fiber.Ctx) error {
	e, err := s.loadEnvironment(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req EnvironmentRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if err := validateSlug("name", req.Name, 32); err != nil {
		return err
	}
	e, err = s.store.RenameEnvironment(c.UserContext(), e.ID, req.Name)
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (s *Server) deleteEnvironment(c *fiber.Ctx) error {
	e, err := s.loadEnvironment(c, "id", store.RoleAdmin)
	if err != nil {
		return err
	}
	opts, err := teardownOptions(c)
	if err != nil {
		return err
	}
	if err := s.opts.Teardown.DeleteEnvironment(c.UserContext(), e, opts); err != nil {
		return teardownError(err, "environment")
	}
	return c.SendStatus(fiber.StatusNoContent)
}
