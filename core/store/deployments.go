package store

import (
	"context"
	"fmt"
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

// Deployment kinds.
const (
	KindDeploy   = "deploy"
	KindRollback = "rollback"
)

// Deployment is one attempt to release a new version of an application.
type Deployment struct {
	ID             uuid.UUID  `json:"id"`
	ApplicationID  uuid.UUID  `json:"application_id"`
	OrganizationID uuid.UUID  `json:"organization_id"`
	Kind           string     `json:"kind"`
	Status         string     `json:"status"`
	Trigger        string     `json:"trigger"`
	GitRef         string     `json:"git_ref"`
	CommitSHA      string     `json:"commit_sha"`
	CommitSubject  string     `json:"commit_subject"`
	Image          string     `json:"image"`
	RollbackOf     *uuid.UUID `json:"rollback_of"`
	Step           string     `json:"step"`
	Steps          []Step     `json:"steps"`
	Error          string     `json:"error"`
	// QueuePosition is the 1-based position among queued deployments of the
	// server; 0 when not queued.
	QueuePosition   int        `json:"queue_position"`
	CancelRequested bool       `json:"cancel_requested"`
	CreatedBy       *uuid.UUID `json:"created_by"`
	// StatusRepository is where commit statuses are posted (the git host's
	// repository name); empty posts none.
	StatusRepository string `json:"status_repository,omitempty"`
	// StatusContext is the commit status context, e.g. "berth/deploy".
	StatusContext string     `json:"status_context,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	StartedAt     *time.Time `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at"`
	JobID         *int64     `json:"-"`
	// Release records what the release did: readiness checks, soak, which
	// version serves, retirement of the old tasks.
	Release *ReleaseReport `json:"release"`
	// Canary is the canary share asked for, for a canary release.
	Canary *CanaryRequest `json:"canary,omitempty"`
	// Builder is the builder plugin that built the deployment
	// ("builder.dockerfile"); empty until the build step chose it, and for
	// deployments without a build.
	Builder string `json:"builder"`
	// BuilderReason says why the build type auto chose Builder; empty for
	// an explicit build type.
	BuilderReason string `json:"builder_reason,omitempty"`
}

// Step is one timed stage of a deployment (source, build, release, route).
type Step struct {
	Name       string     `json:"name"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// DurationMS is set when the step finished.
	DurationMS int64 `json:"duration_ms,omitempty"`
}

// Finished reports whether the deployment reached a final status.
func (d Deployment) Finished() bool {
	return d.Status == DeploymentSucceeded || d.Status == DeploymentFailed || d.Status == DeploymentCancelled
}

const deployCols = `d.id, d.application_id, p.organization_id, d.kind, d.status, d.trigger, d.git_ref, d.commit_sha,
	d.commit_subject, d.image, d.rollback_of, d.step, d.steps, d.error,
	CASE WHEN d.status = 'queued' THEN (SELECT count(*) FROM deployments q WHERE q.status = 'queued' AND q.id <= d.id) ELSE 0 END,
	d.cancel_requested, d.created_by, d.status_repository, d.status_context, d.created_at, d.started_at, d.finished_at, d.job_id,
	d.release, d.canary, d.builder, d.builder_reason`
const deployFrom = ` FROM deployments d JOIN applications a ON a.id = d.application_id
	JOIN environments e ON e.id = a.environment_id JOIN projects p ON p.id = e.project_id `

func scanDeployment(r pgx.Row) (Deployment, error) {
	var d Deployment
	err := r.Scan(&d.ID, &d.ApplicationID, &d.OrganizationID, &d.Kind, &d.Status, &d.Trigger, &d.GitRef, &d.CommitSHA,
		&d.CommitSubject, &d.Image, &d.RollbackOf, &d.Step, &d.Steps, &d.Error, &d.QueuePosition,
		&d.CancelRequested, &d.CreatedBy, &d.StatusRepository, &d.StatusContext, &d.CreatedAt, &d.StartedAt, &d.FinishedAt, &d.JobID,
		&d.Release, &d.Canary, &d.Builder, &d.BuilderReason)
	return d, err
}

// NewDeployment describes a deployment to queue.
type NewDeployment struct {
	Kind    string
	Trigger string
	// GitRef overrides the application's ref for this deployment.
	GitRef string
	// Image is set for rollbacks and image-sourced applications.
	Image      string
	CommitSHA  string
	RollbackOf *uuid.UUID
	CreatedBy  *uuid.UUID
	// StatusRepository and StatusContext ask for commit statuses to be
	// posted to the git host (webhook-triggered deployments).
	StatusRepository string
	StatusContext    string
	// Canary asks for a canary release.
	Canary *CanaryRequest
}

// CreateDeployment records a queued deployment.
func (s *Store) CreateDeployment(ctx context.Context, app uuid.UUID, in NewDeployment) (Deployment, error) {
	id := newID()
	if in.Kind == "" {
		in.Kind = KindDeploy
	}
	if in.Trigger == "" {
		in.Trigger = "manual"
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO deployments (id, application_id, kind, status, trigger, git_ref, image,
		commit_sha, rollback_of, created_by, status_repository, status_context, canary)
		VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		id, app, in.Kind, in.Trigger, in.GitRef, in.Image, in.CommitSHA, in.RollbackOf, in.CreatedBy,
		in.StatusRepository, in.StatusContext, in.Canary); err != nil {
		return Deployment{}, mapErr(err, "deployment")
	}
	return s.GetDeployment(ctx, id)
}

// SetDeploymentBuilder records the builder plugin that builds deployment
// id and why it was chosen.
func (s *Store) SetDeploymentBuilder(ctx context.Context, id uuid.UUID, builder, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE deployments SET builder = $2, builder_reason = $3 WHERE id = $1`, id, builder, reason)
	return mapErr(err, "deployment")
}

// SetDeploymentJob records the queue job running a deployment.
func (s *Store) SetDeploymentJob(ctx context.Context, id uuid.UUID, job int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE deployments SET job_id = $2 WHERE id = $1`, id, job)
	return mapErr(err, "deployment")
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

// StartDeployment moves a queued deployment to running. It reports false
// when the deployment is no longer queued (cancelled meanwhile).
func (s *Store) StartDeployment(ctx context.Context, id uuid.UUID) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deployments SET status = 'running', started_at = now()
		WHERE id = $1 AND status = 'queued' AND NOT cancel_requested`, id)
	if err != nil {
		return false, mapErr(err, "deployment")
	}
	return tag.RowsAffected() == 1, nil
}

// EarlierActive reports whether an older deployment of the same
// application is still queued or running (deployments of one application
// run one at a time, in order).
func (s *Store) EarlierActive(ctx context.Context, d Deployment) (bool, error) {
	var busy bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deployments WHERE application_id = $1 AND id < $2
		AND status IN ('queued', 'running', 'canary'))`, d.ApplicationID, d.ID).Scan(&busy)
	return busy, mapErr(err, "deployment")
}

// BeginStep finishes the current step and starts the named one.
func (s *Store) BeginStep(ctx context.Context, id uuid.UUID, name string) error {
	now := time.Now().UTC()
	return s.updateSteps(ctx, id, func(steps []Step) []Step {
		steps = closeStep(steps, now, "succeeded")
		return append(steps, Step{Name: name, Status: "running", StartedAt: now})
	}, name)
}

func closeStep(steps []Step, now time.Time, status string) []Step {
	if n := len(steps); n > 0 && steps[n-1].FinishedAt == nil {
		steps[n-1].FinishedAt = &now
		steps[n-1].Status = status
		steps[n-1].DurationMS = now.Sub(steps[n-1].StartedAt).Milliseconds()
	}
	return steps
}

func (s *Store) updateSteps(ctx context.Context, id uuid.UUID, edit func([]Step) []Step, current string) error {
	return mapErr(pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var steps []Step
		if err := tx.QueryRow(ctx, `SELECT steps FROM deployments WHERE id = $1 FOR UPDATE`, id).Scan(&steps); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE deployments SET steps = $2, step = $3 WHERE id = $1`, id, edit(steps), current)
		return err
	}), "deployment")
}

// DeploymentResult is what a finished deployment records.
type DeploymentResult struct {
	Status        string
	Error         string
	Image         string
	CommitSHA     string
	CommitSubject string
}

// FinishDeployment records the final status (and closes the last step).
func (s *Store) FinishDeployment(ctx context.Context, id uuid.UUID, r DeploymentResult) error {
	now := time.Now().UTC()
	stepStatus := "succeeded"
	if r.Status != DeploymentSucceeded {
		stepStatus = r.Status
	}
	return mapErr(pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var steps []Step
		if err := tx.QueryRow(ctx, `SELECT steps FROM deployments WHERE id = $1 FOR UPDATE`, id).Scan(&steps); err != nil {
			return err
		}
		steps = closeStep(steps, now, stepStatus)
		_, err := tx.Exec(ctx, `UPDATE deployments SET status = $2, error = $3, image = CASE WHEN $4 = '' THEN image ELSE $4 END,
			commit_sha = CASE WHEN $5 = '' THEN commit_sha ELSE $5 END,
			commit_subject = CASE WHEN $6 = '' THEN commit_subject ELSE $6 END,
			steps = $7, step = '', finished_at = $8 WHERE id = $1`,
			id, r.Status, r.Error, r.Image, r.CommitSHA, r.CommitSubject, steps, now)
		return err
	}), "deployment")
}

// RequestCancel marks a deployment for cancellation. A queued one is
// cancelled at once (true); a running one stops at its next check.
func (s *Store) RequestCancel(ctx context.Context, id uuid.UUID) (cancelledNow bool, err error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deployments SET status = 'cancelled', cancel_requested = true, finished_at = now(),
		error = 'cancelled before it started' WHERE id = $1 AND status = 'queued'`, id)
	if err != nil {
		return false, mapErr(err, "deployment")
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	tag, err = s.pool.Exec(ctx, `UPDATE deployments SET cancel_requested = true WHERE id = $1 AND status = 'running'`, id)
	if err != nil {
		return false, mapErr(err, "deployment")
	}
	if tag.RowsAffected() == 0 {
		return false, &ConflictError{Field: "status", Message: "status: the deployment has already finished"}
	}
	return false, nil
}

// InterruptedDeployments returns deployments left running, e.g. by a berth
// process that was killed.
func (s *Store) InterruptedDeployments(ctx context.Context) ([]Deployment, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deployCols+deployFrom+`WHERE d.status = 'running' ORDER BY d.id`)
	if err != nil {
		return nil, mapErr(err, "deployments")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Deployment, error) { return scanDeployment(r) })
	return out, mapErr(err, "deployments")
}

// Releases returns an application's successful deployments with an image,
// newest first: the versions it can roll back to.
func (s *Store) Releases(ctx context.Context, app uuid.UUID, limit int) ([]Deployment, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deployCols+deployFrom+`WHERE d.application_id = $1 AND d.status = 'succeeded'
		AND d.image <> '' ORDER BY d.id DESC LIMIT $2`, app, limit)
	if err != nil {
		return nil, mapErr(err, "releases")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Deployment, error) { return scanDeployment(r) })
	return out, mapErr(err, "releases")
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

// LogLine is one line of a deployment's log.
type LogLine struct {
	Seq    int       `json:"seq"`
	At     time.Time `json:"at"`
	Stream string    `json:"stream"`
	Line   string    `json:"line"`
}

// AppendLogs stores lines (their Seq already assigned by the caller).
func (s *Store) AppendLogs(ctx context.Context, id uuid.UUID, lines []LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	rows := make([][]any, len(lines))
	for i, l := range lines {
		rows[i] = []any{id, l.Seq, l.At, l.Stream, l.Line}
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"deployment_logs"}, []string{"deployment_id", "seq", "at", "stream", "line"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("store: append deployment logs: %w", err)
	}
	return nil
}

// ListLogs returns up to limit lines with Seq > after.
func (s *Store) ListLogs(ctx context.Context, id uuid.UUID, after, limit int) ([]LogLine, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, at, stream, line FROM deployment_logs WHERE deployment_id = $1 AND seq > $2
		ORDER BY seq LIMIT $3`, id, after, limit)
	if err != nil {
		return nil, mapErr(err, "deployment logs")
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[LogLine])
	return out, mapErr(err, "deployment logs")
}

// MaxLogSeq returns the highest stored log sequence number of a deployment.
func (s *Store) MaxLogSeq(ctx context.Context, id uuid.UUID) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM deployment_logs WHERE deployment_id = $1`, id).Scan(&n)
	return n, mapErr(err, "deployment logs")
}

// QueuedDeployments returns the queued deployments, oldest first; app, when
// not nil, narrows them to one application's.
func (s *Store) QueuedDeployments(ctx context.Context, app *uuid.UUID) ([]Deployment, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deployCols+deployFrom+`WHERE d.status = 'queued'
		AND ($1::uuid IS NULL OR d.application_id = $1) ORDER BY d.id`, app)
	if err != nil {
		return nil, mapErr(err, "deployments")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Deployment, error) { return scanDeployment(r) })
	return out, mapErr(err, "deployments")
}

// FailQueuedDeployment settles a deployment that is still queued as failed
// with reason. It reports false when the deployment was no longer queued
// (it started or was cancelled meanwhile).
func (s *Store) FailQueuedDeployment(ctx context.Context, id uuid.UUID, reason string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deployments SET status = 'failed', error = $2, finished_at = now()
		WHERE id = $1 AND status = 'queued'`, id, reason)
	if err != nil {
		return false, mapErr(err, "deployment")
	}
	return tag.RowsAffected() == 1, nil
}
