package api

import (
	"strings"

	"github.com/berth-dev/berth/core/store"
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
	apps, err := s.appsIn(c, store.ApplicationFilter{Orgs: []uuid.UUID{p.OrganizationID}, Project: p.ID})
	if err != nil {
		return err
	}
	if err := s.removeServices(c, apps); err != nil {
		return err
	}
	if err := s.store.DeleteProject(c.UserContext(), p.ID); err != nil {
		return notFoundAs(err, "project")
	}
	s.routesChanged()
	return c.SendStatus(fiber.StatusNoContent)
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
	n, err := s.store.CountEnvironments(c.UserContext(), e.ProjectID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return conflict("", "a project keeps at least one environment; delete the project instead")
	}
	apps, err := s.appsIn(c, store.ApplicationFilter{Orgs: []uuid.UUID{e.OrganizationID}, Environment: e.ID})
	if err != nil {
		return err
	}
	if err := s.removeServices(c, apps); err != nil {
		return err
	}
	if err := s.store.DeleteEnvironment(c.UserContext(), e.ID); err != nil {
		return notFoundAs(err, "environment")
	}
	s.routesChanged()
	return c.SendStatus(fiber.StatusNoContent)
}
