package dashboard

import (
	"errors"
	"strconv"
	"strings"
	"unicode"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/vars"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

type appData struct {
	App         store.Application
	Project     store.Project
	Env         store.Environment
	State       string
	Latest      *store.Deployment
	Domains     []store.Domain
	Deployments []deploymentRow
	Chart       barChart
	BuildTypes  []string
	// Variables are nil for viewers: values are secrets.
	Variables *variableSets
	CanEdit   bool
	// Deployable is false when the server has no Docker.
	Deployable bool
	// Git is the "Git & webhooks" panel (members, not on previews).
	Git *gitPanel
	// Previews are the application's preview deployments of pull requests.
	Previews []previewRow
}

// variableSets are the application's variables and the shared ones it can
// reference.
type variableSets struct {
	App, Environment, Project []store.Variable
}

// deploymentRow is one line of the deployments table.
type deploymentRow struct {
	store.Deployment
	Duration    string
	CanRollback bool
}

func (d *Dashboard) appPage(r *request) error {
	return d.renderApp(r, fiber.StatusOK, nil)
}

func (d *Dashboard) renderApp(r *request, status int, forms map[string]*form) error {
	return d.renderAppWith(r, status, forms, "")
}

// renderAppWith renders the application page; newToken, when set, is a
// deploy token just created, shown this once.
func (d *Dashboard) renderAppWith(r *request, status int, forms map[string]*form, newToken string) error {
	ctx := r.c.UserContext()
	a := r.app
	data := appData{App: a, CanEdit: r.can(a.OrganizationID, store.RoleMember), Deployable: d.opts.Deployer != nil}
	var err error
	if data.Project, err = d.store.GetProject(ctx, a.ProjectID); err != nil {
		return err
	}
	if data.Env, err = d.store.GetEnvironment(ctx, a.EnvironmentID); err != nil {
		return err
	}
	if data.Domains, _, err = d.store.ListDomains(ctx, a.ID, store.Page{Limit: maxListed}); err != nil {
		return err
	}
	deps, _, err := d.store.ListDeployments(ctx, a.ID, store.Page{Limit: 30})
	if err != nil {
		return err
	}
	if len(deps) > 0 {
		data.Latest = &deps[0]
	}
	data.State = appState(data.Latest)
	releases, err := d.store.Releases(ctx, a.ID, a.KeepReleases)
	if err != nil {
		return err
	}
	kept := map[string]bool{}
	for _, rel := range releases {
		kept[rel.Image] = true
	}
	for i, dep := range deps {
		row := deploymentRow{Deployment: dep}
		if dep.StartedAt != nil && dep.FinishedAt != nil {
			row.Duration = formatDuration(dep.FinishedAt.Sub(*dep.StartedAt))
		}
		// Rolling back to the newest succeeded release would change nothing.
		row.CanRollback = data.CanEdit && dep.Status == store.DeploymentSucceeded && dep.Image != "" && kept[dep.Image] &&
			!isCurrentRelease(deps, i)
		data.Deployments = append(data.Deployments, row)
	}
	data.Chart = durationChart(deps)
	if data.CanEdit {
		data.BuildTypes = d.buildTypes(ctx)
		vs := &variableSets{}
		if vs.App, err = d.store.ListVariables(ctx, store.ScopeApplication, a.ID); err != nil {
			return err
		}
		if vs.Environment, err = d.store.ListVariables(ctx, store.ScopeEnvironment, a.EnvironmentID); err != nil {
			return err
		}
		if vs.Project, err = d.store.ListVariables(ctx, store.ScopeProject, a.ProjectID); err != nil {
			return err
		}
		data.Variables = vs
	}
	if err := d.addGitPanel(ctx, r, &data, newToken); err != nil {
		return err
	}
	if forms == nil {
		forms = map[string]*form{}
	}
	if _, ok := forms["settings"]; !ok {
		forms["settings"] = appSettingsForm(a)
	}
	if _, ok := forms["automation"]; !ok {
		forms["automation"] = automationForm(a)
	}
	return r.render(status, "app", &view{Title: a.Name, Nav: "projects", Data: data, forms: forms})
}

// isCurrentRelease reports whether deps[i] is the newest succeeded
// deployment (deps are newest first): the version that is serving.
func isCurrentRelease(deps []store.Deployment, i int) bool {
	for j := 0; j < i; j++ {
		if deps[j].Status == store.DeploymentSucceeded {
			return false
		}
	}
	return true
}

var settingsFields = []string{"source_type", "git_provider", "git_repository", "git_ref", "build_type", "image",
	"port", "replicas", "cpu_limit", "memory_limit_mb"}

// appSettingsForm fills the settings form with the stored values.
func appSettingsForm(a store.Application) *form {
	return &form{Values: map[string]string{
		"source_type": a.SourceType, "git_provider": a.GitProvider, "git_repository": a.GitRepository,
		"git_ref": a.GitRef, "build_type": a.BuildType, "image": a.Image,
		"port": itoa(a.Port), "replicas": itoa(a.Replicas), "cpu_limit": ftoa(a.CPULimit), "memory_limit_mb": itoa(a.MemoryLimitMB),
	}}
}

func (d *Dashboard) updateApplication(r *request) error {
	ctx := r.c.UserContext()
	fail := func(err error) error {
		return d.renderApp(r, inputStatus(err), map[string]*form{"settings": formWith(r, err, settingsFields...)})
	}
	spec := r.app.Spec()
	spec.SourceType = r.c.FormValue("source_type")
	spec.GitProvider = strings.TrimSpace(r.c.FormValue("git_provider"))
	spec.GitRepository = strings.TrimSpace(r.c.FormValue("git_repository"))
	spec.GitRef = strings.TrimSpace(r.c.FormValue("git_ref"))
	spec.BuildType = r.c.FormValue("build_type")
	spec.Image = strings.TrimSpace(r.c.FormValue("image"))
	if spec.SourceType == "image" && spec.BuildType == "" {
		spec.BuildType = r.app.BuildType
	}
	var err error
	if spec.Port, err = formInt("port", r.c.FormValue("port"), 0); err != nil {
		return fail(err)
	}
	if spec.Replicas, err = formInt("replicas", r.c.FormValue("replicas"), 1); err != nil {
		return fail(err)
	}
	if spec.CPULimit, err = formFloat("cpu_limit", r.c.FormValue("cpu_limit"), 0); err != nil {
		return fail(err)
	}
	if spec.MemoryLimitMB, err = formInt("memory_limit_mb", r.c.FormValue("memory_limit_mb"), 0); err != nil {
		return fail(err)
	}
	if err := validateSpec(spec); err != nil {
		return fail(err)
	}
	if err := d.checkRepository(r, r.app.GitRepository, spec); err != nil {
		return fail(err)
	}
	if err := r.checkHostAccess(r.app.OrganizationID, hostaccess.ApplicationUses(r.app.Spec()), hostaccess.ApplicationUses(spec)); err != nil {
		return fail(err)
	}
	if _, err := d.store.UpdateApplication(ctx, r.app.ID, spec); err != nil {
		if isInputError(err) {
			return fail(err)
		}
		return err
	}
	return r.seeOther(appURL(r.app.ID), "Settings saved. They apply with the next deployment.")
}

func itoa(n int) string { return strconv.Itoa(n) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func appURL(id uuid.UUID) string { return "/apps/" + id.String() }

func (d *Dashboard) setVariable(r *request) error {
	key := strings.TrimSpace(r.c.FormValue("key"))
	value := r.c.FormValue("value")
	err := checkVariable(key, value)
	if err == nil {
		_, err = d.store.SetVariable(r.c.UserContext(), store.ScopeApplication, r.app.ID, key, value)
	}
	if isInputError(err) {
		f := formWith(r, err, "key")
		return d.renderApp(r, fiber.StatusUnprocessableEntity, map[string]*form{"variable": f})
	}
	if err != nil {
		return err
	}
	return r.seeOther(appURL(r.app.ID)+"#variables", "Variable "+key+" saved. It applies with the next deployment.")
}

// checkVariable applies the API's rules for a variable name and value.
func checkVariable(key, value string) error {
	if err := vars.ValidateName(key); err != nil {
		return invalid("key", "%v", err)
	}
	switch {
	case len(value) > 64<<10:
		return invalid("value", "must be at most 64 KiB")
	case strings.ContainsRune(value, 0):
		return invalid("value", "must not contain NUL characters")
	}
	if err := vars.Validate(value); err != nil {
		return invalid("value", "has a malformed reference: %v", err)
	}
	return nil
}

func (d *Dashboard) deleteVariable(r *request) error {
	key := r.c.FormValue("key")
	err := d.store.DeleteVariable(r.c.UserContext(), store.ScopeApplication, r.app.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		return r.seeOther(appURL(r.app.ID)+"#variables", "Variable "+key+" was already removed.")
	}
	if err != nil {
		return err
	}
	return r.seeOther(appURL(r.app.ID)+"#variables", "Variable "+key+" removed. It applies with the next deployment.")
}

var domainFields = []string{"host", "path_prefix", "https", "redirect_https"}

func (d *Dashboard) addDomain(r *request) error {
	spec := store.DomainSpec{
		Host:          strings.ToLower(strings.TrimSpace(r.c.FormValue("host"))),
		PathPrefix:    strings.TrimSpace(r.c.FormValue("path_prefix")),
		HTTPS:         r.c.FormValue("https"),
		RedirectHTTPS: r.c.FormValue("redirect_https") == "on",
	}
	if spec.HTTPS == "" {
		spec.HTTPS = "none"
	}
	err := validateDomain(spec, r.app)
	if err == nil {
		_, err = d.store.CreateDomain(r.c.UserContext(), r.app.ID, spec)
	}
	if isInputError(err) {
		return d.renderApp(r, inputStatus(err), map[string]*form{"domain": formWith(r, err, domainFields...)})
	}
	if err != nil {
		return err
	}
	return r.seeOther(appURL(r.app.ID)+"#domains", "Domain "+spec.Host+" added.")
}

// validateDomain applies the proxy's own route rules, so a stored domain can
// always be routed. Custom certificates are managed through the API.
func validateDomain(s store.DomainSpec, a store.Application) error {
	switch s.HTTPS {
	case "none", "letsencrypt":
	default:
		return invalid("https", "choose HTTP only or Let's Encrypt")
	}
	if a.Port == 0 {
		return invalid("host", "set the application's port first: the domain routes to it")
	}
	route := proxy.Route{ID: "domain", Service: a.ServiceName, Port: a.Port, Host: s.Host, PathPrefix: s.PathPrefix,
		TLS: proxy.TLSMode(s.HTTPS), RedirectToHTTPS: s.RedirectHTTPS}
	if s.Host == "" {
		return invalid("host", "is required")
	}
	err := proxy.ValidateRoute(route)
	var fe *proxy.FieldError
	if errors.As(err, &fe) {
		return invalid(formField(fe.Field), "%s", fe.Msg)
	}
	if err != nil {
		return invalid("host", "%v", err)
	}
	return nil
}

// formField turns the proxy's field names (pathPrefix, redirectToHTTPS) into
// the form's (path_prefix, https).
func formField(s string) string {
	switch s {
	case "redirectToHTTPS", "tls":
		return "https"
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (d *Dashboard) deleteDomain(r *request) error {
	dom := r.domain
	if r.c.FormValue("confirmed") != "yes" {
		return r.confirm("Remove "+dom.Host+"?", "Requests to this domain will no longer reach the application.",
			"Remove domain", appURL(dom.ApplicationID))
	}
	if err := d.store.DeleteDomain(r.c.UserContext(), dom.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return r.seeOther(appURL(dom.ApplicationID)+"#domains", "Domain "+dom.Host+" removed.")
}
