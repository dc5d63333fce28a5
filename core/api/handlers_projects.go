package api

import (
	"github.com/berth-dev/berth/core/service"
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

func (s *Server) createProject(c *fiber.Ctx, req CreateProjectRequest) (ProjectWithEnvironments, error) {
	in := service.NewProject{Name: req.Name, Description: req.Description}
	if req.OrganizationID != nil {
		in.Organization = *req.OrganizationID
	}
	proj, env, err := s.svc.Projects.Create(c.UserContext(), principal(c), in)
	return ProjectWithEnvironments{Project: proj, Environments: []store.Environment{env}}, err
}

func (s *Server) getProject(c *fiber.Ctx) (store.Project, error) { return resolved(c).Project, nil }

func (s *Server) updateProject(c *fiber.Ctx, req UpdateProjectRequest) (store.Project, error) {
	return s.svc.Projects.Update(c.UserContext(), principal(c), resolved(c).Project,
		service.ProjectChange{Name: req.Name, Description: req.Description})
}

func (s *Server) deleteProject(c *fiber.Ctx) (NoContent, error) {
	opts, err := teardownOptions(c)
	if err != nil {
		return NoContent{}, err
	}
	return NoContent{}, s.svc.Projects.Delete(c.UserContext(), principal(c), resolved(c).Project, opts)
}

// teardownOptions reads ?delete_volumes= (the caller is an admin or owner:
// deleting projects and environments needs that role already).
func teardownOptions(c *fiber.Ctx) (teardown.Options, error) {
	del, err := queryBool(c, "delete_volumes")
	return teardown.Options{DeleteVolumes: del}, err
}

func (s *Server) listEnvironments(c *fiber.Ctx) error {
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	envs, more, err := s.store.ListEnvironments(c.UserContext(), resolved(c).Project.ID, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(envs, more, func(e store.Environment) uuid.UUID { return e.ID }))
}

func (s *Server) createEnvironment(c *fiber.Ctx, req EnvironmentRequest) (store.Environment, error) {
	return s.svc.Projects.CreateEnvironment(c.UserContext(), principal(c), resolved(c).Project, req.Name)
}

func (s *Server) getEnvironment(c *fiber.Ctx) (store.Environment, error) {
	return resolved(c).Environment, nil
}

func (s *Server) updateEnvironment(c *fiber.Ctx, req EnvironmentRequest) (store.Environment, error) {
	return s.svc.Projects.RenameEnvironment(c.UserContext(), principal(c), resolved(c).Environment, req.Name)
}

func (s *Server) deleteEnvironment(c *fiber.Ctx) (NoContent, error) {
	opts, err := teardownOptions(c)
	if err != nil {
		return NoContent{}, err
	}
	return NoContent{}, s.svc.Projects.DeleteEnvironment(c.UserContext(), principal(c), resolved(c).Environment, opts)
}
