package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/core/automation"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/validate"
	"github.com/google/uuid"
)

// Applications creates, changes and deletes applications: their settings,
// build settings, git and webhook automation, webhook secret and deploy
// token. Members create and change them; admins delete them and replace
// their webhook credentials. Every change of a repository address passes
// the outbound guard, every change of host-level settings (bind mounts,
// published ports) the host-access guard.
type Applications struct{ s *Services }

// ApplicationSettings are an application's complete settings, as a front
// door merged them from a request onto the saved ones (or onto
// NewApplicationSettings for a new application).
type ApplicationSettings struct {
	store.ApplicationSpec
}

// BuildTypeAuto is the build type that picks a builder at each deployment
// (docs/builders/auto.md); new applications start with it.
const BuildTypeAuto = "auto"

// NewApplicationSettings returns the settings a new application starts
// from: build type auto, which builds a repository's Dockerfile when it has
// one and otherwise asks the zero-config builders.
func NewApplicationSettings() ApplicationSettings {
	return ApplicationSettings{store.ApplicationSpec{Replicas: 1, BuildType: BuildTypeAuto,
		RuntimeSettings: store.RuntimeSettings{RestartPolicy: "any", KeepReleases: 10},
		Automation:      store.DefaultAutomation()}}
}

// repoNamePattern is a provider's repository name: owner/repo, or
// group/subgroup/repo on GitLab.
var repoNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*){1,5}$`)

// Validate checks complete application settings.
func (in ApplicationSettings) Validate() error {
	a := in.ApplicationSpec
	if err := validate.Slug("name", a.Name, 40); err != nil {
		return err
	}
	if err := validate.MaxLen("description", a.Description, 2000); err != nil {
		return err
	}
	switch a.SourceType {
	case "git":
		repo := validate.GitURL("git_repository", a.GitRepository)
		if a.GitConnectionID != nil && repoNamePattern.MatchString(a.GitRepository) {
			repo = nil // owner/repo, resolved by the connection's provider
		}
		if err := validate.First(repo, validate.GitRef("git_ref", a.GitRef), validate.Slug("build_type", a.BuildType, 40)); err != nil {
			return err
		}
	case "image":
		if err := validate.Image("image", a.Image); err != nil {
			return err
		}
	default:
		return problem.InvalidField("source_type", "%q is not one of git, image", a.SourceType)
	}
	if a.GitProvider != "" {
		if err := validate.Slug("git_provider", a.GitProvider, 40); err != nil {
			return err
		}
	}
	if len(a.BuildSettings) > 64<<10 {
		return problem.InvalidField("build_settings", "must be at most 64 KiB")
	}
	if len(a.BuildSettings) > 0 && !bytes.HasPrefix(bytes.TrimSpace(a.BuildSettings), []byte("{")) {
		return problem.InvalidField("build_settings", "must be a JSON object")
	}
	switch {
	case a.Port < 0 || a.Port > 65535:
		return problem.InvalidField("port", "must be %s (0: no HTTP port)", rangeText(0, 65535))
	case a.Replicas < 0 || a.Replicas > 100:
		return problem.InvalidField("replicas", "must be %s", rangeText(0, 100))
	case a.CPULimit < 0 || a.CPULimit > 256:
		return problem.InvalidField("cpu_limit", "must be from 0 to 256 CPUs (0: no limit)")
	case a.MemoryLimitMB != 0 && (a.MemoryLimitMB < 6 || a.MemoryLimitMB > 1<<20):
		return problem.InvalidField("memory_limit_mb", "must be 0 (no limit) or %s MiB", rangeText(6, 1<<20))
	case len(a.Command) > 64:
		return problem.InvalidField("command", "must have at most 64 arguments")
	}
	for _, arg := range a.Command {
		if len(arg) > 4096 || strings.ContainsRune(arg, 0) {
			return problem.InvalidField("command", "arguments must be at most 4096 bytes without NUL characters")
		}
	}
	if err := validateAutomation(a.Automation); err != nil {
		return err
	}
	return validateRuntime(a.RuntimeSettings)
}

// validateAutomation checks push-to-deploy and preview settings.
func validateAutomation(a store.Automation) error {
	switch a.DeployTrigger {
	case "branch", "tag":
	default:
		return problem.InvalidField("deploy_trigger", "%q is not one of branch, tag", a.DeployTrigger)
	}
	if err := automation.ValidateTagPattern(a.TagPattern); err != nil {
		return problem.InvalidField("tag_pattern", "%v", err)
	}
	if len(a.WatchPaths) > 50 {
		return problem.InvalidField("watch_paths", "at most 50 patterns")
	}
	for i, p := range a.WatchPaths {
		if err := automation.ValidateWatchPath(p); err != nil {
			return problem.InvalidField(fmt.Sprintf("watch_paths[%d]", i), "%v", err)
		}
	}
	p := a.Preview
	if p.Enabled || p.HostPattern != "" {
		if err := automation.ValidateHostPattern(p.HostPattern); err != nil {
			return problem.InvalidField("preview.host_pattern", "%v", err)
		}
	}
	if p.Limit < 1 || p.Limit > 50 {
		return problem.InvalidField("preview.limit", "must be %s", rangeText(1, 50))
	}
	if p.Label != "" {
		if err := validate.Text("preview.label", p.Label, 1, 100); err != nil {
			return err
		}
	}
	switch p.HTTPS {
	case "none", "letsencrypt":
	default:
		return problem.InvalidField("preview.https", "%q is not one of none, letsencrypt", p.HTTPS)
	}
	return nil
}

func rangeText(lo, hi int) string { return fmt.Sprintf("from %d to %d", lo, hi) }

// Create adds an application to an environment (members and above). An
// empty source type is git, or image when an image is given.
func (as *Applications) Create(ctx context.Context, p *store.Principal, env store.Environment, in ApplicationSettings) (store.Application, error) {
	if err := Authorize(p, env.OrganizationID, store.RoleMember, "environment"); err != nil {
		return store.Application{}, err
	}
	if in.SourceType == "" {
		in.SourceType = "git"
		if in.Image != "" {
			in.SourceType = "image"
		}
	}
	if err := as.check(ctx, p, env.OrganizationID, nil, in); err != nil {
		return store.Application{}, err
	}
	return as.s.deps.Store.CreateApplication(ctx, env.ID, in.ApplicationSpec)
}

// Update replaces an application's settings (members and above); they
// apply with its next deployment. Previews follow their parent's
// settings and are refused (409).
func (as *Applications) Update(ctx context.Context, p *store.Principal, app store.Application, in ApplicationSettings) (store.Application, error) {
	if err := Authorize(p, app.OrganizationID, store.RoleMember, "application"); err != nil {
		return app, err
	}
	if app.PreviewOf != nil {
		return app, problem.Conflicting("id", "a preview inherits its parent application's settings; change the parent")
	}
	if err := as.check(ctx, p, app.OrganizationID, &app, in); err != nil {
		return app, err
	}
	return as.s.deps.Store.UpdateApplication(ctx, app.ID, in.ApplicationSpec)
}

// SetBuildSettings replaces the builder's per-application settings (a JSON
// object the front door checked against the builder's schema).
func (as *Applications) SetBuildSettings(ctx context.Context, p *store.Principal, app store.Application, settings json.RawMessage) (store.Application, error) {
	in := ApplicationSettings{app.Spec()}
	in.BuildSettings = settings
	return as.Update(ctx, p, app, in)
}

// check validates settings and asks the guards about what changed: the
// git connection must be the organization's, a new repository address
// must pass the outbound guard, host-level settings the host-access guard.
// was is the saved application (nil on create).
func (as *Applications) check(ctx context.Context, p *store.Principal, org uuid.UUID, was *store.Application, in ApplicationSettings) error {
	if err := in.Validate(); err != nil {
		return err
	}
	var wasSettings *ApplicationSettings
	if was != nil {
		wasSettings = &ApplicationSettings{was.Spec()}
	}
	if err := as.checkBuildSettings(ctx, wasSettings, in); err != nil {
		return err
	}
	if id := in.GitConnectionID; id != nil {
		conn, err := as.s.deps.Store.GetGitConnection(ctx, *id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("load git connection: %w", err)
		}
		if err != nil || conn.OrganizationID != org {
			return problem.InvalidField("git_connection_id", "no git connection %s in this organization", *id)
		}
	}
	var before []hostaccess.Use
	oldRepo := ""
	if was != nil {
		before = hostaccess.ApplicationUses(was.Spec())
		oldRepo = was.GitRepository
	}
	if in.SourceType == "git" && in.GitRepository != oldRepo {
		if err := as.s.outbound(p).CheckRepository(ctx, "git_repository", in.GitRepository); err != nil {
			return err
		}
	}
	return as.s.deps.HostAccess.CheckChange(ctx, p, org, before, hostaccess.ApplicationUses(in.ApplicationSpec))
}

// Delete removes the Swarm services of the application and its previews,
// then their records with their deployments, domains and variables
// (admins and above). On failure the records are kept so the deletion
// can be retried.
func (as *Applications) Delete(ctx context.Context, p *store.Principal, app store.Application) error {
	if err := Authorize(p, app.OrganizationID, store.RoleAdmin, "application"); err != nil {
		return err
	}
	st := as.s.deps.Store
	previews, err := st.ListPreviews(ctx, app.ID)
	if err != nil {
		return fmt.Errorf("list previews: %w", err)
	}
	if err := as.s.RemoveApplications(ctx, append(previews, app)); err != nil {
		return err
	}
	if dep := as.s.deps.Deployer; dep != nil {
		for _, pv := range previews { // the parent's images are its releases: kept like a project's
			if err := dep.RemoveReleaseImages(ctx, pv); err != nil {
				as.s.deps.Logger.Warn("removing preview images failed", "preview", pv.ID, "err", err)
			}
		}
	}
	// Previews go with their parent (ON DELETE CASCADE).
	if err := st.DeleteApplication(ctx, app.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return problem.Missing("application")
		}
		return err
	}
	return nil
}

// errPreviewWebhook refuses webhook credentials of a preview.
var errPreviewWebhook = problem.Conflicting("id", "previews have no webhooks; see the parent application")

// RotateWebhookSecret replaces the application's webhook signing secret
// and returns the new one (admins and above).
func (as *Applications) RotateWebhookSecret(ctx context.Context, p *store.Principal, app store.Application) (string, error) {
	if err := Authorize(p, app.OrganizationID, store.RoleAdmin, "application"); err != nil {
		return "", err
	}
	if app.PreviewOf != nil {
		return "", errPreviewWebhook
	}
	return as.s.deps.Store.RotateWebhookSecret(ctx, app.ID)
}

// RotateDeployToken creates a new deploy token, replacing the old one,
// and returns it; only its digest is kept (admins and above).
func (as *Applications) RotateDeployToken(ctx context.Context, p *store.Principal, app store.Application) (string, error) {
	if err := Authorize(p, app.OrganizationID, store.RoleAdmin, "application"); err != nil {
		return "", err
	}
	if app.PreviewOf != nil {
		return "", errPreviewWebhook
	}
	return as.s.deps.Store.RotateDeployToken(ctx, app.ID)
}

// Previews lists the application's preview deployments (viewers and above).
func (as *Applications) Previews(ctx context.Context, p *store.Principal, app store.Application) ([]store.Application, error) {
	if err := Authorize(p, app.OrganizationID, store.RoleViewer, "application"); err != nil {
		return nil, err
	}
	previews, err := as.s.deps.Store.ListPreviews(ctx, app.ID)
	if previews == nil {
		previews = []store.Application{}
	}
	return previews, err
}

// outbound returns the guard for the caller's outbound addresses:
// instance administrators (and System) may aim requests anywhere.
func (s *Services) outbound(p *store.Principal) *netguard.Guard {
	if p == System || (p != nil && p.User.InstanceAdmin) {
		return netguard.Open()
	}
	return s.deps.Outbound
}

// OutboundGuard returns the guard that checks addresses against the
// instance setting outbound_allow of st, with this host's resolver and
// interfaces.
func OutboundGuard(st *store.Store) *netguard.Guard {
	return netguard.New(netguard.Options{Allow: func(ctx context.Context) ([]string, error) {
		in, err := st.InstanceSettings(ctx)
		if err != nil {
			return nil, err
		}
		return in.OutboundAllow, nil
	}})
}
