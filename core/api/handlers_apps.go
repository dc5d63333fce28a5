package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/webhook"
	"github.com/distribution/reference"
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

// validateApplication checks a complete application spec.
func validateApplication(a store.ApplicationSpec) error {
	if err := validateSlug("name", a.Name, 40); err != nil {
		return err
	}
	if len(a.Description) > 2000 {
		return invalid("description", "must be at most 2000 characters")
	}
	switch a.SourceType {
	case "git":
		if a.GitConnectionID != nil && repoNamePattern.MatchString(a.GitRepository) {
			// owner/repo, resolved by the connection's provider
		} else if err := validateGitURL(a.GitRepository); err != nil {
			return err
		}
		if err := validateGitRef(a.GitRef); err != nil {
			return err
		}
		if err := validateSlug("build_type", a.BuildType, 40); err != nil {
			return err
		}
	case "image":
		if err := validateImage(a.Image); err != nil {
			return err
		}
	default:
		return invalid("source_type", "%q is not one of git, image", a.SourceType)
	}
	if a.GitProvider != "" {
		if err := validateSlug("git_provider", a.GitProvider, 40); err != nil {
			return err
		}
	}
	if len(a.BuildSettings) > 64<<10 {
		return invalid("build_settings", "must be at most 64 KiB")
	}
	if len(a.BuildSettings) > 0 && !bytes.HasPrefix(bytes.TrimSpace(a.BuildSettings), []byte("{")) {
		return invalid("build_settings", "must be a JSON object")
	}
	if a.Port < 0 || a.Port > 65535 {
		return invalid("port", "must be %s (0: no HTTP port)", fmtRange(0, 65535))
	}
	if a.Replicas < 0 || a.Replicas > 100 {
		return invalid("replicas", "must be %s", fmtRange(0, 100))
	}
	if a.CPULimit < 0 || a.CPULimit > 256 {
		return invalid("cpu_limit", "must be from 0 to 256 CPUs")
	}
	if a.MemoryLimitMB != 0 && (a.MemoryLimitMB < 6 || a.MemoryLimitMB > 1<<20) {
		return invalid("memory_limit_mb", "must be 0 (no limit) or %s MiB", fmtRange(6, 1<<20))
	}
	if len(a.Command) > 64 {
		return invalid("command", "must have at most 64 arguments")
	}
	for _, arg := range a.Command {
		if len(arg) > 4096 || strings.ContainsRune(arg, 0) {
			return invalid("command", "arguments must be at most 4096 bytes without NUL characters")
		}
	}
	if err := validateAutomation(a.Automation); err != nil {
		return err
	}
	return validateRuntime(a.RuntimeSettings)
}

// repoNamePattern is a provider's repository name: owner/repo, or
// group/subgroup/repo on GitLab.
var repoNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*){1,5}$`)

func validateAutomation(a store.Automation) error {
	switch a.DeployTrigger {
	case "branch", "tag":
	default:
		return invalid("deploy_trigger", "%q is not one of branch, tag", a.DeployTrigger)
	}
	if err := webhook.ValidateTagPattern(a.TagPattern); err != nil {
		return invalid("tag_pattern", "%v", err)
	}
	if len(a.WatchPaths) > 50 {
		return invalid("watch_paths", "at most 50 patterns")
	}
	for i, p := range a.WatchPaths {
		if err := webhook.ValidateWatchPath(p); err != nil {
			return invalid(fmt.Sprintf("watch_paths[%d]", i), "%v", err)
		}
	}
	p := a.Preview
	if p.Enabled || p.HostPattern != "" {
		if err := webhook.ValidateHostPattern(p.HostPattern); err != nil {
			return invalid("preview.host_pattern", "%v", err)
		}
	}
	if p.Limit < 1 || p.Limit > 50 {
		return invalid("preview.limit", "must be %s", fmtRange(1, 50))
	}
	if p.Label != "" {
		if err := validateText("preview.label", p.Label, 1, 100); err != nil {
			return err
		}
	}
	switch p.HTTPS {
	case "none", "letsencrypt":
	default:
		return invalid("preview.https", "%q is not one of none, letsencrypt", p.HTTPS)
	}
	return nil
}

// applyConnection sets the application's git connection from the request,
// checking it belongs to the application's organization.
func (s *Server) applyConnection(c *fiber.Ctx, req ApplicationRequest, org uuid.UUID, spec *store.ApplicationSpec) error {
	if req.GitConnectionID == nil {
		return nil
	}
	if *req.GitConnectionID == "" {
		spec.GitConnectionID = nil
		return nil
	}
	id, err := uuid.Parse(*req.GitConnectionID)
	if err != nil {
		return invalid("git_connection_id", "%q is not a valid id", *req.GitConnectionID)
	}
	conn, err := s.store.GetGitConnection(c.UserContext(), id)
	if err != nil || conn.OrganizationID != org {
		if err != nil && !isNotFound(err) {
			return err
		}
		return invalid("git_connection_id", "no git connection %s in this organization", id)
	}
	spec.GitConnectionID = &conn.ID
	return nil
}

// validateGitURL accepts https, http, ssh, git and file URLs, scp-like
// user@host:path addresses and absolute paths. Values starting with '-' are
// refused so they can never be read as a git option.
func validateGitURL(u string) error {
	const field = "git_repository"
	switch {
	case u == "":
		return invalid(field, "is required for source_type git")
	case len(u) > 2048:
		return invalid(field, "must be at most 2048 characters")
	case strings.HasPrefix(u, "-"):
		return invalid(field, "must not start with '-'")
	case strings.ContainsAny(u, " \t\r\n\x00"):
		return invalid(field, "must not contain whitespace")
	}
	for _, scheme := range []string{"https://", "http://", "ssh://", "git://", "file://"} {
		if strings.HasPrefix(u, scheme) && len(u) > len(scheme) {
			return nil
		}
	}
	if strings.HasPrefix(u, "/") {
		return nil
	}
	if at := strings.Index(u, "@"); at > 0 {
		if colon := strings.Index(u[at:], ":"); colon > 1 && !strings.Contains(u[:at], "/") {
			return nil
		}
	}
	return invalid(field, "%q is not an https, ssh, git or file URL, a user@host:path address or an absolute path", u)
}

// validateGitRef accepts what `git check-ref-format` would, plus commit ids.
func validateGitRef(ref string) error {
	const field = "git_ref"
	if ref == "" {
		return nil
	}
	if len(ref) > 255 || strings.HasPrefix(ref, "-") || strings.HasPrefix(ref, "/") || strings.HasSuffix(ref, "/") ||
		strings.HasSuffix(ref, ".lock") || strings.Contains(ref, "..") || strings.Contains(ref, "@{") ||
		strings.ContainsAny(ref, " ~^:?*[\\\t\r\n\x00\x7f") {
		return invalid(field, "%q is not a valid branch, tag or commit", ref)
	}
	return nil
}

func validateImage(image string) error {
	if image == "" {
		return invalid("image", "is required for source_type image")
	}
	if _, err := reference.ParseNormalizedNamed(image); err != nil {
		return invalid("image", "%q is not a valid image reference: %v", image, err)
	}
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

func (s *Server) createApplication(c *fiber.Ctx) error {
	env, err := s.loadEnvironment(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req ApplicationRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	spec := store.ApplicationSpec{Replicas: 1, BuildType: "dockerfile", RuntimeSettings: store.RuntimeSettings{RestartPolicy: "any", KeepReleases: 10},
		Automation: store.DefaultAutomation()}
	req.apply(&spec)
	if err := s.applyConnection(c, req, env.OrganizationID, &spec); err != nil {
		return err
	}
	if spec.SourceType == "" {
		spec.SourceType = "git"
		if spec.Image != "" {
			spec.SourceType = "image"
		}
	}
	if err := validateApplication(spec); err != nil {
		return err
	}
	if err := s.checkRepository(c, "", spec); err != nil {
		return err
	}
	if err := s.checkHostAccess(c, env.OrganizationID, nil, hostaccess.ApplicationUses(spec)); err != nil {
		return err
	}
	a, err := s.store.CreateApplication(c.UserContext(), env.ID, spec)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}

func (s *Server) getApplication(c *fiber.Ctx) error {
	a, err := s.loadApplication(c, "id", store.RoleViewer)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) updateApplication(c *fiber.Ctx) error {
	a, err := s.loadApplication(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req ApplicationRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if a.PreviewOf != nil {
		return conflict("id", "id: a preview inherits its parent application's settings; change the parent")
	}
	spec := a.Spec()
	req.apply(&spec)
	if err := s.applyConnection(c, req, a.OrganizationID, &spec); err != nil {
		return err
	}
	if err := validateApplication(spec); err != nil {
		return err
	}
	if err := s.checkRepository(c, a.GitRepository, spec); err != nil {
		return err
	}
	if err := s.checkHostAccess(c, a.OrganizationID, hostaccess.ApplicationUses(a.Spec()), hostaccess.ApplicationUses(spec)); err != nil {
		return err
	}
	a, err = s.store.UpdateApplication(c.UserContext(), a.ID, spec)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) deleteApplication(c *fiber.Ctx) error {
	// Admins only, like deleting its project, environment or a database:
	// its deployments, variables and domains go with it.
	a, err := s.loadApplication(c, "id", store.RoleAdmin)
	if err != nil {
		return err
	}
	previews, err := s.store.ListPreviews(c.UserContext(), a.ID)
	if err != nil {
		return err
	}
	if len(previews) > 0 && s.opts.Webhooks != nil {
		if err := s.opts.Webhooks.RemovePreviews(c.UserContext(), previews); err != nil {
			return err
		}
	}
	if err := s.removeServices(c, append(previews, a)); err != nil {
		return err
	}
	if err := s.store.DeleteApplication(c.UserContext(), a.ID); err != nil {
		return notFoundAs(err, "application")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// removeServices stops the Swarm services of applications about to be
// deleted; the records are deleted only once their services are gone.
func (s *Server) removeServices(c *fiber.Ctx, apps []store.Application) error {
	if len(apps) == 0 {
		return nil
	}
	return s.svc.RemoveApplications(c.UserContext(), apps)
}
