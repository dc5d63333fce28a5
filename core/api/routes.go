package api

import (
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
)

// Route declares one endpoint: how it is served and how it is documented.
type Route struct {
	Method  string
	Path    string // Fiber syntax: /api/v1/projects/:id
	Summary string
	Tag     string
	// Public routes need no credentials (health, setup, login, the API description).
	Public bool
	// Webhook routes take no API key or session: the handler authenticates
	// the request by its signature or deploy token and answers 401 otherwise.
	Webhook bool
	// Access declares who may call the route; the authorization matrix test
	// (route × role) checks every route against it, so a route without a
	// declaration fails the test.
	Access Access
	// Body is a zero value of the JSON request body type, or nil.
	Body any
	// Response is a zero value of the JSON success response type, or nil for 204.
	Response any
	// Status is the success status (default 200).
	Status int
	// Query documents query parameters.
	Query []QueryParam
	// Produces overrides the response media type (default application/json).
	Produces string
	Handler  fiber.Handler
}

// Access declares who may call a route.
type Access struct {
	// Role is the least organization role the caller needs on the resource
	// the route names (for collection routes, on the organization given).
	Role store.Role
	// InstanceAdmin routes are for instance administrators only.
	InstanceAdmin bool
	// Self routes act on the caller's own account or list only what the
	// caller may see: any signed-in user may call them.
	Self bool
}

// QueryParam documents a query string parameter.
type QueryParam struct {
	Name, Description, Type string
}

var pageQuery = []QueryParam{
	{"limit", "page size, 1 to 200 (default 50)", "integer"},
	{"cursor", "next_cursor from the previous page", "string"},
}

var backupListQuery = []QueryParam{
	{"limit", "at most this many, 1 to 200 (default 200)", "integer"},
	{"status", "only backups in this status: queued, running, succeeded, failed or missed", "string"},
}

func withPage(q ...QueryParam) []QueryParam {
	return append(append([]QueryParam{}, q...), pageQuery...)
}

// table is the single list of berth's HTTP routes.
func (s *Server) table() []Route {
	p := Prefix
	return []Route{
		{Method: "GET", Path: "/healthz", Summary: "Liveness and database health", Tag: "system", Public: true, Response: Health{}, Handler: s.health},
		{Method: "GET", Path: "/metrics", Summary: "Prometheus metrics", Tag: "system", Produces: "text/plain", Response: "", Handler: s.metrics},
		{Method: "GET", Path: p + "/openapi.json", Summary: "This API's OpenAPI 3.1 description", Tag: "system", Public: true, Response: map[string]any{}, Handler: s.openAPI},

		{Method: "GET", Path: p + "/setup", Summary: "Whether the first administrator still has to be created", Tag: "auth", Public: true, Response: SetupStatus{}, Handler: s.setupStatus},
		{Method: "POST", Path: p + "/setup", Summary: "Create the first administrator with the one-time setup token", Tag: "auth", Public: true, Body: SetupRequest{}, Response: SessionResponse{}, Status: 201, Handler: s.setup},
		{Method: "POST", Path: p + "/auth/login", Summary: "Sign in; sets the session cookie", Tag: "auth", Public: true, Body: LoginRequest{}, Response: SessionResponse{}, Handler: s.login},
		{Method: "POST", Path: p + "/auth/logout", Summary: "End the current session", Tag: "auth", Handler: s.logout},
		{Method: "GET", Path: p + "/auth/session", Summary: "The signed-in user, their organizations and CSRF token", Tag: "auth", Response: SessionResponse{}, Handler: s.session},
		{Method: "GET", Path: p + "/users/me", Summary: "Your own account, with instance_admin", Tag: "users", Access: Access{Self: true}, Response: store.User{}, Handler: s.getMe},
		{Method: "PATCH", Path: p + "/users/me", Summary: "Change your name, email or password", Tag: "users", Body: UpdateMeRequest{}, Response: store.User{}, Handler: s.updateMe},
		{Method: "GET", Path: p + "/users", Summary: "Every user of the instance with instance_admin (instance administrators)", Tag: "instance", Access: Access{InstanceAdmin: true}, Query: pageQuery, Response: List[store.User]{}, Handler: s.listUsers},
		{Method: "PATCH", Path: p + "/users/:id", Summary: "Grant or revoke instance administration; the last one cannot be revoked (instance administrators)", Tag: "instance", Access: Access{InstanceAdmin: true}, Body: UpdateUserRequest{}, Response: store.User{}, Handler: s.updateUser},
		{Method: "GET", Path: p + "/instance/settings", Summary: "What tenants may reach on the host: organization creation, bind mount and local backup roots, outbound allow list (instance administrators)", Tag: "instance", Access: Access{InstanceAdmin: true}, Response: store.InstanceSettings{}, Handler: s.getInstanceSettings},
		{Method: "PUT", Path: p + "/instance/settings", Summary: "Change the instance settings; omitted fields keep their value (instance administrators)", Tag: "instance", Access: Access{InstanceAdmin: true}, Body: InstanceSettingsRequest{}, Response: store.InstanceSettings{}, Handler: s.putInstanceSettings},

		{Method: "GET", Path: p + "/api-keys", Summary: "List your API keys", Tag: "api-keys", Query: pageQuery, Response: List[store.APIKey]{}, Handler: s.listAPIKeys},
		{Method: "POST", Path: p + "/api-keys", Summary: "Create an API key; the token is shown once", Tag: "api-keys", Body: CreateAPIKeyRequest{}, Response: CreatedAPIKey{}, Status: 201, Handler: s.createAPIKey},
		{Method: "DELETE", Path: p + "/api-keys/:id", Summary: "Revoke an API key", Tag: "api-keys", Status: 204, Handler: s.deleteAPIKey},

		{Method: "GET", Path: p + "/organizations", Summary: "List your organizations", Tag: "organizations", Query: pageQuery, Response: List[store.Organization]{}, Handler: s.listOrganizations},
		{Method: "POST", Path: p + "/organizations", Summary: "Create an organization you own", Tag: "organizations", Body: OrganizationRequest{}, Response: store.Organization{}, Status: 201, Handler: s.createOrganization},
		{Method: "GET", Path: p + "/organizations/:id", Summary: "Get an organization", Tag: "organizations", Response: store.Organization{}, Handler: s.getOrganization},
		{Method: "PATCH", Path: p + "/organizations/:id", Summary: "Rename an organization", Tag: "organizations", Body: OrganizationRequest{}, Response: store.Organization{}, Handler: s.updateOrganization},
		{Method: "DELETE", Path: p + "/organizations/:id", Summary: "Delete an empty organization", Tag: "organizations", Status: 204, Handler: s.deleteOrganization},
		{Method: "GET", Path: p + "/organizations/:id/members", Summary: "List members and their roles", Tag: "organizations", Query: pageQuery, Response: List[store.OrgMember]{}, Handler: s.listMembers},
		{Method: "POST", Path: p + "/organizations/:id/members", Summary: "Create a user in the organization", Tag: "organizations", Body: CreateMemberRequest{}, Response: store.OrgMember{}, Status: 201, Handler: s.createMember},
		{Method: "PATCH", Path: p + "/organizations/:id/members/:user_id", Summary: "Change a member's role", Tag: "organizations", Body: UpdateMemberRequest{}, Response: store.OrgMember{}, Handler: s.updateMember},
		{Method: "DELETE", Path: p + "/organizations/:id/members/:user_id", Summary: "Remove a member", Tag: "organizations", Status: 204, Handler: s.removeMember},

		{Method: "GET", Path: p + "/projects", Summary: "List projects", Tag: "projects", Query: withPage(QueryParam{"organization_id", "only this organization's projects", "string"}), Response: List[store.Project]{}, Handler: s.listProjects},
		{Method: "POST", Path: p + "/projects", Summary: "Create a project (with a production environment)", Tag: "projects", Body: CreateProjectRequest{}, Response: ProjectWithEnvironments{}, Status: 201, Handler: s.createProject},
		{Method: "GET", Path: p + "/projects/:id", Summary: "Get a project", Tag: "projects", Response: store.Project{}, Handler: s.getProject},
		{Method: "PATCH", Path: p + "/projects/:id", Summary: "Change a project", Tag: "projects", Body: UpdateProjectRequest{}, Response: store.Project{}, Handler: s.updateProject},
		{Method: "DELETE", Path: p + "/projects/:id", Summary: "Delete a project with its environments and services", Tag: "projects", Status: 204, Handler: s.deleteProject},

		{Method: "GET", Path: p + "/projects/:id/environments", Summary: "List a project's environments", Tag: "environments", Query: pageQuery, Response: List[store.Environment]{}, Handler: s.listEnvironments},
		{Method: "POST", Path: p + "/projects/:id/environments", Summary: "Create an environment", Tag: "environments", Body: EnvironmentRequest{}, Response: store.Environment{}, Status: 201, Handler: s.createEnvironment},
		{Method: "GET", Path: p + "/environments/:id", Summary: "Get an environment", Tag: "environments", Response: store.Environment{}, Handler: s.getEnvironment},
		{Method: "PATCH", Path: p + "/environments/:id", Summary: "Rename an environment", Tag: "environments", Body: EnvironmentRequest{}, Response: store.Environment{}, Handler: s.updateEnvironment},
		{Method: "DELETE", Path: p + "/environments/:id", Summary: "Delete an environment with its services", Tag: "environments", Status: 204, Handler: s.deleteEnvironment},

		{Method: "GET", Path: p + "/applications", Summary: "List applications", Tag: "applications", Query: withPage(QueryParam{"project_id", "only this project's applications", "string"}, QueryParam{"environment_id", "only this environment's applications", "string"}), Response: List[store.Application]{}, Handler: s.listApplications},
		{Method: "POST", Path: p + "/environments/:id/applications", Summary: "Create an application", Tag: "applications", Body: ApplicationRequest{}, Response: store.Application{}, Status: 201, Handler: s.createApplication},
		{Method: "GET", Path: p + "/applications/:id", Summary: "Get an application", Tag: "applications", Response: store.Application{}, Handler: s.getApplication},
		{Method: "PATCH", Path: p + "/applications/:id", Summary: "Change an application", Tag: "applications", Body: ApplicationRequest{}, Response: store.Application{}, Handler: s.updateApplication},
		{Method: "DELETE", Path: p + "/applications/:id", Summary: "Delete an application", Tag: "applications", Status: 204, Handler: s.deleteApplication},

		{Method: "GET", Path: p + "/applications/:id/domains", Summary: "List an application's domains", Tag: "domains", Query: pageQuery, Response: List[store.Domain]{}, Handler: s.listDomains},
		{Method: "POST", Path: p + "/applications/:id/domains", Summary: "Add a domain", Tag: "domains", Body: DomainRequest{}, Response: store.Domain{}, Status: 201, Handler: s.createDomain},
		{Method: "GET", Path: p + "/domains/:id", Summary: "Get a domain", Tag: "domains", Response: store.Domain{}, Handler: s.getDomain},
		{Method: "PATCH", Path: p + "/domains/:id", Summary: "Change a domain", Tag: "domains", Body: DomainRequest{}, Response: store.Domain{}, Handler: s.updateDomain},
		{Method: "DELETE", Path: p + "/domains/:id", Summary: "Remove a domain", Tag: "domains", Status: 204, Handler: s.deleteDomain},

		{Method: "GET", Path: p + "/applications/:id/variables/resolved", Summary: "The application's environment with references resolved", Tag: "variables", Response: ResolvedVariables{}, Handler: s.resolvedVariables},
		{Method: "GET", Path: p + "/applications/:id/deployments", Summary: "List an application's deployments, newest first", Tag: "deployments", Query: pageQuery, Response: List[store.Deployment]{}, Handler: s.listDeployments},
		{Method: "POST", Path: p + "/applications/:id/deployments", Summary: "Deploy the application (queued; see its logs)", Tag: "deployments", Body: DeployRequest{}, Response: store.Deployment{}, Status: 202, Handler: s.createDeployment},
		{Method: "GET", Path: p + "/applications/:id/releases", Summary: "Releases kept for instant rollback, newest first", Tag: "deployments", Response: List[store.Deployment]{}, Handler: s.listReleases},
		{Method: "GET", Path: p + "/deployments/:id", Summary: "Get a deployment", Tag: "deployments", Response: store.Deployment{}, Handler: s.getDeployment},
		{Method: "POST", Path: p + "/deployments/:id/cancel", Summary: "Cancel a queued or running deployment", Tag: "deployments", Response: store.Deployment{}, Status: 202, Handler: s.cancelDeployment},
		{Method: "POST", Path: p + "/deployments/:id/rollback", Summary: "Release this deployment's image again", Tag: "deployments", Response: store.Deployment{}, Status: 202, Handler: s.rollbackDeployment},
		{Method: "GET", Path: p + "/deployments/:id/logs", Summary: "A deployment's log: JSON pages (?after=), or live server-sent events (?follow=true or Accept: text/event-stream)", Tag: "deployments", Query: []QueryParam{{"after", "only lines after this sequence number", "integer"}, {"follow", "stream live as server-sent events", "boolean"}}, Response: LogPage{}, Handler: s.deploymentLogs},
		{Method: "DELETE", Path: p + "/deployments/:id", Summary: "Delete a finished deployment's record", Tag: "deployments", Status: 204, Handler: s.deleteDeployment},

		{Method: "GET", Path: p + "/databases", Summary: "List databases (credentials never listed)", Tag: "databases", Query: withPage(QueryParam{"project_id", "only this project's databases", "string"}, QueryParam{"environment_id", "only this environment's databases", "string"}), Response: List[store.Database]{}, Handler: s.listDatabases},
		{Method: "POST", Path: p + "/environments/:id/databases", Summary: "Create a database with generated credentials (deploy it with POST /databases/{id}/deploy)", Tag: "databases", Body: DatabaseRequest{}, Response: store.Database{}, Status: 201, Handler: s.createDatabase},
		{Method: "GET", Path: p + "/databases/:id", Summary: "Get a database", Tag: "databases", Response: store.Database{}, Handler: s.getDatabase},
		{Method: "PATCH", Path: p + "/databases/:id", Summary: "Change a database's version, image, external port or limits (deploy to apply)", Tag: "databases", Body: DatabaseRequest{}, Response: store.Database{}, Handler: s.updateDatabase},
		{Method: "DELETE", Path: p + "/databases/:id", Summary: "Delete a database's service; its volume is kept unless delete_volume=true (admins)", Tag: "databases", Query: []QueryParam{{"delete_volume", "also delete the data volume (default false; admins and owners)", "boolean"}}, Status: 204, Handler: s.deleteDatabase},
		{Method: "POST", Path: p + "/databases/:id/deploy", Summary: "Apply the database's settings (stop-first) and wait until it converged", Tag: "databases", Response: store.Database{}, Handler: s.databaseAction("")},
		{Method: "POST", Path: p + "/databases/:id/start", Summary: "Start the database and wait until it is healthy", Tag: "databases", Response: store.Database{}, Handler: s.databaseAction(store.DatabaseRunning)},
		{Method: "POST", Path: p + "/databases/:id/stop", Summary: "Stop the database (scale to zero; service and volume kept)", Tag: "databases", Response: store.Database{}, Handler: s.databaseAction(store.DatabaseStopped)},
		{Method: "GET", Path: p + "/databases/:id/connection", Summary: "Internal host, port, credentials and URL (members and above)", Tag: "databases", Response: ConnectionInfo{}, Handler: s.databaseConnection},
		{Method: "POST", Path: p + "/databases/:id/restore", Summary: "Verify a backup (recorded, or an object on a destination) and restore it into this database; answers when done", Tag: "backups", Body: RestoreRequest{}, Response: store.Database{}, Handler: s.restoreDatabase},
		{Method: "GET", Path: p + "/databases/:id/backups", Summary: "A database's backups, newest first", Tag: "backups", Query: backupListQuery, Response: List[store.Backup]{}, Handler: s.listBackups(s.databaseOwner)},
		{Method: "GET", Path: p + "/databases/:id/backup-policies", Summary: "A database's backup policies", Tag: "backups", Query: pageQuery, Response: List[store.BackupPolicy]{}, Handler: s.listPolicies(s.databaseOwner)},
		{Method: "POST", Path: p + "/databases/:id/backup-policies", Summary: "Schedule backups of a database", Tag: "backups", Body: PolicyRequest{}, Response: store.BackupPolicy{}, Status: 201, Handler: s.createPolicy(s.databaseOwner)},
		{Method: "GET", Path: p + "/applications/:id/backup-policies", Summary: "An application's volume backup policies", Tag: "backups", Query: pageQuery, Response: List[store.BackupPolicy]{}, Handler: s.listPolicies(s.applicationOwner)},
		{Method: "POST", Path: p + "/applications/:id/backup-policies", Summary: "Schedule backups of an application's named volumes", Tag: "backups", Body: PolicyRequest{}, Response: store.BackupPolicy{}, Status: 201, Handler: s.createPolicy(s.applicationOwner)},
		{Method: "GET", Path: p + "/applications/:id/backups", Summary: "An application's volume backups, newest first", Tag: "backups", Query: backupListQuery, Response: List[store.Backup]{}, Handler: s.listBackups(s.applicationOwner)},
		{Method: "POST", Path: p + "/applications/:id/restore", Summary: "Verify a volume backup and write it back into the application's volumes; answers when done", Tag: "backups", Body: VolumeRestoreRequest{}, Response: store.Application{}, Handler: s.restoreApplicationVolumes},
		{Method: "GET", Path: p + "/backup-policies/:id", Summary: "Get a backup policy", Tag: "backups", Response: store.BackupPolicy{}, Handler: s.getPolicy},
		{Method: "PATCH", Path: p + "/backup-policies/:id", Summary: "Change a backup policy", Tag: "backups", Body: PolicyRequest{}, Response: store.BackupPolicy{}, Handler: s.updatePolicy},
		{Method: "DELETE", Path: p + "/backup-policies/:id", Summary: "Delete a backup policy (its backups stay on the destination)", Tag: "backups", Status: 204, Handler: s.deletePolicy},
		{Method: "GET", Path: p + "/backup-policies/:id/backups", Summary: "A policy's backups, newest first", Tag: "backups", Query: backupListQuery, Response: List[store.Backup]{}, Handler: s.listBackups(nil)},
		{Method: "POST", Path: p + "/backup-policies/:id/run", Summary: "Back up now: queue a run of the policy (follow it with GET /backups/{id})", Tag: "backups", Response: store.Backup{}, Status: 202, Handler: s.backupNow},
		{Method: "GET", Path: p + "/backups/:id", Summary: "Get a backup", Tag: "backups", Response: store.Backup{}, Handler: s.getBackup},
		{Method: "GET", Path: p + "/organizations/:id/backup-destinations", Summary: "List an organization's backup destinations (settings are write-only)", Tag: "backups", Query: pageQuery, Response: List[store.BackupDestination]{}, Handler: s.listDestinations},
		{Method: "POST", Path: p + "/organizations/:id/backup-destinations", Summary: "Add a backup destination on an installed backup plugin (admins)", Tag: "backups", Body: DestinationRequest{}, Response: store.BackupDestination{}, Status: 201, Handler: s.createDestination},
		{Method: "GET", Path: p + "/backup-destinations/:id", Summary: "Get a backup destination (settings are write-only)", Tag: "backups", Response: store.BackupDestination{}, Handler: s.getDestination},
		{Method: "PATCH", Path: p + "/backup-destinations/:id", Summary: "Rename a destination or merge settings into it, null removing a key (admins)", Tag: "backups", Body: DestinationRequest{}, Response: store.BackupDestination{}, Handler: s.updateDestination},
		{Method: "DELETE", Path: p + "/backup-destinations/:id", Summary: "Delete a destination no policy uses (admins)", Tag: "backups", Status: 204, Handler: s.deleteDestination},
		{Method: "POST", Path: p + "/backup-destinations/:id/test", Summary: "Test that the destination is reachable and writable", Tag: "backups", Response: DestinationTest{}, Handler: s.testDestination},
		{Method: "GET", Path: p + "/backup-destinations/:id/objects", Summary: "Backup objects on the destination, each with its recorded backup or null if found only there", Tag: "backups", Query: []QueryParam{{"prefix", "only keys starting with this", "string"}, {"unrecorded", "only objects no recorded backup points to", "boolean"}}, Response: BackupObjectList{}, Handler: s.listDestinationObjects},

		{Method: "GET", Path: p + "/plugins", Summary: "Installed plugins with their health and settings schema", Tag: "plugins", Response: PluginList{}, Handler: s.listPlugins},
		{Method: "GET", Path: p + "/plugins/:id/settings", Summary: "A plugin's saved settings (instance administrators)", Tag: "plugins", Response: PluginSettings{}, Handler: s.getPluginSettings},
		{Method: "PUT", Path: p + "/plugins/:id/settings", Summary: "Validate settings with the plugin, apply and save them (instance administrators)", Tag: "plugins", Body: PluginSettings{}, Response: PluginSettings{}, Handler: s.putPluginSettings},
	}
}

// variableRoutes are generated per scope (project, environment, application).
func (s *Server) variableRoutes() []Route {
	var out []Route
	for _, sc := range variableScopes {
		base := Prefix + "/" + sc.plural + "/:id/variables"
		out = append(out,
			Route{Method: "GET", Path: base, Summary: "List the " + string(sc.scope) + "'s variables", Tag: "variables", Response: VariableList{}, Handler: s.listVariables(sc)},
			Route{Method: "PUT", Path: base, Summary: "Replace all of the " + string(sc.scope) + "'s variables", Tag: "variables", Body: ReplaceVariablesRequest{}, Response: VariableList{}, Handler: s.replaceVariables(sc)},
			Route{Method: "PUT", Path: base + "/:key", Summary: "Set one " + string(sc.scope) + " variable", Tag: "variables", Body: SetVariableRequest{}, Response: store.Variable{}, Handler: s.setVariable(sc)},
			Route{Method: "DELETE", Path: base + "/:key", Summary: "Delete one " + string(sc.scope) + " variable", Tag: "variables", Status: 204, Handler: s.deleteVariable(sc)},
		)
	}
	return out
}
