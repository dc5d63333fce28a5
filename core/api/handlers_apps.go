package api

import (
	"encoding/json"
	"strings"

	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// ApplicationRequest creates or changes an application. On PATCH, omitted
// fields keep their value.
type ApplicationRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	// SourceType is "git" (build from a repository) or "image" (run an existing image).
	SourceType    *string `json:"source_type"`
	GitRepository *string `json:"git_repository"`
	// GitRef is a branch, tag or commit; empty means the default branch.
	GitRef      *string `json:"git_ref"`
	GitProvider *string `json:"git_provider"`
	Image       *string `json:"image"`
	// BuildType selects the builder plugin, e.g. "dockerfile" or "static".
	BuildType     *string          `json:"build_type"`
	BuildSettings *json.RawMessage `json:"build_settings"`
	// Port is the container port HTTP traffic goes to.
	Port     *int      `json:"port"`
	Replicas *int      `json:"replicas"`
	Command  *[]string `json:"command"`
	// CPULimit is in CPUs (0.5 = half a core); 0 means no limit.
	CPULimit *float64 `json:"cpu_limit"`
	// MemoryLimitMB is in MiB; 0 means no limit.
	MemoryLimitMB *int `json:"memory_limit_mb"`
	// HealthCheck overrides the image's health check (CMD form, no shell).
	HealthCheck *store.HealthCheck `json:"health_check"`
	Mounts      *[]store.Mount     `json:"mounts"`
	Ports       *[]store.Port      `json:"ports"`
	// Placement holds Swarm constraints such as "node.role==manager".
	Placement *[]string          `json:"placement"`
	Labels    *map[string]string `json:"labels"`
	// RestartPolicy is any (default), on-failure or none.
	RestartPolicy       *string  `json:"restart_policy"`
	CPUReservation      *float64 `json:"cpu_reservation"`
	MemoryReservationMB *int     `json:"memory_reservation_mb"`
	// GitCredentials replace the repository credentials (write-only; send
	// an empty object to remove them).
	GitCredentials *store.GitCredentials `json:"git_credentials"`
	// KeepReleases is how many releases keep their image for instant rollback (default 10).
	KeepReleases *int `json:"keep_releases"`
	// Files replaces the files mounted read-only into the containers (their
	// content is write-only: send every file's content again when changing them).
	Files *[]FileRequest `json:"files"`
	// GitConnectionID uses a git connection's provider and credentials
	// (send "" to stop using one); git_repository may then be "owner/repo".
	GitConnectionID *string `json:"git_connection_id"`
	// AutoDeploy deploys on matching push webhooks (default true).
	AutoDeploy *bool `json:"auto_deploy"`
	// DeployTrigger is "branch" (pushes to git_ref) or "tag" (tags matching tag_pattern).
	DeployTrigger *string `json:"deploy_trigger"`
	// TagPattern is a glob pushed tags must match (empty: every tag).
	TagPattern *string `json:"tag_pattern"`
	// WatchPaths are gitignore-style globs; a push deploys only when a changed file matches.
	WatchPaths *[]string `json:"watch_paths"`
	// Preview configures preview deployments of pull requests.
	Preview *PreviewRequest `json:"preview"`
	// Readiness is berth's own check of each new task before it takes
	// traffic (mode port, http or none); an object without mode restores
	// the default (port for an application with a domain, none otherwise).
	Readiness *store.Readiness `json:"readiness"`
	// SoakSeconds is how long new tasks serve next to the old ones before
	// the old ones are retired (default 5).
	SoakSeconds *int `json:"soak_seconds"`
	// StopGraceSeconds is how long a stopping task may finish its requests
	// after SIGTERM (default 10).
	StopGraceSeconds *int `json:"stop_grace_seconds"`
}

// PreviewRequest changes preview settings; omitted fields keep their value.
type PreviewRequest struct {
	Enabled *bool `json:"enabled"`
	// HostPattern makes each preview's host, e.g. "pr-{number}.{app}.preview.example.com".
	HostPattern *string `json:"host_pattern"`
	// Limit is the most previews at once (default 3).
	Limit *int `json:"limit"`
	// Label previews only pull requests carrying it (empty: all).
	Label *string `json:"label"`
	// HTTPS is none or letsencrypt.
	HTTPS *string `json:"https"`
	// Forks previews pull requests from forks too (off by default: they
	// would run foreign code with the application's variables).
	Forks *bool `json:"forks"`
}

// FileRequest is a file mounted read-only into an application's containers.
type FileRequest struct {
	Target  string `json:"target"`
	Content string `json:"content"`
	// Mode is the file mode as a number, e.g. 292 (0444, the default).
	Mode int `json:"mode"`
}

// apply merges the request onto spec.
func (r ApplicationRequest) apply(spec *store.ApplicationSpec) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&spec.Name, r.Name)
	if r.Description != nil {
		spec.Description = *r.Description
	}
	set(&spec.SourceType, r.SourceType)
	set(&spec.GitRepository, r.GitRepository)
	set(&spec.GitRef, r.GitRef)
	set(&spec.GitProvider, r.GitProvider)
	set(&spec.Image, r.Image)
	set(&spec.BuildType, r.BuildType)
	if r.BuildSettings != nil {
		spec.BuildSettings = append(json.RawMessage(nil), *r.BuildSettings...)
	}
	if r.Port != nil {
		spec.Port = *r.Port
	}
	if r.Replicas != nil {
		spec.Replicas = *r.Replicas
	}
	if r.Command != nil {
		spec.Command = append([]string{}, *r.Command...)
	}
	if r.CPULimit != nil {
		spec.CPULimit = *r.CPULimit
	}
	if r.MemoryLimitMB != nil {
		spec.MemoryLimitMB = *r.MemoryLimitMB
	}
	if r.HealthCheck != nil {
		spec.HealthCheck = r.HealthCheck
		if len(r.HealthCheck.Test) == 0 {
			spec.HealthCheck = nil // an empty test removes the override
		}
	}
	if r.Mounts != nil {
		spec.Mounts = *r.Mounts
	}
	if r.Ports != nil {
		spec.Ports = *r.Ports
	}
	if r.Placement != nil {
		spec.Placement = *r.Placement
	}
	if r.Labels != nil {
		spec.Labels = *r.Labels
	}
	if r.RestartPolicy != nil {
		spec.RestartPolicy = *r.RestartPolicy
	}
	if r.CPUReservation != nil {
		spec.CPUReservation = *r.CPUReservation
	}
	if r.MemoryReservationMB != nil {
		spec.MemoryReservationMB = *r.MemoryReservationMB
	}
	if r.GitCredentials != nil {
		spec.GitCredentials = r.GitCredentials
		if *r.GitCredentials == (store.GitCredentials{}) {
			spec.GitCredentials = nil
		}
	}
	if r.KeepReleases != nil {
		spec.KeepReleases = *r.KeepReleases
	}
	if r.AutoDeploy != nil {
		spec.AutoDeploy = *r.AutoDeploy
	}
	set(&spec.DeployTrigger, r.DeployTrigger)
	set(&spec.TagPattern, r.TagPattern)
	if r.WatchPaths != nil {
		spec.WatchPaths = append([]string{}, *r.WatchPaths...)
	}
	if p := r.Preview; p != nil {
		if p.Enabled != nil {
			spec.Preview.Enabled = *p.Enabled
		}
		set(&spec.Preview.HostPattern, p.HostPattern)
		if p.Limit != nil {
			spec.Preview.Limit = *p.Limit
		}
		set(&spec.Preview.Label, p.Label)
		set(&spec.Preview.HTTPS, p.HTTPS)
		if p.Forks != nil {
			spec.Preview.Forks = *p.Forks
		}
	}
	if r.Readiness != nil {
		spec.Readiness = r.Readiness
		if r.Readiness.Mode == "" {
			spec.Readiness = nil
		}
	}
	if r.SoakSeconds != nil {
		spec.SoakSeconds = r.SoakSeconds
	}
	if r.StopGraceSeconds != nil {
		spec.StopGraceSeconds = r.StopGraceSeconds
	}
	if r.Files != nil {
		spec.Files = make([]store.File, 0, len(*r.Files))
		for _, f := range *r.Files {
			if f.Mode == 0 {
				f.Mode = 0o444
			}
			spec.Files = append(spec.Files, store.File{Target: f.Target, Content: f.Content, Mode: f.Mode, Size: len(f.Content)})
		}
	}
}

// connection sets the application's git connection from the request
// ("" stops using one); the service checks it is the organization's.
func (r ApplicationRequest) connection(spec *store.ApplicationSpec) error {
	if r.GitConnectionID == nil {
		return nil
	}
	if *r.GitConnectionID == "" {
		spec.GitConnectionID = nil
		return nil
	}
	id, err := uuid.Parse(*r.GitConnectionID)
	if err != nil {
		return invalid("git_connection_id", "%q is not a valid id", *r.GitConnectionID)
	}
	spec.GitConnectionID = &id
	return nil
}

func (s *Server) listApplications(c *fiber.Ctx) error {
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	f := store.ApplicationFilter{Orgs: orgIDs(principal(c))}
	if f.Project, err = queryID(c, "project_id"); err != nil {
		return err
	}
	if f.Environment, err = queryID(c, "environment_id"); err != nil {
		return err
	}
	apps, more, err := s.store.ListApplications(c.UserContext(), f, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(apps, more, func(a store.Application) uuid.UUID { return a.ID }))
}

func (s *Server) createApplication(c *fiber.Ctx, req ApplicationRequest) (store.Application, error) {
	in := service.NewApplicationSettings()
	req.apply(&in.ApplicationSpec)
	if err := req.connection(&in.ApplicationSpec); err != nil {
		return store.Application{}, err
	}
	return s.svc.Applications.Create(c.UserContext(), principal(c), resolved(c).Environment, in)
}

func (s *Server) getApplication(c *fiber.Ctx) (store.Application, error) {
	return resolved(c).Application, nil
}

func (s *Server) updateApplication(c *fiber.Ctx, req ApplicationRequest) (store.Application, error) {
	a := resolved(c).Application
	in := service.ApplicationSettings{ApplicationSpec: a.Spec()}
	req.apply(&in.ApplicationSpec)
	if err := req.connection(&in.ApplicationSpec); err != nil {
		return a, err
	}
	return s.svc.Applications.Update(c.UserContext(), principal(c), a, in)
}

// deleteApplication deletes an application with its previews, deployments,
// variables and domains, after removing their Swarm services (admins, like
// deleting its project, environment or a database).
func (s *Server) deleteApplication(c *fiber.Ctx) (NoContent, error) {
	return NoContent{}, s.svc.Applications.Delete(c.UserContext(), principal(c), resolved(c).Application)
}
