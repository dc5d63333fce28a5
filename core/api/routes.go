package api

import (
	"github.com/berth-dev/berth/core/service"
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
	// Resource is what the route's :id names: it is loaded, and the
	// caller's role in its organization checked against Access.Role,
	// before the handler runs (which reads it with resolved(c)). A
	// non-member gets a 404, a member below the role a 403.
	Resource service.Resource
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
	// Do is the typed handler (JSON, Query): it fills Body, Response and
	// Handler from the handler's own types. Routes that stream or serve
	// other media set Handler (and document Body/Response) themselves.
	Do      Endpoint
	Handler fiber.Handler
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

// The Access values the route tables use. Viewers read; members change,
// deploy, back up and restore; admins delete projects, environments,
// applications and databases and manage members, backup destinations, git
// connections and webhook credentials; owners delete the organization.
// Callers who are not members of the resource's organization get a 404 on
// every organization route, instance administrators included: they hold
// host-level powers (forInstanceAdmins routes), not tenants' data.
var (
	signedIn          = Access{Self: true}
	forViewers        = Access{Role: store.RoleViewer}
	forMembers        = Access{Role: store.RoleMember}
	forAdmins         = Access{Role: store.RoleAdmin}
	forOwners         = Access{Role: store.RoleOwner}
	forInstanceAdmins = Access{InstanceAdmin: true}
)

// String names the access for the API description: a role ("viewer",
// "member", "admin", "owner"), "instance-admin" or "signed-in"; empty when
// nothing is declared.
func (a Access) String() string {
	switch {
	case a.InstanceAdmin:
		return "instance-admin"
	case a.Self:
		return "signed-in"
	}
	return string(a.Role)
}

// deleteVolumesParam documents ?delete_volumes= of project and environment
// deletion.
var deleteVolumesParam = QueryParam{"delete_volumes",
	"also delete the databases' and applications' volumes berth created, with their data (default false)", "boolean"}

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

var restoreListQuery = []QueryParam{
	{"limit", "at most this many, 1 to 200 (default 200)", "integer"},
	{"status", "only restores in this status: queued, running, succeeded, failed or cancelled", "string"},
}

func withPage(q ...QueryParam) []QueryParam {
	return append(append([]QueryParam{}, q...), pageQuery...)
}

// table is the single list of berth's HTTP routes.
func (s *Server) table() []Route {
	p := Prefix
	return []Route{
		{Method: "GET", Path: "/healthz", Summary: "Liveness and database health", Tag: "system", Public: true, Response: Health{}, Handler: s.health},
		{Method: "GET", Path: "/metrics", Summary: "Prometheus metrics (instance administrators)", Tag: "system", Produces: "text/plain", Response: "", Access: forInstanceAdmins, Handler: s.metrics},
		{Method: "GET", Path: p + "/openapi.json", Summary: "This API's OpenAPI 3.1 description", Tag: "system", Public: true, Response: map[string]any{}, Handler: s.openAPI},

		{Method: "GET", Path: p + "/setup", Summary: "Whether the first administrator still has to be created", Tag: "auth", Public: true, Response: SetupStatus{}, Handler: s.setupStatus},
		{Method: "POST", Path: p + "/setup", Summary: "Create the first administrator with the one-time setup token", Tag: "auth", Public: true, Body: SetupRequest{}, Response: SessionResponse{}, Status: 201, Handler: s.setup},
		{Method: "POST", Path: p + "/auth/login", Summary: "Sign in; sets the session cookie", Tag: "auth", Public: true, Body: LoginRequest{}, Response: SessionResponse{}, Handler: s.login},
		{Method: "POST", Path: p + "/auth/logout", Summary: "End the current session", Tag: "auth", Access: signedIn, Handler: s.logout},
		{Method: "GET", Path: p + "/auth/session", Summary: "The signed-in user, their organizations and CSRF token", Tag: "auth", Response: SessionResponse{}, Access: signedIn, Handler: s.session},
		{Method: "GET", Path: p + "/users/me", Summary: "Your own account, with instance_admin", Tag: "users", Access: signedIn, Response: store.User{}, Handler: s.getMe},
		{Method: "PATCH", Path: p + "/users/me", Summary: "Change your name, email or password", Tag: "users", Access: signedIn, Do: JSON(s.updateMe)},
		{Method: "GET", Path: p + "/users", Summary: "Every user of the instance with instance_admin (instance administrators)", Tag: "instance", Access: forInstanceAdmins, Query: pageQuery, Response: List[store.User]{}, Handler: s.listUsers},
		{Method: "PATCH", Path: p + "/users/:id", Summary: "Grant or revoke instance administration; the last one cannot be revoked (instance administrators)", Tag: "instance", Access: forInstanceAdmins, Body: UpdateUserRequest{}, Response: store.User{}, Handler: s.updateUser},
		{Method: "GET", Path: p + "/instance/settings", Summary: "What tenants may reach on the host: organization creation, bind mount and local backup roots, outbound allow list; the default zero-config builder of the build type auto (instance administrators)", Tag: "instance", Access: forInstanceAdmins, Response: store.InstanceSettings{}, Handler: s.getInstanceSettings},
		{Method: "PUT", Path: p + "/instance/settings", Summary: "Change the instance settings; omitted fields keep their value (instance administrators)", Tag: "instance", Access: forInstanceAdmins, Body: InstanceSettingsRequest{}, Response: store.InstanceSettings{}, Handler: s.putInstanceSettings},

		{Method: "GET", Path: p + "/api-keys", Summary: "List your API keys", Tag: "api-keys", Query: pageQuery, Response: List[store.APIKey]{}, Access: signedIn, Handler: s.listAPIKeys},
		{Method: "POST", Path: p + "/api-keys", Summary: "Create an API key; the token is shown once", Tag: "api-keys", Status: 201, Access: signedIn, Do: JSON(s.createAPIKey)},
		{Method: "DELETE", Path: p + "/api-keys/:id", Summary: "Revoke an API key", Tag: "api-keys", Status: 204, Access: signedIn, Do: Plain(s.deleteAPIKey)},

		{Method: "GET", Path: p + "/organizations", Summary: "List your organizations", Tag: "organizations", Query: pageQuery, Response: List[store.Organization]{}, Access: signedIn, Handler: s.listOrganizations},
		{Method: "POST", Path: p + "/organizations", Summary: "Create an organization you own", Tag: "organizations", Status: 201, Access: signedIn, Do: JSON(s.createOrganization)},
		{Method: "GET", Path: p + "/organizations/:id", Summary: "Get an organization", Tag: "organizations", Access: forViewers, Resource: service.OrganizationResource, Do: Plain(s.getOrganization)},
		{Method: "PATCH", Path: p + "/organizations/:id", Summary: "Rename an organization", Tag: "organizations", Access: forAdmins, Resource: service.OrganizationResource, Do: JSON(s.updateOrganization)},
		{Method: "DELETE", Path: p + "/organizations/:id", Summary: "Delete an empty organization", Tag: "organizations", Status: 204, Access: forOwners, Resource: service.OrganizationResource, Do: Plain(s.deleteOrganization)},
		{Method: "GET", Path: p + "/organizations/:id/members", Summary: "List members and their roles", Tag: "organizations", Query: pageQuery, Response: List[store.OrgMember]{}, Access: forViewers, Resource: service.OrganizationResource, Handler: s.listMembers},
		{Method: "POST", Path: p + "/organizations/:id/members", Summary: "Create a user in the organization", Tag: "organizations", Status: 201, Access: forAdmins, Resource: service.OrganizationResource, Do: JSON(s.createMember)},
		{Method: "PATCH", Path: p + "/organizations/:id/members/:user_id", Summary: "Change a member's role", Tag: "organizations", Access: forAdmins, Resource: service.OrganizationResource, Do: JSON(s.updateMember)},
		{Method: "DELETE", Path: p + "/organizations/:id/members/:user_id", Summary: "Remove a member", Tag: "organizations", Status: 204, Access: forAdmins, Resource: service.OrganizationResource, Do: Plain(s.removeMember)},

		{Method: "GET", Path: p + "/projects", Summary: "List projects", Tag: "projects", Query: withPage(QueryParam{"organization_id", "only this organization's projects", "string"}), Response: List[store.Project]{}, Access: signedIn, Handler: s.listProjects},
		{Method: "POST", Path: p + "/projects", Summary: "Create a project (with a production environment)", Tag: "projects", Status: 201, Access: forMembers, Do: JSON(s.createProject)},
		{Method: "GET", Path: p + "/projects/:id", Summary: "Get a project", Tag: "projects", Access: forViewers, Resource: service.ProjectResource, Do: Plain(s.getProject)},
		{Method: "PATCH", Path: p + "/projects/:id", Summary: "Change a project", Tag: "projects", Access: forMembers, Resource: service.ProjectResource, Do: JSON(s.updateProject)},
		{Method: "DELETE", Path: p + "/projects/:id", Summary: "Delete a project with its environments, services and networks; volumes are kept unless delete_volumes=true", Tag: "projects", Query: []QueryParam{deleteVolumesParam}, Status: 204, Access: forAdmins, Resource: service.ProjectResource, Do: Plain(s.deleteProject)},

		{Method: "GET", Path: p + "/projects/:id/environments", Summary: "List a project's environments", Tag: "environments", Query: pageQuery, Response: List[store.Environment]{}, Access: forViewers, Resource: service.ProjectResource, Handler: s.listEnvironments},
		{Method: "POST", Path: p + "/projects/:id/environments", Summary: "Create an environment", Tag: "environments", Status: 201, Access: forMembers, Resource: service.ProjectResource, Do: JSON(s.createEnvironment)},
		{Method: "GET", Path: p + "/environments/:id", Summary: "Get an environment", Tag: "environments", Access: forViewers, Resource: service.EnvironmentResource, Do: Plain(s.getEnvironment)},
		{Method: "PATCH", Path: p + "/environments/:id", Summary: "Rename an environment", Tag: "environments", Access: forMembers, Resource: service.EnvironmentResource, Do: JSON(s.updateEnvironment)},
		{Method: "DELETE", Path: p + "/environments/:id", Summary: "Delete an environment with its services and network; volumes are kept unless delete_volumes=true", Tag: "environments", Query: []QueryParam{deleteVolumesParam}, Status: 204, Access: forAdmins, Resource: service.EnvironmentResource, Do: Plain(s.deleteEnvironment)},

		{Method: "GET", Path: p + "/applications", Summary: "List applications", Tag: "applications", Query: withPage(QueryParam{"project_id", "only this project's applications", "string"}, QueryParam{"environment_id", "only this environment's applications", "string"}), Response: List[store.Application]{}, Access: signedIn, Handler: s.listApplications},
		{Method: "POST", Path: p + "/environments/:id/applications", Summary: "Create an application", Tag: "applications", Status: 201, Access: forMembers, Resource: service.EnvironmentResource, Do: JSON(s.createApplication)},
		{Method: "GET", Path: p + "/applications/:id", Summary: "Get an application", Tag: "applications", Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.getApplication)},
		{Method: "PATCH", Path: p + "/applications/:id", Summary: "Change an application", Tag: "applications", Access: forMembers, Resource: service.ApplicationResource, Do: JSON(s.updateApplication)},
		{Method: "DELETE", Path: p + "/applications/:id", Summary: "Delete an application with its previews (admins)", Tag: "applications", Status: 204, Access: forAdmins, Resource: service.ApplicationResource, Do: Plain(s.deleteApplication)},

		{Method: "GET", Path: p + "/applications/:id/maintenance", Summary: "An application's maintenance mode", Tag: "applications", Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.getMaintenance)},
		{Method: "PUT", Path: p + "/applications/:id/maintenance", Summary: "Enter or leave maintenance mode: every domain answers 503 with Retry-After and the page", Tag: "applications", Access: forMembers, Resource: service.ApplicationResource, Do: JSON(s.setMaintenance)},
		{Method: "GET", Path: p + "/applications/:id/domains", Summary: "List an application's domains", Tag: "domains", Query: pageQuery, Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.listDomains)},
		{Method: "POST", Path: p + "/applications/:id/domains", Summary: "Add a domain", Tag: "domains", Status: 201, Access: forMembers, Resource: service.ApplicationResource, Do: JSON(s.createDomain)},
		{Method: "GET", Path: p + "/domains/:id", Summary: "Get a domain", Tag: "domains", Access: forViewers, Resource: service.DomainResource, Do: Plain(s.getDomain)},
		{Method: "PATCH", Path: p + "/domains/:id", Summary: "Change a domain", Tag: "domains", Access: forMembers, Resource: service.DomainResource, Do: JSON(s.updateDomain)},
		{Method: "DELETE", Path: p + "/domains/:id", Summary: "Remove a domain", Tag: "domains", Status: 204, Access: forMembers, Resource: service.DomainResource, Do: Plain(s.deleteDomain)},

		{Method: "GET", Path: p + "/applications/:id/variables/resolved", Summary: "The application's environment with references resolved", Tag: "variables", Access: forMembers, Resource: service.ApplicationResource, Do: Plain(s.resolvedVariables)},
		{Method: "GET", Path: p + "/applications/:id/deployments", Summary: "List an application's deployments, newest first", Tag: "deployments", Query: pageQuery, Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.listDeployments)},
		{Method: "POST", Path: p + "/applications/:id/deployments", Summary: "Deploy the application (queued; see its logs)", Tag: "deployments", Body: DeployRequest{}, Response: store.Deployment{}, Status: 202, Access: forMembers, Resource: service.ApplicationResource, Handler: s.createDeployment},
		{Method: "GET", Path: p + "/applications/:id/releases", Summary: "Releases kept for instant rollback, newest first", Tag: "deployments", Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.listReleases)},
		// Request analytics (issue 17, docs/requests.md).
		{Method: "GET", Path: p + "/applications/:id/requests/stats", Summary: "Requests per step from the proxy's access log: count, rate, status classes, p50 and p95 latency, with totals", Tag: "requests", Query: requestStatsQuery, Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.requestStats)},
		{Method: "GET", Path: p + "/applications/:id/requests", Summary: "The application's latest requests (query strings removed), newest first", Tag: "requests", Query: latestRequestsQuery, Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.latestRequests)},
		{Method: "GET", Path: p + "/deployments/:id", Summary: "Get a deployment", Tag: "deployments", Access: forViewers, Resource: service.DeploymentResource, Do: Plain(s.getDeployment)},
		{Method: "POST", Path: p + "/deployments/:id/cancel", Summary: "Cancel a queued or running deployment", Tag: "deployments", Status: 202, Access: forMembers, Resource: service.DeploymentResource, Do: Plain(s.cancelDeployment)},
		{Method: "POST", Path: p + "/deployments/:id/promote", Summary: "Send all the traffic to a canary release and retire the previous version", Tag: "deployments", Status: 202, Access: forMembers, Resource: service.DeploymentResource, Do: Plain(s.promoteDeployment)},
		{Method: "POST", Path: p + "/deployments/:id/abort", Summary: "Send all the traffic back to the previous version and remove a canary release", Tag: "deployments", Status: 202, Access: forMembers, Resource: service.DeploymentResource, Do: Plain(s.abortDeployment)},
		{Method: "POST", Path: p + "/deployments/:id/rollback", Summary: "Release this deployment's image again", Tag: "deployments", Status: 202, Access: forMembers, Resource: service.DeploymentResource, Do: Plain(s.rollbackDeployment)},
		{Method: "GET", Path: p + "/deployments/:id/diff", Summary: "What changed from another release of the same application (?against=ID) to this one: image, variables, settings, files, mounts; secret values masked", Tag: "deployments", Query: []QueryParam{{"against", "id of the deployment to compare with (required)", "string"}}, Access: forViewers, Resource: service.DeploymentResource, Do: Plain(s.deploymentDiff)},
		{Method: "GET", Path: p + "/deployments/:id/logs", Summary: "A deployment's log: JSON pages (?after=), or live server-sent events (?follow=true or Accept: text/event-stream)", Tag: "deployments", Query: []QueryParam{{"after", "only lines after this sequence number", "integer"}, {"follow", "stream live as server-sent events", "boolean"}}, Response: LogPage{}, Access: forViewers, Resource: service.DeploymentResource, Handler: s.deploymentLogs},
		{Method: "DELETE", Path: p + "/deployments/:id", Summary: "Delete a finished deployment's record", Tag: "deployments", Status: 204, Access: forAdmins, Resource: service.DeploymentResource, Do: Plain(s.deleteDeployment)},

		{Method: "GET", Path: p + "/databases", Summary: "List databases (credentials never listed)", Tag: "databases", Query: withPage(QueryParam{"project_id", "only this project's databases", "string"}, QueryParam{"environment_id", "only this environment's databases", "string"}), Access: signedIn, Do: Plain(s.listDatabases)},
		{Method: "POST", Path: p + "/environments/:id/databases", Summary: "Create a database with generated credentials (deploy it with POST /databases/{id}/deploy)", Tag: "databases", Status: 201, Access: forMembers, Resource: service.EnvironmentResource, Do: JSON(s.createDatabase)},
		// Runtime logs (issue 17, logs).
		{Method: "GET", Path: p + "/applications/:id/logs", Summary: "What the application's tasks print (its release candidate's too): the latest lines as JSON, oldest first, or live server-sent events (?follow=true or Accept: text/event-stream)", Tag: "logs", Query: runtimeLogQuery, Response: RuntimeLogPage{}, Access: forViewers, Resource: service.ApplicationResource, Handler: s.applicationLogs},
		{Method: "GET", Path: p + "/databases/:id/logs", Summary: "What the database's task prints: the latest lines as JSON, oldest first, or live server-sent events (?follow=true or Accept: text/event-stream)", Tag: "logs", Query: runtimeLogQuery, Response: RuntimeLogPage{}, Access: forViewers, Resource: service.DatabaseResource, Handler: s.databaseLogs},
		{Method: "GET", Path: p + "/databases/:id", Summary: "Get a database", Tag: "databases", Access: forViewers, Resource: service.DatabaseResource, Do: Plain(s.getDatabase)},
		{Method: "PATCH", Path: p + "/databases/:id", Summary: "Change a database's version, image, external port or limits (deploy to apply)", Tag: "databases", Access: forMembers, Resource: service.DatabaseResource, Do: JSON(s.updateDatabase)},
		{Method: "DELETE", Path: p + "/databases/:id", Summary: "Delete a database's service (admins); its volume is kept unless delete_volume=true", Tag: "databases", Query: []QueryParam{{"delete_volume", "also delete the data volume (default false)", "boolean"}}, Status: 204, Access: forAdmins, Resource: service.DatabaseResource, Do: Plain(s.deleteDatabase)},
		{Method: "POST", Path: p + "/databases/:id/deploy", Summary: "Apply the database's settings (stop-first) and wait until it converged", Tag: "databases", Access: forMembers, Resource: service.DatabaseResource, Do: Plain(s.databaseAction(""))},
		{Method: "POST", Path: p + "/databases/:id/start", Summary: "Start the database and wait until it is healthy", Tag: "databases", Access: forMembers, Resource: service.DatabaseResource, Do: Plain(s.databaseAction(store.DatabaseRunning))},
		{Method: "POST", Path: p + "/databases/:id/stop", Summary: "Stop the database (scale to zero; service and volume kept)", Tag: "databases", Access: forMembers, Resource: service.DatabaseResource, Do: Plain(s.databaseAction(store.DatabaseStopped))},
		{Method: "GET", Path: p + "/databases/:id/connection", Summary: "Internal host, port, credentials and URL (members and above)", Tag: "databases", Access: forMembers, Resource: service.DatabaseResource, Do: Plain(s.databaseConnection)},
		{Method: "POST", Path: p + "/databases/:id/restore", Summary: "Queue a restore of a backup (recorded, or an object on a destination) into this database; follow it with GET /restores/{id}", Tag: "backups", Status: 202, Access: forMembers, Resource: service.DatabaseResource, Do: JSON(s.restoreDatabase)},
		{Method: "GET", Path: p + "/databases/:id/restores", Summary: "A database's restores, newest first", Tag: "backups", Query: restoreListQuery, Access: forViewers, Resource: service.DatabaseResource, Do: Plain(s.listRestores)},
		{Method: "GET", Path: p + "/databases/:id/backups", Summary: "A database's backups, newest first", Tag: "backups", Query: backupListQuery, Access: forViewers, Resource: service.DatabaseResource, Do: Plain(s.listBackups)},
		{Method: "GET", Path: p + "/databases/:id/backup-policies", Summary: "A database's backup policies", Tag: "backups", Query: pageQuery, Access: forViewers, Resource: service.DatabaseResource, Do: Plain(s.listPolicies)},
		{Method: "POST", Path: p + "/databases/:id/backup-policies", Summary: "Schedule backups of a database", Tag: "backups", Status: 201, Access: forMembers, Resource: service.DatabaseResource, Do: JSON(s.createPolicy)},
		{Method: "GET", Path: p + "/applications/:id/backup-policies", Summary: "An application's volume backup policies", Tag: "backups", Query: pageQuery, Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.listPolicies)},
		{Method: "POST", Path: p + "/applications/:id/backup-policies", Summary: "Schedule backups of an application's named volumes", Tag: "backups", Status: 201, Access: forMembers, Resource: service.ApplicationResource, Do: JSON(s.createPolicy)},
		{Method: "GET", Path: p + "/applications/:id/backups", Summary: "An application's volume backups, newest first", Tag: "backups", Query: backupListQuery, Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.listBackups)},
		{Method: "POST", Path: p + "/applications/:id/restore", Summary: "Queue a restore of a volume backup into the application's volumes; follow it with GET /restores/{id}", Tag: "backups", Status: 202, Access: forMembers, Resource: service.ApplicationResource, Do: JSON(s.restoreApplicationVolumes)},
		{Method: "GET", Path: p + "/applications/:id/restores", Summary: "An application's volume restores, newest first", Tag: "backups", Query: restoreListQuery, Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.listRestores)},
		{Method: "GET", Path: p + "/restores/:id", Summary: "Get a restore: status, phase, bytes read, error", Tag: "backups", Access: forViewers, Resource: service.RestoreResource, Do: Plain(s.getRestore)},
		{Method: "GET", Path: p + "/restores/:id/events", Summary: "Follow a restore: server-sent events (event: restore, data: the restore) on every change until it ends", Tag: "backups", Produces: "text/event-stream", Response: "", Access: forViewers, Resource: service.RestoreResource, Handler: s.restoreEvents},
		{Method: "POST", Path: p + "/restores/:id/cancel", Summary: "Cancel a queued or running restore (the previous data stays); 409 once it ended", Tag: "backups", Status: 202, Access: forMembers, Resource: service.RestoreResource, Do: Plain(s.cancelRestore)},
		{Method: "GET", Path: p + "/backup-policies/:id", Summary: "Get a backup policy", Tag: "backups", Access: forViewers, Resource: service.PolicyResource, Do: Plain(s.getPolicy)},
		{Method: "PATCH", Path: p + "/backup-policies/:id", Summary: "Change a backup policy", Tag: "backups", Access: forMembers, Resource: service.PolicyResource, Do: JSON(s.updatePolicy)},
		{Method: "DELETE", Path: p + "/backup-policies/:id", Summary: "Delete a backup policy (its backups stay on the destination)", Tag: "backups", Status: 204, Access: forMembers, Resource: service.PolicyResource, Do: Plain(s.deletePolicy)},
		{Method: "GET", Path: p + "/backup-policies/:id/backups", Summary: "A policy's backups, newest first", Tag: "backups", Query: backupListQuery, Access: forViewers, Resource: service.PolicyResource, Do: Plain(s.listBackups)},
		{Method: "POST", Path: p + "/backup-policies/:id/run", Summary: "Back up now: queue a run of the policy (follow it with GET /backups/{id})", Tag: "backups", Status: 202, Access: forMembers, Resource: service.PolicyResource, Do: Plain(s.backupNow)},
		{Method: "GET", Path: p + "/backups/:id", Summary: "Get a backup", Tag: "backups", Access: forViewers, Resource: service.BackupResource, Do: Plain(s.getBackup)},
		{Method: "GET", Path: p + "/organizations/:id/backup-destinations", Summary: "List an organization's backup destinations (settings are write-only)", Tag: "backups", Query: pageQuery, Access: forViewers, Resource: service.OrganizationResource, Do: Plain(s.listDestinations)},
		{Method: "POST", Path: p + "/organizations/:id/backup-destinations", Summary: "Add a backup destination on an installed backup plugin (admins)", Tag: "backups", Status: 201, Access: forAdmins, Resource: service.OrganizationResource, Do: JSON(s.createDestination)},
		{Method: "GET", Path: p + "/backup-destinations/:id", Summary: "Get a backup destination (settings are write-only)", Tag: "backups", Access: forViewers, Resource: service.DestinationResource, Do: Plain(s.getDestination)},
		{Method: "PATCH", Path: p + "/backup-destinations/:id", Summary: "Rename a destination or merge settings into it, null removing a key (admins)", Tag: "backups", Access: forAdmins, Resource: service.DestinationResource, Do: JSON(s.updateDestination)},
		{Method: "DELETE", Path: p + "/backup-destinations/:id", Summary: "Delete a destination no policy uses (admins)", Tag: "backups", Status: 204, Access: forAdmins, Resource: service.DestinationResource, Do: Plain(s.deleteDestination)},
		{Method: "POST", Path: p + "/backup-destinations/:id/test", Summary: "Test that the destination is reachable and writable", Tag: "backups", Access: forMembers, Resource: service.DestinationResource, Do: Plain(s.testDestination)},
		{Method: "GET", Path: p + "/backup-destinations/:id/objects", Summary: "Backup objects on the destination, each with its recorded backup or null if found only there", Tag: "backups", Query: []QueryParam{{"prefix", "only keys starting with this", "string"}, {"unrecorded", "only objects no recorded backup points to", "boolean"}}, Access: forMembers, Resource: service.DestinationResource, Do: Plain(s.listDestinationObjects)},

		{Method: "GET", Path: p + "/notification-events", Summary: "The event types notification channels subscribe to, grouped, with those about the whole instance marked", Tag: "notifications", Response: EventTypeList{}, Access: signedIn, Handler: s.listEventTypes},
		{Method: "GET", Path: p + "/organizations/:id/notification-channels", Summary: "List an organization's notification channels with their health (settings are write-only)", Tag: "notifications", Query: pageQuery, Access: forViewers, Resource: service.OrganizationResource, Do: Plain(s.listChannels)},
		{Method: "POST", Path: p + "/organizations/:id/notification-channels", Summary: "Add a notification channel on an installed notifier plugin, with the events it receives (admins)", Tag: "notifications", Status: 201, Access: forAdmins, Resource: service.OrganizationResource, Do: JSON(s.createChannel)},
		{Method: "GET", Path: p + "/notification-channels/:id", Summary: "Get a notification channel with its health (settings are write-only)", Tag: "notifications", Access: forViewers, Resource: service.ChannelResource, Do: Plain(s.getChannel)},
		{Method: "PATCH", Path: p + "/notification-channels/:id", Summary: "Change a channel's name, events, filters or enabled flag, or merge settings into it, null removing a key (admins)", Tag: "notifications", Access: forAdmins, Resource: service.ChannelResource, Do: JSON(s.updateChannel)},
		{Method: "DELETE", Path: p + "/notification-channels/:id", Summary: "Delete a notification channel (admins)", Tag: "notifications", Status: 204, Access: forAdmins, Resource: service.ChannelResource, Do: Plain(s.deleteChannel)},
		{Method: "POST", Path: p + "/notification-channels/:id/test", Summary: "Send a test message through the channel now; the outcome is recorded on its health", Tag: "notifications", Access: forMembers, Resource: service.ChannelResource, Do: Plain(s.testChannel)},
		// Threshold alert rules (alerts feature, docs/alerts.md).
		{Method: "GET", Path: p + "/applications/:id/alert-rules", Summary: "An application's threshold alert rules, each with its state (ok, pending, firing), last value and last alert", Tag: "alerts", Query: pageQuery, Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.listApplicationAlertRules)},
		{Method: "POST", Path: p + "/applications/:id/alert-rules", Summary: "Add a threshold alert rule on an application: metric above threshold for a duration emits threshold.crossed, then again only after the cooldown", Tag: "alerts", Status: 201, Access: forMembers, Resource: service.ApplicationResource, Do: JSON(s.createApplicationAlertRule)},
		{Method: "GET", Path: p + "/databases/:id/alert-rules", Summary: "A database's threshold alert rules, each with its state", Tag: "alerts", Query: pageQuery, Access: forViewers, Resource: service.DatabaseResource, Do: Plain(s.listDatabaseAlertRules)},
		{Method: "POST", Path: p + "/databases/:id/alert-rules", Summary: "Add a threshold alert rule on a database", Tag: "alerts", Status: 201, Access: forMembers, Resource: service.DatabaseResource, Do: JSON(s.createDatabaseAlertRule)},
		{Method: "GET", Path: p + "/servers/alert-rules", Summary: "The servers' threshold alert rules (CPU, memory, disk per mount), each with its state (instance administrators)", Tag: "alerts", Query: pageQuery, Access: forInstanceAdmins, Do: Plain(s.listServerAlertRules)},
		{Method: "POST", Path: p + "/servers/alert-rules", Summary: "Add a threshold alert rule on one server or every server; its events concern the instance (instance administrators)", Tag: "alerts", Status: 201, Access: forInstanceAdmins, Do: JSON(s.createServerAlertRule)},
		{Method: "GET", Path: p + "/alert-rules/:id", Summary: "Get an alert rule with its state (server rules: instance administrators)", Tag: "alerts", Access: forViewers, Resource: service.AlertRuleResource, Do: Plain(s.getAlertRule)},
		{Method: "PATCH", Path: p + "/alert-rules/:id", Summary: "Change an alert rule; its pending runs start again, its cooldown still holds", Tag: "alerts", Access: forMembers, Resource: service.AlertRuleResource, Do: JSON(s.updateAlertRule)},
		{Method: "DELETE", Path: p + "/alert-rules/:id", Summary: "Delete an alert rule", Tag: "alerts", Status: 204, Access: forMembers, Resource: service.AlertRuleResource, Do: Plain(s.deleteAlertRule)},
		{Method: "GET", Path: p + "/plugins", Summary: "Installed plugins with their health and settings schema", Tag: "plugins", Response: PluginList{}, Access: signedIn, Handler: s.listPlugins},
		{Method: "GET", Path: p + "/plugins/:id/settings", Summary: "A plugin's saved settings (instance administrators)", Tag: "plugins", Response: PluginSettings{}, Access: forInstanceAdmins, Handler: s.getPluginSettings},
		{Method: "PUT", Path: p + "/plugins/:id/settings", Summary: "Validate settings with the plugin, apply and save them (instance administrators)", Tag: "plugins", Access: forInstanceAdmins, Do: JSON(s.putPluginSettings)},

		// metrics (docs/metrics.md)
		{Method: "GET", Path: p + "/applications/:id/metrics", Summary: "An application's CPU, memory, network, block I/O and restarts over a time range (?from=&to=&step=)", Tag: "metrics", Query: metricsQuery, Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.applicationMetrics)},
		{Method: "GET", Path: p + "/databases/:id/metrics", Summary: "A database's CPU, memory, network, block I/O and restarts over a time range (?from=&to=&step=)", Tag: "metrics", Query: metricsQuery, Access: forViewers, Resource: service.DatabaseResource, Do: Plain(s.databaseMetrics)},
		{Method: "GET", Path: p + "/servers", Summary: "The servers berth measures with their latest host figures (instance administrators)", Tag: "metrics", Access: forInstanceAdmins, Do: Plain(s.listServers)},
		{Method: "GET", Path: p + "/servers/:id/metrics", Summary: "A server's CPU, memory, load, network and disks over a time range (?from=&to=&step=; instance administrators)", Tag: "metrics", Query: metricsQuery, Access: forInstanceAdmins, Do: Plain(s.serverMetrics)},
	}
}

// variableRoutes are generated per scope (project, environment, application).
func (s *Server) variableRoutes() []Route {
	var out []Route
	for _, sc := range variableScopes {
		base := Prefix + "/" + sc.plural + "/:id/variables"
		out = append(out,
			Route{Method: "GET", Path: base, Summary: "List the " + string(sc.scope) + "'s variables", Tag: "variables", Access: forMembers, Resource: sc.resource, Do: Plain(s.listVariables)},
			Route{Method: "PUT", Path: base, Summary: "Replace all of the " + string(sc.scope) + "'s variables", Tag: "variables", Access: forMembers, Resource: sc.resource, Do: JSON(s.replaceVariables)},
			Route{Method: "PUT", Path: base + "/:key", Summary: "Set one " + string(sc.scope) + " variable", Tag: "variables", Access: forMembers, Resource: sc.resource, Do: JSON(s.setVariable)},
			Route{Method: "DELETE", Path: base + "/:key", Summary: "Delete one " + string(sc.scope) + " variable", Tag: "variables", Status: 204, Access: forMembers, Resource: sc.resource, Do: Plain(s.deleteVariable)},
		)
	}
	return out
}
