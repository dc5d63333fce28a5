package dashboard

import (
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
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
	// Maintenance is the application's maintenance mode.
	Maintenance store.Maintenance
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
	if data.Maintenance, err = d.store.GetMaintenance(ctx, a.ID); err != nil {
		return err
	}
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
	if _, ok := forms["maintenance"]; !ok {
		forms["maintenance"] = maintenanceForm(data.Maintenance)
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
	fail := func(err error) error {
		return d.renderApp(r, inputStatus(err), map[string]*form{"settings": formOf(r, err, settingsFields...)})
	}
	in := service.ApplicationSettings{ApplicationSpec: r.app.Spec()}
	in.SourceType = r.c.FormValue("source_type")
	in.GitProvider = strings.TrimSpace(r.c.FormValue("git_provider"))
	in.GitRepository = strings.TrimSpace(r.c.FormValue("git_repository"))
	in.GitRef = strings.TrimSpace(r.c.FormValue("git_ref"))
	in.BuildType = r.c.FormValue("build_type")
	in.Image = strings.TrimSpace(r.c.FormValue("image"))
	if in.SourceType == "image" && in.BuildType == "" {
		in.BuildType = r.app.BuildType
	}
	var err error
	if in.Port, err = formInt("port", r.c.FormValue("port"), 0); err != nil {
		return fail(err)
	}
	if in.Replicas, err = formInt("replicas", r.c.FormValue("replicas"), 1); err != nil {
		return fail(err)
	}
	if in.CPULimit, err = formFloat("cpu_limit", r.c.FormValue("cpu_limit"), 0); err != nil {
		return fail(err)
	}
	if in.MemoryLimitMB, err = formInt("memory_limit_mb", r.c.FormValue("memory_limit_mb"), 0); err != nil {
		return fail(err)
	}
	if _, err := d.svc.Applications.Update(r.c.UserContext(), r.p, r.app, in); err != nil {
		if isInputError(err) {
			return fail(err)
		}
		return err
	}
	return r.seeOther(appURL(r.app.ID), "Settings saved. They apply with the next deployment.")
}

// formOf is formWith for errors of the service layer, whose field names
// are the API's: preview.limit is the form's preview_limit, watch_paths[2]
// its watch_paths. An error on a field the form lacks is shown on the
// form, with the field's name.
func formOf(r *request, err error, fields ...string) *form {
	f := formWith(r, err, fields...)
	errs := map[string]string{}
	for field, msg := range f.Errors {
		name := strings.ReplaceAll(field, ".", "_")
		if i := strings.IndexByte(name, '['); i > 0 {
			name = name[:i]
		}
		if slices.Contains(fields, name) {
			errs[name] = msg
		} else {
			f.Message = field + ": " + msg
		}
	}
	f.Errors = errs
	return f
}

func itoa(n int) string { return strconv.Itoa(n) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func appURL(id uuid.UUID) string { return "/apps/" + id.String() }

func (d *Dashboard) setVariable(r *request) error {
	v := service.Variable{Key: strings.TrimSpace(r.c.FormValue("key")), Value: r.c.FormValue("value")}
	_, err := d.svc.Variables.Set(r.c.UserContext(), r.p, appVariables(r.app), v)
	if isInputError(err) {
		return d.renderApp(r, inputStatus(err), map[string]*form{"variable": formOf(r, err, "key", "value")})
	}
	if err != nil {
		return err
	}
	return r.seeOther(appURL(r.app.ID)+"#variables", "Variable "+v.Key+" saved. It applies with the next deployment.")
}

// appVariables is the owner of an application's own variables.
func appVariables(a store.Application) service.VariableOwner {
	return service.VariableOwner{Scope: store.ScopeApplication, ID: a.ID, Organization: a.OrganizationID}
}

func (d *Dashboard) deleteVariable(r *request) error {
	key := r.c.FormValue("key")
	err := d.svc.Variables.Delete(r.c.UserContext(), r.p, appVariables(r.app), key)
	if err != nil && problem.Classify(err).Kind == problem.NotFound {
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
	_, err := d.svc.Domains.Add(r.c.UserContext(), r.p, r.app, spec)
	if isInputError(err) {
		return d.renderApp(r, inputStatus(err), map[string]*form{"domain": formOf(r, err, domainFields...)})
	}
	if err != nil {
		return err
	}
	return r.seeOther(appURL(r.app.ID)+"#domains", "Domain "+spec.Host+" added.")
}

func (d *Dashboard) deleteDomain(r *request) error {
	dom := r.domain
	if r.c.FormValue("confirmed") != "yes" {
		return r.confirm("Remove "+dom.Host+"?", "Requests to this domain will no longer reach the application.",
			"Remove domain", appURL(dom.ApplicationID))
	}
	err := d.svc.Domains.Delete(r.c.UserContext(), r.p, dom)
	if err != nil && problem.Classify(err).Kind != problem.NotFound {
		return err
	}
	return r.seeOther(appURL(dom.ApplicationID)+"#domains", "Domain "+dom.Host+" removed.")
}
