package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Application is a long-running service built from git or run from an image.
type Application struct {
	ID             uuid.UUID       `json:"id"`
	EnvironmentID  uuid.UUID       `json:"environment_id"`
	ProjectID      uuid.UUID       `json:"project_id"`
	OrganizationID uuid.UUID       `json:"organization_id"`
	Name           string          `json:"name"`
	Description    string          `json:"description"`
	ServiceName    string          `json:"service_name"`
	SourceType     string          `json:"source_type"`
	GitRepository  string          `json:"git_repository"`
	GitRef         string          `json:"git_ref"`
	GitProvider    string          `json:"git_provider"`
	Image          string          `json:"image"`
	BuildType      string          `json:"build_type"`
	BuildSettings  json.RawMessage `json:"build_settings"`
	Port           int             `json:"port"`
	Replicas       int             `json:"replicas"`
	Command        []string        `json:"command"`
	CPULimit       float64         `json:"cpu_limit"`
	MemoryLimitMB  int             `json:"memory_limit_mb"`
	RuntimeSettings
	// GitConnectionID names the git connection whose credentials fetch the
	// repository and post commit statuses, instead of the app's own.
	GitConnectionID *uuid.UUID `json:"git_connection_id"`
	Automation
	// WebhookID is the public id in the application's webhook URLs.
	WebhookID string `json:"-"`
	// PreviewOf is the parent application of a preview deployment.
	PreviewOf *uuid.UUID `json:"preview_of,omitempty"`
	// PreviewNumber is the pull request number of a preview.
	PreviewNumber int `json:"preview_number,omitempty"`
	// PreviewHeadRef is the pull request's head branch of a preview.
	PreviewHeadRef string    `json:"preview_head_ref,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`

	// Volumes maps the source of each named volume mount to the Docker
	// volume the application's service mounts for it (see app_volumes.go).
	Volumes map[string]string `json:"-"`
}

const appCols = `a.id, a.environment_id, e.project_id, p.organization_id, a.name, a.description, a.service_name,
	a.source_type, a.git_repository, a.git_ref, a.git_provider, a.image, a.build_type, a.build_settings,
	a.port, a.replicas, a.command, a.cpu_limit, a.memory_limit_mb, a.health_check, a.mounts, a.ports, a.placement,
	a.labels, a.restart_policy, a.cpu_reservation, a.memory_reservation_mb, a.git_credentials_enc, a.keep_releases,
	a.files_enc, a.git_connection_id, a.webhook_id, a.auto_deploy, a.deploy_trigger, a.tag_pattern, a.watch_paths,
	a.preview_enabled, a.preview_host_pattern, a.preview_limit, a.preview_label, a.preview_https, a.preview_forks,
	a.preview_of, a.preview_number, a.preview_head_ref, a.created_at, a.updated_at, a.release_settings, ` + appVolumesCol
const appFrom = ` FROM applications a JOIN environments e ON e.id = a.environment_id JOIN projects p ON p.id = e.project_id `

func (s *Store) scanApp(r pgx.Row) (Application, error) {
	var a Application
	var files, creds []byte
	var number pgtype.Int4
	var recorded map[string]string
	p := &a.Preview
	err := r.Scan(&a.ID, &a.EnvironmentID, &a.ProjectID, &a.OrganizationID, &a.Name, &a.Description, &a.ServiceName,
		&a.SourceType, &a.GitRepository, &a.GitRef, &a.GitProvider, &a.Image, &a.BuildType, &a.BuildSettings,
		&a.Port, &a.Replicas, &a.Command, &a.CPULimit, &a.MemoryLimitMB, &a.HealthCheck, &a.Mounts, &a.Ports, &a.Placement,
		&a.Labels, &a.RestartPolicy, &a.CPUReservation, &a.MemoryReservationMB, &creds, &a.KeepReleases,
		&files, &a.GitConnectionID, &a.WebhookID, &a.AutoDeploy, &a.DeployTrigger, &a.TagPattern, &a.WatchPaths,
		&p.Enabled, &p.HostPattern, &p.Limit, &p.Label, &p.HTTPS, &p.Forks,
		&a.PreviewOf, &number, &a.PreviewHeadRef, &a.CreatedAt, &a.UpdatedAt, &a.ReleaseSettings, &recorded)
	a.PreviewNumber = int(number.Int32)
	a.Volumes = volumesOf(a, recorded)
	if err == nil {
		a.Files, err = s.openFiles(files)
	}
	if err == nil && creds != nil {
		a.GitCredentials, err = s.openCredentials(creds)
		a.GitCredentialsSet = true
	}
	return a, err
}

// ApplicationSpec holds the user-settable fields of an application.
type ApplicationSpec struct {
	Name          string
	Description   string
	SourceType    string
	GitRepository string
	GitRef        string
	GitProvider   string
	Image         string
	BuildType     string
	BuildSettings json.RawMessage
	Port          int
	Replicas      int
	Command       []string
	CPULimit      float64
	MemoryLimitMB int
	RuntimeSettings
	GitConnectionID *uuid.UUID
	Automation
}

// Automation says what webhooks do with an application: push-to-deploy
// and preview deployments of pull requests.
type Automation struct {
	// AutoDeploy deploys on a matching push webhook.
	AutoDeploy bool `json:"auto_deploy"`
	// DeployTrigger is "branch" (pushes to GitRef) or "tag" (tags matching
	// TagPattern).
	DeployTrigger string `json:"deploy_trigger"`
	// TagPattern is a glob tags must match with DeployTrigger "tag"
	// (empty: every tag).
	TagPattern string `json:"tag_pattern"`
	// WatchPaths are gitignore-style globs; when set, a push deploys only
	// if a changed file matches one.
	WatchPaths []string `json:"watch_paths"`
	// Preview configures preview deployments of pull requests.
	Preview PreviewSettings `json:"preview"`
}

// PreviewSettings configure preview deployments of pull requests.
type PreviewSettings struct {
	Enabled bool `json:"enabled"`
	// HostPattern makes each preview's host from {number}, {app} and
	// {branch}, e.g. "pr-{number}.{app}.preview.example.com".
	HostPattern string `json:"host_pattern"`
	// Limit is the most previews the application runs at once.
	Limit int `json:"limit"`
	// Label, when set, previews only pull requests carrying it.
	Label string `json:"label"`
	// HTTPS is none or letsencrypt for the preview domains.
	HTTPS string `json:"https"`
	// Forks allows previews of pull requests from forks, which run their
	// code with the application's variables.
	Forks bool `json:"forks"`
}

// RuntimeSettings are the Swarm service settings of an application beyond
// image, command and limits.
type RuntimeSettings struct {
	// HealthCheck overrides the image's health check; nil keeps it.
	HealthCheck *HealthCheck `json:"health_check"`
	Mounts      []Mount      `json:"mounts"`
	Ports       []Port       `json:"ports"`
	// Placement holds Swarm constraints, e.g. "node.role==manager".
	Placement []string          `json:"placement"`
	Labels    map[string]string `json:"labels"`
	// RestartPolicy is any, on-failure or none.
	RestartPolicy       string  `json:"restart_policy"`
	CPUReservation      float64 `json:"cpu_reservation"`
	MemoryReservationMB int     `json:"memory_reservation_mb"`
	// GitCredentials authenticate the git fetch; sealed at rest, never
	// returned by the API.
	GitCredentials *GitCredentials `json:"-"`
	// GitCredentialsSet says whether credentials are stored.
	GitCredentialsSet bool `json:"git_credentials_set"`
	// KeepReleases is how many successful releases keep their image for
	// instant rollback.
	KeepReleases int `json:"keep_releases"`
	// Files are small files mounted read-only into the containers. Their
	// content is sealed at rest and never returned by the API.
	Files []File `json:"files"`
	// ReleaseSettings say how a new release takes over (readiness,
	// soak, stop grace).
	ReleaseSettings
}

// File is a small file mounted read-only into an application's containers.
type File struct {
	Target string `json:"target"`
	// Content is write-only in the API.
	Content string `json:"-"`
	// Mode is the file mode, e.g. 0444 (the default).
	Mode int `json:"mode"`
	// Size is the content length, for display.
	Size int `json:"size"`
}

// GitCredentials authenticate a git fetch: a token (https), a user name
// and password, or an SSH deploy key with optional known hosts.
type GitCredentials struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	Token         string `json:"token,omitempty"`
	SSHPrivateKey string `json:"ssh_private_key,omitempty"`
	SSHKnownHosts string `json:"ssh_known_hosts,omitempty"`
}

const credentialsContext = "application:git_credentials"

func (s *Store) sealCredentials(c *GitCredentials) ([]byte, error) {
	if c == nil {
		return nil, nil
	}
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return s.box.Seal(credentialsContext, data), nil
}

func (s *Store) openCredentials(sealed []byte) (*GitCredentials, error) {
	data, err := s.box.Open(credentialsContext, sealed)
	if err != nil {
		return nil, fmt.Errorf("git credentials: %w", err)
	}
	var c GitCredentials
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("git credentials: %w", err)
	}
	return &c, nil
}

// fileContext binds sealed files to their column.
const fileContext = "application:files"

type sealedFile struct {
	Target  string `json:"target"`
	Content string `json:"content"`
	Mode    int    `json:"mode"`
}

func (s *Store) sealFiles(files []File) ([]byte, error) {
	if len(files) == 0 {
		return nil, nil
	}
	out := make([]sealedFile, len(files))
	for i, f := range files {
		out[i] = sealedFile{Target: f.Target, Content: f.Content, Mode: f.Mode}
	}
	data, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return s.box.Seal(fileContext, data), nil
}

func (s *Store) openFiles(sealed []byte) ([]File, error) {
	if sealed == nil {
		return []File{}, nil
	}
	data, err := s.box.Open(fileContext, sealed)
	if err != nil {
		return nil, fmt.Errorf("application files: %w", err)
	}
	var in []sealedFile
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("application files: %w", err)
	}
	files := make([]File, len(in))
	for i, f := range in {
		files[i] = File{Target: f.Target, Content: f.Content, Mode: f.Mode, Size: len(f.Content)}
	}
	return files, nil
}

// HealthCheck is a container health check in Docker's CMD form.
type HealthCheck struct {
	// Test is the command, e.g. ["/app", "-healthcheck"] (run without a shell).
	Test               []string `json:"test"`
	IntervalSeconds    int      `json:"interval_seconds"`
	TimeoutSeconds     int      `json:"timeout_seconds"`
	Retries            int      `json:"retries"`
	StartPeriodSeconds int      `json:"start_period_seconds"`
}

// Mount attaches storage to an application's containers.
type Mount struct {
	// Type is volume, bind or tmpfs.
	Type     string `json:"type"`
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only"`
}

// Port publishes a container port on the nodes.
type Port struct {
	Target    int `json:"target"`
	Published int `json:"published"`
	// Protocol is tcp or udp.
	Protocol string `json:"protocol"`
	// Mode is host (the port on the node running the task) or ingress.
	Mode string `json:"mode"`
}

// CreateApplication adds an application to an environment. Its Swarm service
// name is derived from its name and id, unique across the server.
func (s *Store) CreateApplication(ctx context.Context, env uuid.UUID, in ApplicationSpec) (Application, error) {
	id, err := s.insertApplication(ctx, s.pool, env, in)
	if err != nil {
		return Application{}, err
	}
	return s.GetApplication(ctx, id)
}

func (s *Store) insertApplication(ctx context.Context, q querier, env uuid.UUID, in ApplicationSpec) (uuid.UUID, error) {
	id := newID()
	in.normalize()
	files, err := s.sealFiles(in.Files)
	if err != nil {
		return uuid.Nil, err
	}
	creds, err := s.sealCredentials(in.GitCredentials)
	if err != nil {
		return uuid.Nil, err
	}
	service := ServiceName(in.Name, id)
	_, err = q.Exec(ctx, `INSERT INTO applications (id, environment_id, name, description, service_name, source_type,
		git_repository, git_ref, git_provider, image, build_type, build_settings, port, replicas, command, cpu_limit, memory_limit_mb,
		health_check, mounts, ports, placement, labels, restart_policy, cpu_reservation, memory_reservation_mb, git_credentials_enc, keep_releases,
		files_enc, git_connection_id, auto_deploy, deploy_trigger, tag_pattern, watch_paths, preview_enabled, preview_host_pattern,
		preview_limit, preview_label, preview_https, preview_forks, webhook_secret_enc, release_settings)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28,
		$29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41)`,
		id, env, in.Name, in.Description, service, in.SourceType, in.GitRepository, in.GitRef, in.GitProvider, in.Image,
		in.BuildType, in.BuildSettings, in.Port, in.Replicas, in.Command, in.CPULimit, in.MemoryLimitMB,
		in.HealthCheck, in.Mounts, in.Ports, in.Placement, in.Labels, in.RestartPolicy, in.CPUReservation, in.MemoryReservationMB,
		creds, in.KeepReleases, files, in.GitConnectionID, in.AutoDeploy, in.DeployTrigger, in.TagPattern, in.WatchPaths,
		in.Preview.Enabled, in.Preview.HostPattern, in.Preview.Limit, in.Preview.Label, in.Preview.HTTPS, in.Preview.Forks,
		s.sealWebhookSecret(id, NewSecret()), in.ReleaseSettings)
	if err != nil {
		return uuid.Nil, mapErr(err, "application")
	}
	return id, nil
}

// normalize replaces nil collections with empty ones and fills defaults, so
// stored JSON is never null.
func (in *ApplicationSpec) normalize() {
	if in.BuildSettings == nil {
		in.BuildSettings = json.RawMessage("{}")
	}
	if in.Command == nil {
		in.Command = []string{}
	}
	if in.Mounts == nil {
		in.Mounts = []Mount{}
	}
	if in.Ports == nil {
		in.Ports = []Port{}
	}
	if in.Placement == nil {
		in.Placement = []string{}
	}
	if in.Labels == nil {
		in.Labels = map[string]string{}
	}
	if in.RestartPolicy == "" {
		in.RestartPolicy = "any"
	}
	if in.KeepReleases == 0 {
		in.KeepReleases = 10
	}
	if in.Files == nil {
		in.Files = []File{}
	}
	if in.WatchPaths == nil {
		in.WatchPaths = []string{}
	}
	if in.DeployTrigger == "" {
		in.DeployTrigger = "branch"
	}
	if in.Preview.Limit == 0 {
		in.Preview.Limit = 3
	}
	if in.Preview.HTTPS == "" {
		in.Preview.HTTPS = "none"
	}
}

// DefaultAutomation is the automation of a new application: push-to-deploy
// on its branch, previews off.
func DefaultAutomation() Automation {
	return Automation{AutoDeploy: true, DeployTrigger: "branch", WatchPaths: []string{},
		Preview: PreviewSettings{Limit: 3, HTTPS: "none"}}
}

// ServiceName derives the Swarm service name of an application: its name and
// the last 8 hex digits of its id (the random part of a UUIDv7).
func ServiceName(name string, id uuid.UUID) string {
	hex := id.String()
	if len(name) > 54 {
		name = name[:54]
	}
	return name + "-" + hex[len(hex)-8:]
}

// CandidateServiceName is the Swarm service a new release of the
// application whose service is base runs as, next to base, until it takes
// over (see core/release). It stays within Swarm's 63 characters.
func CandidateServiceName(base string) string {
	const suffix = "-next"
	if len(base)+len(suffix) <= 63 {
		return base + suffix
	}
	// Keep the id part at the end of base (its last 9 characters).
	return base[:63-len(suffix)-9] + base[len(base)-9:] + suffix
}

// GetApplication returns one application.
func (s *Store) GetApplication(ctx context.Context, id uuid.UUID) (Application, error) {
	a, err := s.scanApp(s.pool.QueryRow(ctx, `SELECT `+appCols+appFrom+`WHERE a.id = $1`, id))
	return a, mapErr(err, "application")
}

// ApplicationFilter narrows ListApplications; zero fields match everything
// within Orgs.
type ApplicationFilter struct {
	Orgs        []uuid.UUID
	Project     uuid.UUID
	Environment uuid.UUID
	// IncludePreviews lists preview applications too (they are shown under
	// their parent otherwise).
	IncludePreviews bool
}

// ListApplications returns applications visible in the filter's organizations.
func (s *Store) ListApplications(ctx context.Context, f ApplicationFilter, p Page) ([]Application, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+appCols+appFrom+`
		WHERE p.organization_id = ANY($1) AND ($2 = '00000000-0000-0000-0000-000000000000'::uuid OR e.project_id = $2)
		AND ($3 = '00000000-0000-0000-0000-000000000000'::uuid OR a.environment_id = $3)
		AND ($4 OR a.preview_of IS NULL)
		AND a.id > $5 ORDER BY a.id LIMIT $6`, s.scanApp, f.Orgs, f.Project, f.Environment, f.IncludePreviews)
	return items, more, mapErr(err, "applications")
}

// UpdateApplication replaces an application's settings (the caller merges a
// partial update onto the current spec first).
func (s *Store) UpdateApplication(ctx context.Context, id uuid.UUID, in ApplicationSpec) (Application, error) {
	in.normalize()
	files, err := s.sealFiles(in.Files)
	if err != nil {
		return Application{}, err
	}
	creds, err := s.sealCredentials(in.GitCredentials)
	if err != nil {
		return Application{}, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE applications SET name = $2, description = $3, source_type = $4,
		git_repository = $5, git_ref = $6, git_provider = $7, image = $8, build_type = $9, build_settings = $10,
		port = $11, replicas = $12, command = $13, cpu_limit = $14, memory_limit_mb = $15,
		health_check = $16, mounts = $17, ports = $18, placement = $19, labels = $20, restart_policy = $21,
		cpu_reservation = $22, memory_reservation_mb = $23, git_credentials_enc = $24, keep_releases = $25, files_enc = $26,
		git_connection_id = $27, auto_deploy = $28, deploy_trigger = $29, tag_pattern = $30, watch_paths = $31,
		preview_enabled = $32, preview_host_pattern = $33, preview_limit = $34, preview_label = $35, preview_https = $36,
		preview_forks = $37, release_settings = $38, updated_at = now()
		WHERE id = $1`, id, in.Name, in.Description, in.SourceType, in.GitRepository, in.GitRef, in.GitProvider,
		in.Image, in.BuildType, in.BuildSettings, in.Port, in.Replicas, in.Command, in.CPULimit, in.MemoryLimitMB,
		in.HealthCheck, in.Mounts, in.Ports, in.Placement, in.Labels, in.RestartPolicy, in.CPUReservation, in.MemoryReservationMB,
		creds, in.KeepReleases, files, in.GitConnectionID, in.AutoDeploy, in.DeployTrigger, in.TagPattern, in.WatchPaths,
		in.Preview.Enabled, in.Preview.HostPattern, in.Preview.Limit, in.Preview.Label, in.Preview.HTTPS, in.Preview.Forks,
		in.ReleaseSettings)
	if err != nil {
		return Application{}, mapErr(err, "application")
	}
	if tag.RowsAffected() == 0 {
		return Application{}, mapErr(pgx.ErrNoRows, "application")
	}
	return s.GetApplication(ctx, id)
}

// Spec returns the user-settable fields of a.
func (a Application) Spec() ApplicationSpec {
	return ApplicationSpec{Name: a.Name, Description: a.Description, SourceType: a.SourceType,
		GitRepository: a.GitRepository, GitRef: a.GitRef, GitProvider: a.GitProvider, Image: a.Image,
		BuildType: a.BuildType, BuildSettings: a.BuildSettings, Port: a.Port, Replicas: a.Replicas,
		Command: a.Command, CPULimit: a.CPULimit, MemoryLimitMB: a.MemoryLimitMB, RuntimeSettings: a.RuntimeSettings,
		GitConnectionID: a.GitConnectionID, Automation: a.Automation}
}

// DeleteApplication deletes an application with its domains and variables.
func (s *Store) DeleteApplication(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "applications", id, "application")
}
