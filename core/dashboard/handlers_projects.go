package dashboard

import (
	"context"
	"github.com/berth-dev/berth/core/service"
	"sort"
	"strings"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/teardown"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// orgView is one of the caller's organizations with their role.
type orgView struct {
	ID   uuid.UUID
	Name string
	Role store.Role
}

// appView is an application with what the overview shows about it.
type appView struct {
	App     store.Application
	State   string
	Latest  *store.Deployment
	Domains []store.Domain
}

// envView is an environment with its applications.
type envView struct {
	Env  store.Environment
	Apps []appView
	// Databases are filled on the project page only.
	Databases []dbRow
}

// projectView is a project with its environments.
type projectView struct {
	Project store.Project
	OrgName string
	Envs    []envView
	Apps    int
	CanEdit bool
}

type homeData struct {
	Projects []projectView
	// CreateOrgs are the organizations where the caller may create projects.
	CreateOrgs []orgView
}

// maxListed bounds what one page lists of each kind.
const maxListed = store.MaxPageSize

func (d *Dashboard) orgs(ctx context.Context, p *store.Principal) ([]orgView, error) {
	orgs, _, err := d.store.ListOrganizations(ctx, p.User.ID, store.Page{Limit: maxListed})
	if err != nil {
		return nil, err
	}
	out := make([]orgView, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, orgView{ID: o.ID, Name: o.Name, Role: p.Roles[o.ID]})
	}
	return out, nil
}

func orgIDs(p *store.Principal) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(p.Roles))
	for id := range p.Roles {
		ids = append(ids, id)
	}
	return ids
}

// appViews adds each application's latest deployment and domains.
func (d *Dashboard) appViews(ctx context.Context, apps []store.Application) ([]appView, error) {
	out := make([]appView, 0, len(apps))
	for _, a := range apps {
		v := appView{App: a}
		deps, _, err := d.store.ListDeployments(ctx, a.ID, store.Page{Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(deps) > 0 {
			v.Latest = &deps[0]
		}
		v.State = appState(v.Latest)
		if v.Domains, _, err = d.store.ListDomains(ctx, a.ID, store.Page{Limit: 20}); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// projectTree groups applications under the environments of p.
func (d *Dashboard) projectTree(ctx context.Context, p store.Project, apps []appView) (projectView, error) {
	pv := projectView{Project: p}
	envs, _, err := d.store.ListEnvironments(ctx, p.ID, store.Page{Limit: maxListed})
	if err != nil {
		return pv, err
	}
	byEnv := map[uuid.UUID][]appView{}
	for _, a := range apps {
		if a.App.ProjectID == p.ID {
			byEnv[a.App.EnvironmentID] = append(byEnv[a.App.EnvironmentID], a)
			pv.Apps++
		}
	}
	for _, e := range envs {
		pv.Envs = append(pv.Envs, envView{Env: e, Apps: byEnv[e.ID]})
	}
	return pv, nil
}

func (d *Dashboard) home(r *request) error {
	ctx := r.c.UserContext()
	orgs, err := d.orgs(ctx, r.p)
	if err != nil {
		return err
	}
	return d.renderHome(r, fiber.StatusOK, orgs, nil)
}

func (d *Dashboard) renderHome(r *request, status int, orgs []orgView, f *form) error {
	ctx := r.c.UserContext()
	projects, _, err := d.store.ListProjects(ctx, orgIDs(r.p), store.Page{Limit: maxListed})
	if err != nil {
		return err
	}
	apps, _, err := d.store.ListApplications(ctx, store.ApplicationFilter{Orgs: orgIDs(r.p)}, store.Page{Limit: maxListed})
	if err != nil {
		return err
	}
	views, err := d.appViews(ctx, apps)
	if err != nil {
		return err
	}
	names := map[uuid.UUID]string{}
	data := homeData{}
	for _, o := range orgs {
		names[o.ID] = o.Name
		if o.Role.Rank() >= store.RoleMember.Rank() {
			data.CreateOrgs = append(data.CreateOrgs, o)
		}
	}
	for _, p := range projects {
		pv, err := d.projectTree(ctx, p, views)
		if err != nil {
			return err
		}
		pv.OrgName = names[p.OrganizationID]
		data.Projects = append(data.Projects, pv)
	}
	sort.SliceStable(data.Projects, func(i, j int) bool {
		return strings.ToLower(data.Projects[i].Project.Name) < strings.ToLower(data.Projects[j].Project.Name)
	})
	v := &view{Title: "Projects", Nav: "projects", Data: data}
	if f != nil {
		v.forms = map[string]*form{"project": f}
	}
	return r.render(status, "home", v)
}

func (d *Dashboard) createProject(r *request) error {
	ctx := r.c.UserContext()
	in := service.NewProject{Name: r.c.FormValue("name"), Description: r.c.FormValue("description")}
	if v := r.c.FormValue("organization_id"); v != "" {
		org, err := uuid.Parse(v)
		if err != nil {
			return notFound("organization")
		}
		in.Organization = org
	}
	p, _, err := d.svc.Projects.Create(ctx, r.p, in)
	if isInputError(err) {
		orgs, lerr := d.orgs(ctx, r.p)
		if lerr != nil {
			return lerr
		}
		return d.renderHome(r, inputStatus(err), orgs, formWith(r, err, "name", "description", "organization_id"))
	}
	if err != nil {
		return err
	}
	return r.seeOther("/projects/"+p.ID.String(), "Project "+p.Name+" created with a production environment.")
}

// buildTypes lists auto first, then the build types of installed builder
// plugins, or the builders berth ships when no plugin list is available.
func (d *Dashboard) buildTypes(ctx context.Context) []string {
	var out []string
	if d.opts.Plugins != nil {
		if items, err := d.opts.Plugins.ListPlugins(ctx); err == nil {
			for _, p := range items {
				if name, ok := strings.CutPrefix(p.ID, "builder."); ok {
					out = append(out, name)
				}
			}
		}
	}
	if len(out) == 0 {
		out = []string{"dockerfile", "static"}
	}
	sort.Strings(out)
	return append([]string{service.BuildTypeAuto}, out...)
}

type projectData struct {
	Project    projectView
	BuildTypes []string
	Engines    []engineOption
	CanEdit    bool
	CanDelete  bool
}

func (d *Dashboard) projectPage(r *request) error {
	return d.renderProject(r, fiber.StatusOK, nil)
}

func (d *Dashboard) renderProject(r *request, status int, forms map[string]*form) error {
	ctx := r.c.UserContext()
	p := r.project
	apps, _, err := d.store.ListApplications(ctx, store.ApplicationFilter{Orgs: []uuid.UUID{p.OrganizationID}, Project: p.ID},
		store.Page{Limit: maxListed})
	if err != nil {
		return err
	}
	views, err := d.appViews(ctx, apps)
	if err != nil {
		return err
	}
	pv, err := d.projectTree(ctx, p, views)
	if err != nil {
		return err
	}
	if err := d.addDatabases(ctx, &pv); err != nil {
		return err
	}
	data := projectData{Project: pv, BuildTypes: d.buildTypes(ctx), Engines: engineOptions(),
		CanEdit: r.can(p.OrganizationID, store.RoleMember), CanDelete: r.can(p.OrganizationID, store.RoleAdmin)}
	return r.render(status, "project", &view{Title: p.Name, Nav: "projects", Data: data, forms: forms})
}

func (d *Dashboard) createEnvironment(r *request) error {
	e, err := d.svc.Projects.CreateEnvironment(r.c.UserContext(), r.p, r.project, r.c.FormValue("name"))
	if isInputError(err) {
		return d.renderProject(r, inputStatus(err), map[string]*form{"environment": formWith(r, err, "name")})
	}
	if err != nil {
		return err
	}
	return r.seeOther("/projects/"+r.project.ID.String(), "Environment "+e.Name+" created.")
}

var appFields = []string{"environment_id", "name", "source_type", "git_repository", "git_ref", "build_type", "image", "port"}

func (d *Dashboard) createApplication(r *request) error {
	ctx := r.c.UserContext()
	fail := func(err error) error {
		return d.renderProject(r, inputStatus(err), map[string]*form{"application": formOf(r, err, appFields...)})
	}
	envID, err := uuid.Parse(r.c.FormValue("environment_id"))
	if err != nil {
		return fail(invalid("environment_id", "choose an environment"))
	}
	env, err := d.store.GetEnvironment(ctx, envID)
	if err != nil || env.ProjectID != r.project.ID {
		return fail(invalid("environment_id", "choose an environment of this project"))
	}
	in := service.NewApplicationSettings()
	in.Name = strings.TrimSpace(r.c.FormValue("name"))
	in.SourceType = r.c.FormValue("source_type")
	in.GitRepository = strings.TrimSpace(r.c.FormValue("git_repository"))
	in.GitRef = strings.TrimSpace(r.c.FormValue("git_ref"))
	in.BuildType = r.c.FormValue("build_type")
	in.Image = strings.TrimSpace(r.c.FormValue("image"))
	if in.SourceType == "image" {
		in.GitRepository, in.GitRef, in.BuildType = "", "", "dockerfile"
	} else {
		in.Image = ""
	}
	if in.Port, err = formInt("port", r.c.FormValue("port"), 0); err != nil {
		return fail(err)
	}
	a, err := d.svc.Applications.Create(ctx, r.p, env, in)
	if isInputError(err) {
		return fail(err)
	}
	if err != nil {
		return err
	}
	return r.seeOther("/apps/"+a.ID.String(), "Application "+a.Name+" created. Deploy it when you are ready.")
}

// deleteProject removes everything berth runs for the project (services,
// networks; volumes only when delete_volumes is ticked), then the project
// with its environments, applications and databases (admins only, after
// confirmation). It goes through the same teardown as the API.
func (d *Dashboard) deleteProject(r *request) error {
	p := r.project
	deleteVolumes := r.c.FormValue("delete_volumes") == "yes"
	if r.c.FormValue("confirmed") != "yes" {
		text := "This stops and removes every application and database of the project, with its domains, variables, " +
			"deployments and networks. "
		if deleteVolumes {
			text += "Their volumes are deleted too, with all their data. "
		} else {
			text += "Volumes are kept. "
		}
		return r.confirm("Delete project "+p.Name+"?", text+"It cannot be undone.",
			"Delete project", "/projects/"+p.ID.String(), "delete_volumes")
	}
	if err := d.svc.Projects.Delete(r.c.UserContext(), r.p, p, teardown.Options{DeleteVolumes: deleteVolumes}); err != nil {
		return err
	}
	return r.seeOther("/", "Project "+p.Name+" deleted.")
}

// confirmData is what the confirmation page shows; it re-posts the same
// form with confirmed=yes.
type confirmData struct {
	Heading, Text, Button, Action, Cancel string
	Fields                                map[string]string
}

// confirm renders a confirmation page for browsers without JavaScript (the
// script asks with confirm() and sends confirmed=yes at once).
func (r *request) confirm(heading, text, button, cancel string, fields ...string) error {
	data := confirmData{Heading: heading, Text: text, Button: button, Action: r.c.OriginalURL(), Cancel: cancel,
		Fields: map[string]string{}}
	for _, f := range fields {
		data.Fields[f] = r.c.FormValue(f)
	}
	return r.render(fiber.StatusOK, "confirm", &view{Title: heading, Data: data})
}
