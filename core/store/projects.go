package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DefaultEnvironment is created with every project.
const DefaultEnvironment = "production"

// Project groups environments and their services.
type Project struct {
	ID             uuid.UUID `json:"id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	Name           string    `json:"name"`
	Description    string    `json:"description"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

const projectCols = `id, organization_id, name, description, created_at, updated_at`

func scanProject(r pgx.Row) (Project, error) {
	var p Project
	err := r.Scan(&p.ID, &p.OrganizationID, &p.Name, &p.Description, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

// CreateProject creates a project with its "production" environment.
func (s *Store) CreateProject(ctx context.Context, org uuid.UUID, name, description string) (Project, Environment, error) {
	var p Project
	var e Environment
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		p, err = scanProject(tx.QueryRow(ctx, `INSERT INTO projects (id, organization_id, name, description)
			VALUES ($1, $2, $3, $4) RETURNING `+projectCols, newID(), org, name, description))
		if err != nil {
			return err
		}
		e, err = createEnvironment(ctx, tx, p, DefaultEnvironment)
		return err
	})
	return p, e, mapErr(err, "project")
}

// GetProject returns one project.
func (s *Store) GetProject(ctx context.Context, id uuid.UUID) (Project, error) {
	p, err := scanProject(s.pool.QueryRow(ctx, `SELECT `+projectCols+` FROM projects WHERE id = $1`, id))
	return p, mapErr(err, "project")
}

// ListProjects returns the projects of the given organizations.
func (s *Store) ListProjects(ctx context.Context, orgs []uuid.UUID, p Page) ([]Project, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+projectCols+` FROM projects
		WHERE organization_id = ANY($1) AND id > $2 ORDER BY id LIMIT $3`, scanProject, orgs)
	return items, more, mapErr(err, "projects")
}

// ProjectUpdate holds project fields to change; nil leaves a field alone.
type ProjectUpdate struct {
	Name        *string
	Description *string
}

// UpdateProject changes a project.
func (s *Store) UpdateProject(ctx context.Context, id uuid.UUID, in ProjectUpdate) (Project, error) {
	p, err := scanProject(s.pool.QueryRow(ctx, `UPDATE projects SET name = coalesce($2, name),
		description = coalesce($3, description), updated_at = now() WHERE id = $1 RETURNING `+projectCols,
		id, in.Name, in.Description))
	return p, mapErr(err, "project")
}

// DeleteProject deletes a project with its environments and services.
func (s *Store) DeleteProject(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "projects", id, "project")
}

// Environment is a stage of a project (production, staging, ...), with its
// own network and variables.
type Environment struct {
	ID             uuid.UUID `json:"id"`
	ProjectID      uuid.UUID `json:"project_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

const envCols = `e.id, e.project_id, p.organization_id, e.name, e.created_at, e.updated_at`
const envFrom = ` FROM environments e JOIN projects p ON p.id = e.project_id `

func scanEnv(r pgx.Row) (Environment, error) {
	var e Environment
	err := r.Scan(&e.ID, &e.ProjectID, &e.OrganizationID, &e.Name, &e.CreatedAt, &e.UpdatedAt)
	return e, err
}

func createEnvironment(ctx context.Context, q querier, p Project, name string) (Environment, error) {
	e := Environment{ID: newID(), ProjectID: p.ID, OrganizationID: p.OrganizationID, Name: name}
	err := q.QueryRow(ctx, `INSERT INTO environments (id, project_id, name) VALUES ($1, $2, $3)
		RETURNING created_at, updated_at`, e.ID, e.ProjectID, e.Name).Scan(&e.CreatedAt, &e.UpdatedAt)
	return e, err
}

// CreateEnvironment adds an environment to a project.
func (s *Store) CreateEnvironment(ctx context.Context, p Project, name string) (Environment, error) {
	e, err := createEnvironment(ctx, s.pool, p, name)
	return e, mapErr(err, "environment")
}

// GetEnvironment returns one environment.
func (s *Store) GetEnvironment(ctx context.Context, id uuid.UUID) (Environment, error) {
	e, err := scanEnv(s.pool.QueryRow(ctx, `SELECT `+envCols+envFrom+`WHERE e.id = $1`, id))
	return e, mapErr(err, "environment")
}

// ListEnvironments returns a project's environments.
func (s *Store) ListEnvironments(ctx context.Context, project uuid.UUID, p Page) ([]Environment, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+envCols+envFrom+`
		WHERE e.project_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3`, scanEnv, project)
	return items, more, mapErr(err, "environments")
}

// RenameEnvironment changes an environment's name.
func (s *Store) RenameEnvironment(ctx context.Context, id uuid.UUID, name string) (Environment, error) {
	var e Environment
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE environments SET name = $2, updated_at = now() WHERE id = $1`, id, name); err != nil {
			return err
		}
		var err error
		e, err = scanEnv(tx.QueryRow(ctx, `SELECT `+envCols+envFrom+`WHERE e.id = $1`, id))
		return err
	})
	return e, mapErr(err, "environment")
}

// DeleteEnvironment deletes an environment with its services.
func (s *Store) DeleteEnvironment(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "environments", id, "environment")
}
