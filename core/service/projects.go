package service

import (
	"context"
	"errors"
	"strings"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/teardown"
	"github.com/berth-dev/berth/core/validate"
	"github.com/google/uuid"
)

// Projects creates, changes and deletes projects and their environments.
// Members create and change them; admins delete them (with everything
// berth runs for them in Swarm).
type Projects struct{ s *Services }

// NewProject is the input of Projects.Create.
type NewProject struct {
	// Organization may be uuid.Nil when the caller belongs to exactly one.
	Organization uuid.UUID
	Name         string
	Description  string
}

// Validate checks the fields of a new project.
func (in NewProject) Validate() error {
	return ProjectChange{Name: &in.Name, Description: &in.Description}.Validate()
}

// ProjectChange changes a project; nil fields stay.
type ProjectChange struct {
	Name        *string
	Description *string
}

// Validate checks the fields present.
func (in ProjectChange) Validate() error {
	if in.Name != nil {
		if err := validate.Text("name", *in.Name, 1, 100); err != nil {
			return err
		}
	}
	if in.Description != nil {
		return validate.MaxLen("description", *in.Description, 2000)
	}
	return nil
}

// EnvironmentName checks an environment's name: a slug of at most 32
// characters (it becomes part of Docker network names).
func EnvironmentName(name string) error { return validate.Slug("name", name, 32) }

// Create makes a project with a production environment in the caller's
// organization (members and above).
func (ps *Projects) Create(ctx context.Context, p *store.Principal, in NewProject) (store.Project, store.Environment, error) {
	org := in.Organization
	if org == uuid.Nil {
		if p == System || len(p.Roles) != 1 {
			return store.Project{}, store.Environment{}, problem.InvalidField("organization_id", "is required when you belong to several organizations")
		}
		org = OrganizationsOf(p)[0]
	}
	if err := Authorize(p, org, store.RoleMember, "organization"); err != nil {
		return store.Project{}, store.Environment{}, err
	}
	if err := in.Validate(); err != nil {
		return store.Project{}, store.Environment{}, err
	}
	return ps.s.deps.Store.CreateProject(ctx, org, strings.TrimSpace(in.Name), in.Description)
}

// Update changes a project (members and above).
func (ps *Projects) Update(ctx context.Context, p *store.Principal, proj store.Project, in ProjectChange) (store.Project, error) {
	if err := Authorize(p, proj.OrganizationID, store.RoleMember, "project"); err != nil {
		return proj, err
	}
	if err := in.Validate(); err != nil {
		return proj, err
	}
	if in.Name != nil {
		trimmed := strings.TrimSpace(*in.Name)
		in.Name = &trimmed
	}
	return ps.s.deps.Store.UpdateProject(ctx, proj.ID, store.ProjectUpdate{Name: in.Name, Description: in.Description})
}

// Delete removes everything berth runs for the project (volumes only with
// opts.DeleteVolumes), then the project with its environments,
// applications and databases (admins and above). On failure the records
// are kept so the deletion can be retried.
func (ps *Projects) Delete(ctx context.Context, p *store.Principal, proj store.Project, opts teardown.Options) error {
	if err := Authorize(p, proj.OrganizationID, store.RoleAdmin, "project"); err != nil {
		return err
	}
	return teardownProblem(ps.s.deps.Teardown.DeleteProject(ctx, proj, opts), "project")
}

// CreateEnvironment adds an environment to a project (members and above).
func (ps *Projects) CreateEnvironment(ctx context.Context, p *store.Principal, proj store.Project, name string) (store.Environment, error) {
	if err := Authorize(p, proj.OrganizationID, store.RoleMember, "project"); err != nil {
		return store.Environment{}, err
	}
	name = strings.TrimSpace(name)
	if err := EnvironmentName(name); err != nil {
		return store.Environment{}, err
	}
	return ps.s.deps.Store.CreateEnvironment(ctx, proj, name)
}

// RenameEnvironment renames an environment (members and above).
func (ps *Projects) RenameEnvironment(ctx context.Context, p *store.Principal, env store.Environment, name string) (store.Environment, error) {
	if err := Authorize(p, env.OrganizationID, store.RoleMember, "environment"); err != nil {
		return env, err
	}
	name = strings.TrimSpace(name)
	if err := EnvironmentName(name); err != nil {
		return env, err
	}
	return ps.s.deps.Store.RenameEnvironment(ctx, env.ID, name)
}

// DeleteEnvironment removes everything berth runs for the environment,
// then the environment (admins and above). A project's last environment
// is refused (409).
func (ps *Projects) DeleteEnvironment(ctx context.Context, p *store.Principal, env store.Environment, opts teardown.Options) error {
	if err := Authorize(p, env.OrganizationID, store.RoleAdmin, "environment"); err != nil {
		return err
	}
	return teardownProblem(ps.s.deps.Teardown.DeleteEnvironment(ctx, env, opts), "environment")
}

// teardownProblem maps a failed deletion to its problem; the records are
// still there, so the caller can retry.
func teardownProblem(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, teardown.ErrLastEnvironment):
		return problem.Conflicting("", teardown.ErrLastEnvironment.Error())
	case errors.Is(err, teardown.ErrNoSwarm):
		return problem.Down(err.Error(), err)
	case errors.Is(err, store.ErrNotFound):
		return problem.Missing(what)
	}
	return problem.Upstream("teardown_failed", "the records were kept, so the deletion can be retried: "+err.Error(), err)
}

// RemoveApplications stops the Swarm services of applications about to be
// deleted; their records are deleted only once the services are gone.
func (s *Services) RemoveApplications(ctx context.Context, apps []store.Application) error {
	if len(apps) == 0 {
		return nil
	}
	return teardownProblem(s.deps.Teardown.RemoveApplications(ctx, apps), "application")
}
