package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Deployment statuses.
const (
	DeploymentQueued    = "queued"
	DeploymentRunning   = "running"
	DeploymentSucceeded = "succeeded"
	DeploymentFailed    = "failed"
	DeploymentCancelled = "cancelled"
)

// Deployment is one attempt to release a new version of an application.
type Deployment struct {
	ID             uuid.UUID  `json:"id"`
	ApplicationID  uuid.UUID  `json:"application_id"`
	OrganizationID uuid.UUID  `json:"organization_id"`
	Status         string     `json:"status"`
	Trigger        string     `json:"trigger"`
	CommitSHA      string     `json:"commit_sha"`
	Image          string     `json:"image"`
	Error          string     `json:"error"`
	CreatedBy      *uuid.UUID `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	StartedAt      *time.Time `json:"started_at"`
	FinishedAt     *time.Time `json:"finished_at"`
}

const deployCols = `d.id, d.application_id, p.organization_id, d.status, d.trigger, d.commit_sha, d.image, d.error,
	d.created_by, d.created_at, d.started_at, d.finished_at`
const deployFrom = ` FROM deployments d JOIN applications a ON a.id = d.application_id
	JOIN environments e ON e.id = a.environment_id JOIN projects p ON p.id = e.project_id `

func scanDeployment(r pgx.Row) (Deployment, error) {
	var d Deployment
	err := r.Scan(&d.ID, &d.ApplicationID, &d.OrganizationID, &d.Status, &d.Trigger, &d.CommitSHA, &d.Image, &d.Error,
		&d.CreatedBy, &d.CreatedAt, &d.StartedAt, &d.FinishedAt)
	return d, err
}

// CreateDeployment records a queued deployment.
func (s *Store) CreateDeployment(ctx context.Context, app uuid.UUID, trigger string, by *uuid.UUID) (Deployment, error) {
	id := newID()
	if _, err := s.pool.Exec(ctx, `INSERT INTO deployments (id, application_id, status, trigger, created_by)
		VALUES ($1, $2, 'queued', $3, $4)`, id, app, trigger, by); err != nil {
		return Deployment{}, mapErr(err, "deployment")
	}
	return s.GetDeployment(ctx, id)
}

// GetDeployment returns one deployment.
func (s *Store) GetDeployment(ctx context.Context, id uuid.UUID) (Deployment, error) {
	d, err := scanDeployment(s.pool.QueryRow(ctx, `SELECT `+deployCols+deployFrom+`WHERE d.id = $1`, id))
	return d, mapErr(err, "deployment")
}

// ListDeployments returns an application's deployments, newest first.
func (s *Store) ListDeployments(ctx context.Context, app uuid.UUID, p Page) ([]Deployment, bool, error) {
	after := p.After
	if after == uuid.Nil {
		after = uuid.Max
	}
	items, more, err := collectPage(ctx, s.pool, Page{Limit: p.Limit, After: after}, `SELECT `+deployCols+deployFrom+`
		WHERE d.application_id = $1 AND d.id < $2 ORDER BY d.id DESC LIMIT $3`, scanDeployment, app)
	return items, more, mapErr(err, "deployments")
}

// DeleteDeployment removes a finished deployment's record.
func (s *Store) DeleteDeployment(ctx context.Context, id uuid.UUID) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM deployments WHERE id = $1 AND status NOT IN ('queued', 'running')`, id)
	if err != nil {
		return mapErr(err, "deployment")
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.GetDeployment(ctx, id); err != nil {
			return err
		}
		return &ConflictError{Field: "status", Message: "status: a queued or running deployment cannot be deleted; cancel it first"}
	}
	return nil
}
