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
	resDatabase
	resOrganization
	resDestination
	resConnection
	resPolicy
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
	case resDatabase:
		return "database"
	case resOrganization:
		return "organization"
	case resDestination:
		return "backup destination"
	case resConnection:
		return "git connection"
	case resPolicy:
		return "backup policy"
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
	// instanceAdmin routes are for instance administrators only.
	instanceAdmin bool
	// signedIn routes serve anyone signed in: they act on the caller's own
	// account or show only what the caller may see. Every route that is not
	// public or an asset declares min, instanceAdmin or signedIn (the
	// authorization matrix test fails naming a route that declares none).
	signedIn bool
	handler  func(*request) error
}

// table is the single list of the dashboard's routes. Viewers read, members
// change, deploy, back up and restore; admins delete databases and manage
// backup destinations, git connections and webhook credentials.
func (d *Dashboard) table() []route {
	const get, post = "GET", "POST"
	v, m, a := store.RoleViewer, store.RoleMember, store.RoleAdmin
	return []route{
		{method: get, path: "/static/:name", asset: true, handler: d.serveAsset},

		{method: get, path: "/setup", public: true, handler: d.setupPage},
		{method: post, path: "/setup", public: true, handler: d.setupSubmit},
		{method: get, path: "/login", public: true, handler: d.loginPage},
		{method: post, path: "/login", public: true, handler: d.loginSubmit},
		{method: post, path: "/logout", signedIn: true, handler: d.logout},

		{method: get, path: "/", signedIn: true, handler: d.home},
		{method: post, path: "/projects", min: m, handler: d.createProject},
		{method: get, path: "/projects/:id", resource: resProject, min: v, handler: d.projectPage},
		{method: post, path: "/projects/:id/environments", resource: resProject, min: m, handler: d.createEnvironment},
		{method: post, path: "/projects/:id/applications", resource: resProject, min: m, handler: d.createApplication},
		{method: post, path: "/projects/:id/databases", resource: resProject, min: m, handler: d.createDatabase},
		{method: post, path: "/projects/:id/delete", resource: resProject, min: a, handler: d.deleteProject},

		{method: get, path: "/databases/:id", resource: resDatabase, min: v, handler: d.databasePage},
		{method: post, path: "/databases/:id/deploy", resource: resDatabase, min: m, handler: d.databaseAction("")},
		{method: post, path: "/databases/:id/start", resource: resDatabase, min: m, handler: d.databaseAction(store.DatabaseRunning)},
		{method: post, path: "/databases/:id/stop", resource: resDatabase, min: m, handler: d.databaseAction(store.DatabaseStopped)},
		{method: post, path: "/databases/:id/delete", resource: resDatabase, min: a, handler: d.deleteDatabase},
		{method: post, path: "/databases/:id/policies", resource: resDatabase, min: m, handler: d.createPolicy},
		{method: post, path: "/databases/:id/restore", resource: resDatabase, min: m, handler: d.restoreDatabase},
		{method: post, path: "/backup-policies/:id/run", resource: resPolicy, min: m, handler: d.backupNow},
		{method: post, path: "/backup-policies/:id/delete", resource: resPolicy, min: m, handler: d.deletePolicy},

		{method: get, path: "/apps/:id", resource: resApplication, min: v, handler: d.appPage},
		{method: post, path: "/apps/:id/settings", resource: resApplication, min: m, handler: d.updateApplication},
		{method: post, path: "/apps/:id/variables", resource: resApplication, min: m, handler: d.setVariable},
		{method: post, path: "/apps/:id/variables/delete", resource: resApplication, min: m, handler: d.deleteVariable},
		{method: post, path: "/apps/:id/domains", resource: resApplication, min: m, handler: d.addDomain},
		{method: post, path: "/apps/:id/deploy", resource: resApplication, min: m, handler: d.deploy},
		{method: post, path: "/apps/:id/automation", resource: resApplication, min: m, handler: d.updateAutomation},
		{method: post, path: "/apps/:id/webhook-secret", resource: resApplication, min: a, handler: d.rotateWebhookSecret},
		{method: post, path: "/apps/:id/deploy-token", resource: resApplication, min: a, handler: d.rotateDeployToken},
		{method: get, path: "/apps/:id/build-settings", resource: resApplication, min: v, handler: d.buildSettingsPage},
		{method: post, path: "/apps/:id/build-settings", resource: resApplication, min: m, handler: d.buildSettingsSubmit},
		{method: post, path: "/domains/:id/delete", resource: resDomain, min: m, handler: d.deleteDomain},

		{method: get, path: "/deployments/:id", resource: resDeployment, min: v, handler: d.deploymentPage},
		{method: post, path: "/deployments/:id/cancel", resource: resDeployment, min: m, handler: d.cancelDeployment},
		{method: post, path: "/deployments/:id/rollback", resource: resDeployment, min: m, handler: d.rollback},

		{method: get, path: "/plugins", signedIn: true, handler: d.pluginsPage},
		{method: get, path: "/plugins/:plugin", signedIn: true, handler: d.pluginSettingsPage},
		{method: post, path: "/plugins/:plugin", instanceAdmin: true, handler: d.pluginSettingsSubmit},

		{method: get, path: "/settings", signedIn: true, handler: d.settingsIndex},
		{method: get, path: "/orgs/:id/settings", resource: resOrganization, min: v, handler: d.settingsPage},
		{method: get, path: "/orgs/:id/backup-destinations/new", resource: resOrganization, min: v, handler: d.newDestinationPage},
		{method: post, path: "/orgs/:id/backup-destinations", resource: resOrganization, min: a, handler: d.createDestination},
		{method: post, path: "/backup-destinations/:id/test", resource: resDestination, min: m, handler: d.testDestination},
		{method: post, path: "/backup-destinations/:id/delete", resource: resDestination, min: a, handler: d.deleteDestination},
		{method: post, path: "/orgs/:id/git-connections", resource: resOrganization, min: a, handler: d.createConnection},
		{method: post, path: "/git-connections/:id/test", resource: resConnection, min: a, handler: d.testConnection},
		{method: post, path: "/git-connections/:id/delete", resource: resConnection, min: a, handler: d.deleteConnection},

		{method: get, path: "/instance", instanceAdmin: true, handler: d.instancePage},
		{method: post, path: "/instance/settings", instanceAdmin: true, handler: d.instanceSettingsSubmit},
		{method: post, path: "/instance/users", instanceAdmin: true, handler: d.instanceAdminSubmit},

		{method: get, path: "/keys", signedIn: true, handler: d.keysPage},
		{method: post, path: "/keys", signedIn: true, handler: d.createKey},
		{method: post, path: "/keys/:key/revoke", signedIn: true, handler: d.revokeKey},
		{method: post, path: "/account/password", signedIn: true, handler: d.changePassword},
	}
}
