package dashboard

import (
	"github.com/berth-dev/berth/core/store"
)

// resource is what a route's :id names; the pipeline loads it and checks the
// caller's role in its organization before the handler runs.
type resource int

// Resources a route can name.
const (
	resNone resource = iota
	resProject
	resEnvironment
	resApplication
	resDomain
	resDeployment
)

func (r resource) String() string {
	switch r {
	case resProject:
		return "project"
	case resEnvironment:
		return "environment"
	case resApplication:
		return "application"
	case resDomain:
		return "domain"
	case resDeployment:
		return "deployment"
	}
	return "page"
}

// route declares one dashboard endpoint and the access it needs.
type route struct {
	method, path string
	// public routes need no session (setup, sign-in); their POSTs still
	// need the CSRF token bound to the pre-session cookie.
	public bool
	// asset routes serve embedded files and skip the pipeline.
	asset bool
	// resource is loaded from :id; min is the role needed in its
	// organization. Routes without a resource that need a role check it in
	// their handler (documented by min, which the tests read).
	resource resource
	min      store.Role
	handler  func(*request) error
}

// table is the single list of the dashboard's routes. Viewers read, members
// change and deploy, admins delete.
func (d *Dashboard) table() []route {
	const get, post = "GET", "POST"
	v, m, a := store.RoleViewer, store.RoleMember, store.RoleAdmin
	return []route{
		{method: get, path: "/static/:name", asset: true, handler: d.serveAsset},

		{method: get, path: "/setup", public: true, handler: d.setupPage},
		{method: post, path: "/setup", public: true, handler: d.setupSubmit},
		{method: get, path: "/login", public: true, handler: d.loginPage},
		{method: post, path: "/login", public: true, handler: d.loginSubmit},
		{method: post, path: "/logout", handler: d.logout},

		{method: get, path: "/", handler: d.home},
		{method: post, path: "/projects", min: m, handler: d.createProject},
		{method: get, path: "/projects/:id", resource: resProject, min: v, handler: d.projectPage},
		{method: post, path: "/projects/:id/environments", resource: resProject, min: m, handler: d.createEnvironment},
		{method: post, path: "/projects/:id/applications", resource: resProject, min: m, handler: d.createApplication},
		{method: post, path: "/projects/:id/delete", resource: resProject, min: a, handler: d.deleteProject},

		{method: get, path: "/apps/:id", resource: resApplication, min: v, handler: d.appPage},
		{method: post, path: "/apps/:id/settings", resource: resApplication, min: m, handler: d.updateApplication},
		{method: post, path: "/apps/:id/variables", resource: resApplication, min: m, handler: d.setVariable},
		{method: post, path: "/apps/:id/variables/delete", resource: resApplication, min: m, handler: d.deleteVariable},
		{method: post, path: "/apps/:id/domains", resource: resApplication, min: m, handler: d.addDomain},
		{method: post, path: "/apps/:id/deploy", resource: resApplication, min: m, handler: d.deploy},
		{method: get, path: "/apps/:id/build-settings", resource: resApplication, min: v, handler: d.buildSettingsPage},
		{method: post, path: "/apps/:id/build-settings", resource: resApplication, min: m, handler: d.buildSettingsSubmit},
		{method: post, path: "/domains/:id/delete", resource: resDomain, min: m, handler: d.deleteDomain},

		{method: get, path: "/deployments/:id", resource: resDeployment, min: v, handler: d.deploymentPage},
		{method: post, path: "/deployments/:id/cancel", resource: resDeployment, min: m, handler: d.cancelDeployment},
		{method: post, path: "/deployments/:id/rollback", resource: resDeployment, min: m, handler: d.rollback},

		{method: get, path: "/plugins", handler: d.pluginsPage},
		{method: get, path: "/plugins/:plugin", handler: d.pluginSettingsPage},
		{method: post, path: "/plugins/:plugin", min: a, handler: d.pluginSettingsSubmit},

		{method: get, path: "/keys", handler: d.keysPage},
		{method: post, path: "/keys", handler: d.createKey},
		{method: post, path: "/keys/:key/revoke", handler: d.revokeKey},
	}
}
