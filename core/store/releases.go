package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DeploymentCanary is the status of a deployment whose release serves a
// share of the traffic next to the previous one, until it is promoted or
// aborted. It is not final: the deployment still holds its application.
const DeploymentCanary = "canary"

// Readiness modes.
const (
	// ReadinessPort: a new task is ready once its port answers HTTP (any
	// status but 502, 503 and 504). The default for applications with a
	// domain.
	ReadinessPort = "port"
	// ReadinessHTTP: a new task is ready once a GET of Path answers a
	// status within [StatusMin, StatusMax] Successes times in a row.
	ReadinessHTTP = "http"
	// ReadinessNone: a new task is ready once Swarm runs it (and its
	// image's HEALTHCHECK passes, if it has one). The default for
	// applications without a domain.
	ReadinessNone = "none"
)

// Readiness is the check berth itself performs against each new task, over
// the proxy network, before the task takes traffic. Zero fields take the
// defaults of Effective.
type Readiness struct {
	Mode string `json:"mode"`
	// Path is requested in http mode (port mode requests /).
	Path string `json:"path,omitempty"`
	// StatusMin and StatusMax bound the statuses that count as ready in
	// http mode (default 200-399).
	StatusMin int `json:"status_min,omitempty"`
	StatusMax int `json:"status_max,omitempty"`
	// IntervalMS is the pause between attempts (default 500).
	IntervalMS int `json:"interval_ms,omitempty"`
	// TimeoutMS bounds one attempt (default 2000).
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// Successes in a row make a task ready (default 1).
	Successes int `json:"successes,omitempty"`
	// TimeoutSeconds bounds the wait for a task to become ready (default
	// 300); a task not ready by then fails the release.
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

// Effective returns r with every zero field set to its default.
func (r Readiness) Effective() Readiness {
	if r.Mode == "" {
		r.Mode = ReadinessPort
	}
	if r.Path == "" {
		r.Path = "/"
	}
	if r.StatusMin == 0 {
		r.StatusMin = 200
	}
	if r.StatusMax == 0 {
		r.StatusMax = 399
	}
	if r.IntervalMS == 0 {
		r.IntervalMS = 500
	}
	if r.TimeoutMS == 0 {
		r.TimeoutMS = 2000
	}
	if r.Successes == 0 {
		r.Successes = 1
	}
	if r.TimeoutSeconds == 0 {
		r.TimeoutSeconds = 300
	}
	return r
}

// Defaults of ReleaseSettings.
const (
	DefaultSoakSeconds      = 5
	DefaultStopGraceSeconds = 10
)

// ReleaseSettings say how a new release takes over from the running one.
// Nil fields take berth's defaults.
type ReleaseSettings struct {
	// Readiness is berth's check of each new task; nil means port mode for
	// an application with a domain, none otherwise.
	Readiness *Readiness `json:"readiness"`
	// SoakSeconds is how long new tasks must stay healthy, serving next to
	// the old ones, before the old ones are retired (default 5; 0: none).
	SoakSeconds *int `json:"soak_seconds"`
	// StopGraceSeconds is how long a stopping task may take to finish its
	// requests after SIGTERM before it is killed (default 10).
	StopGraceSeconds *int `json:"stop_grace_seconds"`
}

// Soak returns the effective soak window.
func (s ReleaseSettings) Soak() time.Duration {
	if s.SoakSeconds == nil {
		return DefaultSoakSeconds * time.Second
	}
	return time.Duration(*s.SoakSeconds) * time.Second
}

// StopGrace returns the effective stop grace period.
func (s ReleaseSettings) StopGrace() time.Duration {
	if s.StopGraceSeconds == nil {
		return DefaultStopGraceSeconds * time.Second
	}
	return time.Duration(*s.StopGraceSeconds) * time.Second
}

// EffectiveReadiness returns the readiness check of an application that
// routed says whether it has a domain.
func (s ReleaseSettings) EffectiveReadiness(routed bool) Readiness {
	if s.Readiness != nil {
		return s.Readiness.Effective()
	}
	if routed {
		return Readiness{Mode: ReadinessPort}.Effective()
	}
	return Readiness{Mode: ReadinessNone}.Effective()
}

// CanaryRequest asks for a release to serve a share of the traffic until
// it is promoted or aborted.
type CanaryRequest struct {
	// Weight is the canary's share of requests in percent (1-99).
	Weight int `json:"weight"`
	// AutoPromote, when set, promotes the canary once its error rate
	// stayed at or below MaxErrorRate for WindowSeconds.
	AutoPromote *AutoPromote `json:"auto_promote,omitempty"`
}

// AutoPromote is the rule that promotes a canary without a person.
type AutoPromote struct {
	// MaxErrorRate is the highest share (0-1) of 5xx answers tolerated.
	MaxErrorRate float64 `json:"max_error_rate"`
	// WindowSeconds is how long the rate must hold.
	WindowSeconds int `json:"window_seconds"`
	// MinRequests is the fewest canary requests the window must hold
	// (default 20), so an idle canary is not promoted on no evidence.
	MinRequests int `json:"min_requests,omitempty"`
}

// ReleaseReport records what a release did.
type ReleaseReport struct {
	// Strategy is how traffic moved: "candidate" (a new service next to
	// the running one, handed over after readiness and soak), "update"
	// (Swarm's rolling update of the one service) or "create".
	Strategy string `json:"strategy,omitempty"`
	// Readiness lists berth's readiness checks of the new tasks.
	Readiness []TaskReadiness `json:"readiness,omitempty"`
	// Soak is "passed", "skipped" or "failed: <reason>".
	Soak string `json:"soak,omitempty"`
	// Serving says which version serves at the end: "new" or "previous".
	Serving string `json:"serving,omitempty"`
	// ServingAt is when the new version took all the traffic.
	ServingAt *time.Time `json:"serving_at,omitempty"`
	// RetiredAt is when the old tasks were gone; Retire tells how that went.
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	Retire    string     `json:"retire,omitempty"`
	// Canary is the canary's course, for a canary release.
	Canary *CanaryReport `json:"canary,omitempty"`
}

// TaskReadiness is berth's readiness check of one new task.
type TaskReadiness struct {
	Task     string `json:"task"`
	Address  string `json:"address"`
	Attempts int    `json:"attempts"`
	// ReadyMS is how long after the task ran it became ready (0: never).
	ReadyMS int64 `json:"ready_ms,omitempty"`
	// Last is the last attempt's result, e.g. "200" or "connection refused".
	Last  string `json:"last,omitempty"`
	Error string `json:"error,omitempty"`
}

// CanaryReport follows a canary release.
type CanaryReport struct {
	Weight int `json:"weight"`
	// Requests and Errors are the canary's answers and 5xx answers seen.
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
	// Outcome is "promoted", "aborted" or empty while it runs; By says who
	// or what decided ("auto" for auto-promotion).
	Outcome string     `json:"outcome,omitempty"`
	By      string     `json:"by,omitempty"`
	At      *time.Time `json:"at,omitempty"`
}

// SetDeploymentRelease records what the release of deployment id did.
func (s *Store) SetDeploymentRelease(ctx context.Context, id uuid.UUID, r ReleaseReport) error {
	_, err := s.pool.Exec(ctx, `UPDATE deployments SET release = $2 WHERE id = $1`, id, r)
	return mapErr(err, "deployment")
}

// RecordCanary records the release report of a deployment that still
// holds a canary share (and nothing once it was promoted or aborted).
func (s *Store) RecordCanary(ctx context.Context, id uuid.UUID, r ReleaseReport) error {
	_, err := s.pool.Exec(ctx, `UPDATE deployments SET release = $2 WHERE id = $1 AND status = 'canary'`, id, r)
	return mapErr(err, "deployment")
}

// EnterCanary marks a running deployment as a canary holding traffic,
// with the image and commit it released.
func (s *Store) EnterCanary(ctx context.Context, id uuid.UUID, r DeploymentResult) error {
	_, err := s.pool.Exec(ctx, `UPDATE deployments SET status = 'canary', step = '',
		image = CASE WHEN $2 = '' THEN image ELSE $2 END,
		commit_sha = CASE WHEN $3 = '' THEN commit_sha ELSE $3 END,
		commit_subject = CASE WHEN $4 = '' THEN commit_subject ELSE $4 END
		WHERE id = $1 AND status = 'running'`, id, r.Image, r.CommitSHA, r.CommitSubject)
	return mapErr(err, "deployment")
}

// Routed reports whether the application has a domain.
func (s *Store) Routed(ctx context.Context, app uuid.UUID) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM domains WHERE application_id = $1)`, app).Scan(&ok)
	return ok, mapErr(err, "domains")
}

// CanaryOf returns the application's deployment in the canary state, if
// any (ErrNotFound otherwise).
func (s *Store) CanaryOf(ctx context.Context, app uuid.UUID) (Deployment, error) {
	d, err := scanDeployment(s.pool.QueryRow(ctx, `SELECT `+deployCols+deployFrom+`WHERE d.application_id = $1 AND d.status = 'canary'`, app))
	return d, mapErr(err, "deployment")
}

// Canaries returns every deployment in the canary state.
func (s *Store) Canaries(ctx context.Context) ([]Deployment, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deployCols+deployFrom+`WHERE d.status = 'canary' ORDER BY d.id`)
	if err != nil {
		return nil, mapErr(err, "deployment")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Deployment, error) { return scanDeployment(r) })
	return out, mapErr(err, "deployment")
}
