package dashboard

import (
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
)

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
	resource service.Resource
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
// backup destinations, notification channels, git connections and webhook
// credentials; members send test notifications.
func (d *Dashboard) table() []route {
	const get, post = "GET", "POST"
	v, m, a := store.RoleViewer, store.RoleMember, store.RoleAdmin
	appAlerts, dbAlerts, serverAlerts := d.alertHandlers(d.appAlertOwner), d.alertHandlers(d.databaseAlertOwner), d.alertHandlers(d.serverAlertOwner) // alerts feature
	return []route{
		{method: get, path: "/static/:name", asset: true, handler: d.serveAsset},

		{method: get, path: "/setup", public: true, handler: d.setupPage},
		{method: post, path: "/setup", public: true, handler: d.setupSubmit},
		{method: get, path: "/login", public: true, handler: d.loginPage},
		{method: post, path: "/login", public: true, handler: d.loginSubmit},
		{method: post, path: "/logout", signedIn: true, handler: d.logout},

		{method: get, path: "/", signedIn: true, handler: d.home},
		{method: post, path: "/projects", min: m, handler: d.createProject},
		{method: get, path: "/projects/:id", resource: service.ProjectResource, min: v, handler: d.projectPage},
		{method: post, path: "/projects/:id/environments", resource: service.ProjectResource, min: m, handler: d.createEnvironment},
		{method: post, path: "/projects/:id/applications", resource: service.ProjectResource, min: m, handler: d.createApplication},
		{method: post, path: "/projects/:id/databases", resource: service.ProjectResource, min: m, handler: d.createDatabase},
		{method: post, path: "/projects/:id/delete", resource: service.ProjectResource, min: a, handler: d.deleteProject},

		{method: get, path: "/databases/:id", resource: service.DatabaseResource, min: v, handler: d.databasePage},
		{method: post, path: "/databases/:id/deploy", resource: service.DatabaseResource, min: m, handler: d.databaseAction("")},
		{method: post, path: "/databases/:id/start", resource: service.DatabaseResource, min: m, handler: d.databaseAction(store.DatabaseRunning)},
		{method: post, path: "/databases/:id/stop", resource: service.DatabaseResource, min: m, handler: d.databaseAction(store.DatabaseStopped)},
		{method: post, path: "/databases/:id/delete", resource: service.DatabaseResource, min: a, handler: d.deleteDatabase},
		{method: post, path: "/databases/:id/policies", resource: service.DatabaseResource, min: m, handler: d.createPolicy},
		{method: post, path: "/databases/:id/restore", resource: service.DatabaseResource, min: m, handler: d.restoreDatabase},
		{method: post, path: "/backup-policies/:id/run", resource: service.PolicyResource, min: m, handler: d.backupNow},
		{method: post, path: "/backup-policies/:id/delete", resource: service.PolicyResource, min: m, handler: d.deletePolicy},

		{method: get, path: "/apps/:id", resource: service.ApplicationResource, min: v, handler: d.appPage},
		{method: post, path: "/apps/:id/settings", resource: service.ApplicationResource, min: m, handler: d.updateApplication},
		{method: post, path: "/apps/:id/variables", resource: service.ApplicationResource, min: m, handler: d.setVariable},
		{method: post, path: "/apps/:id/variables/delete", resource: service.ApplicationResource, min: m, handler: d.deleteVariable},
		{method: post, path: "/apps/:id/domains", resource: service.ApplicationResource, min: m, handler: d.addDomain},
		{method: post, path: "/apps/:id/maintenance", resource: service.ApplicationResource, min: m, handler: d.setMaintenance},
		{method: post, path: "/apps/:id/deploy", resource: service.ApplicationResource, min: m, handler: d.deploy},
		{method: post, path: "/apps/:id/automation", resource: service.ApplicationResource, min: m, handler: d.updateAutomation},
		{method: post, path: "/apps/:id/webhook-secret", resource: service.ApplicationResource, min: a, handler: d.rotateWebhookSecret},
		{method: post, path: "/apps/:id/deploy-token", resource: service.ApplicationResource, min: a, handler: d.rotateDeployToken},
		{method: get, path: "/apps/:id/build-settings", resource: service.ApplicationResource, min: v, handler: d.buildSettingsPage},
		{method: post, path: "/apps/:id/build-settings", resource: service.ApplicationResource, min: m, handler: d.buildSettingsSubmit},
		// Request analytics (issue 17, requests).
		{method: get, path: "/apps/:id/requests", resource: service.ApplicationResource, min: v, handler: d.requestsPage},
		// Runtime logs (issue 17, logs).
		{method: get, path: "/apps/:id/logs", resource: service.ApplicationResource, min: v, handler: d.appLogsPage},
		{method: get, path: "/databases/:id/logs", resource: service.DatabaseResource, min: v, handler: d.databaseLogsPage},
		{method: post, path: "/domains/:id/delete", resource: service.DomainResource, min: m, handler: d.deleteDomain},

		{method: get, path: "/deployments/:id", resource: service.DeploymentResource, min: v, handler: d.deploymentPage},
		{method: post, path: "/deployments/:id/cancel", resource: service.DeploymentResource, min: m, handler: d.cancelDeployment},
		{method: post, path: "/deployments/:id/promote", resource: service.DeploymentResource, min: m, handler: d.canaryAction("promote")},
		{method: post, path: "/deployments/:id/abort", resource: service.DeploymentResource, min: m, handler: d.canaryAction("abort")},
		{method: post, path: "/deployments/:id/rollback", resource: service.DeploymentResource, min: m, handler: d.rollback},

		{method: get, path: "/plugins", signedIn: true, handler: d.pluginsPage},
		{method: get, path: "/plugins/:plugin", signedIn: true, handler: d.pluginSettingsPage},
		{method: post, path: "/plugins/:plugin", instanceAdmin: true, handler: d.pluginSettingsSubmit},

		{method: get, path: "/settings", signedIn: true, handler: d.settingsIndex},
		{method: get, path: "/orgs/:id/settings", resource: service.OrganizationResource, min: v, handler: d.settingsPage},
		{method: get, path: "/orgs/:id/backup-destinations/new", resource: service.OrganizationResource, min: v, handler: d.newDestinationPage},
		{method: post, path: "/orgs/:id/backup-destinations", resource: service.OrganizationResource, min: a, handler: d.createDestination},
		{method: post, path: "/backup-destinations/:id/test", resource: service.DestinationResource, min: m, handler: d.testDestination},
		{method: post, path: "/backup-destinations/:id/delete", resource: service.DestinationResource, min: a, handler: d.deleteDestination},
		{method: get, path: "/orgs/:id/notifications", resource: service.OrganizationResource, min: v, handler: d.notificationsPage},
		{method: get, path: "/orgs/:id/notifications/new", resource: service.OrganizationResource, min: v, handler: d.newChannelPage},
		{method: post, path: "/orgs/:id/notifications", resource: service.OrganizationResource, min: a, handler: d.createChannel},
		{method: get, path: "/orgs/:id/notifications/:channel", resource: service.OrganizationResource, min: v, handler: d.channelPage},
		{method: post, path: "/orgs/:id/notifications/:channel", resource: service.OrganizationResource, min: a, handler: d.updateChannel},
		{method: post, path: "/orgs/:id/notifications/:channel/test", resource: service.OrganizationResource, min: m, handler: d.testChannel},
		{method: post, path: "/orgs/:id/notifications/:channel/delete", resource: service.OrganizationResource, min: a, handler: d.deleteChannel},
		{method: post, path: "/orgs/:id/git-connections", resource: service.OrganizationResource, min: a, handler: d.createConnection},
		{method: post, path: "/git-connections/:id/test", resource: service.ConnectionResource, min: a, handler: d.testConnection},
		{method: post, path: "/git-connections/:id/delete", resource: service.ConnectionResource, min: a, handler: d.deleteConnection},

		{method: get, path: "/instance", instanceAdmin: true, handler: d.instancePage},
		{method: post, path: "/instance/settings", instanceAdmin: true, handler: d.instanceSettingsSubmit},
		{method: post, path: "/instance/users", instanceAdmin: true, handler: d.instanceAdminSubmit},

		// Threshold alert rules (alerts feature): the rule a form changes is its rule_id.
		{method: get, path: "/apps/:id/alerts", resource: service.ApplicationResource, min: v, handler: appAlerts.page},
		{method: post, path: "/apps/:id/alerts", resource: service.ApplicationResource, min: m, handler: appAlerts.create},
		{method: post, path: "/apps/:id/alerts/update", resource: service.ApplicationResource, min: m, handler: appAlerts.update},
		{method: post, path: "/apps/:id/alerts/delete", resource: service.ApplicationResource, min: m, handler: appAlerts.remove},
		{method: get, path: "/databases/:id/alerts", resource: service.DatabaseResource, min: v, handler: dbAlerts.page},
		{method: post, path: "/databases/:id/alerts", resource: service.DatabaseResource, min: m, handler: dbAlerts.create},
		{method: post, path: "/databases/:id/alerts/update", resource: service.DatabaseResource, min: m, handler: dbAlerts.update},
		{method: post, path: "/databases/:id/alerts/delete", resource: service.DatabaseResource, min: m, handler: dbAlerts.remove},
		{method: get, path: "/instance/alerts", instanceAdmin: true, handler: serverAlerts.page},
		{method: post, path: "/instance/alerts", instanceAdmin: true, handler: serverAlerts.create},
		{method: post, path: "/instance/alerts/update", instanceAdmin: true, handler: serverAlerts.update},
		{method: post, path: "/instance/alerts/delete", instanceAdmin: true, handler: serverAlerts.remove},

		// metrics: charts (?fragment=1: the charts alone, for app.js)
		{method: get, path: "/apps/:id/metrics", resource: service.ApplicationResource, min: v, handler: d.appMetrics},
		{method: get, path: "/databases/:id/metrics", resource: service.DatabaseResource, min: v, handler: d.databaseMetrics},
		{method: get, path: "/servers", instanceAdmin: true, handler: d.serversPage},

		{method: get, path: "/keys", signedIn: true, handler: d.keysPage},
		{method: post, path: "/keys", signedIn: true, handler: d.createKey},
		{method: post, path: "/keys/:key/revoke", signedIn: true, handler: d.revokeKey},
		{method: post, path: "/account/password", signedIn: true, handler: d.changePassword},
	}
}
