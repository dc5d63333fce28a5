package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/webhook"
)

// The authorization matrix: every route of the API × every kind of caller,
// against a resource of the caller's organization (A) and of another one
// (B), checked against the Access the route table declares.
//
// The callers are a viewer, a member, an admin and an owner of A; an
// outsider (the owner of B, so a real tenant with powers elsewhere); and an
// instance administrator who belongs to neither A nor B. Instance
// administrators hold host-level powers (plugin settings, ...), not tenants'
// data: on organization routes they are outsiders and get a 404 like anyone
// who is not a member, so ids of tenants' resources leak nothing to them.
//
// Expected answers:
//   - Access.Self: any signed-in caller is served;
//   - Access.InstanceAdmin: 403 for everyone but the instance administrator;
//   - Access.Role: members of A below the role get 403, non-members 404,
//     members at or above it are served.
//
// "Served" means anything but 401, 403, 404 and 5xx: a 422 or 409 from a
// valid-looking request is an answer about the request, not about access.
// Against B's resources every member of A gets a 404 (and Self routes must
// not answer with any of B's ids).

// pluginSentinel is in a plugin's saved settings; only instance
// administrators may see it.
const pluginSentinel = "https://s3.example.com/instance-secret-path"

// matrixCaller is one kind of caller of the matrix.
type matrixCaller struct {
	name string
	// role in organization A; empty for callers who are not members of A.
	role          store.Role
	instanceAdmin bool
	key           string // API key
}

// served reports whether status is an answer from a handler that let the
// caller in.
func served(status int) bool {
	return status != 401 && status != 403 && status != 404 && status < 500
}

// expectedStatus is what the declared access promises caller: 0 when the
// route must serve them, else the refusal status.
func expectedStatus(a api.Access, c matrixCaller) int {
	switch {
	case a.Self:
		return 0
	case a.InstanceAdmin:
		if c.instanceAdmin {
			return 0
		}
		return 403
	case c.role == "":
		return 404
	case c.role.Rank() < a.Role.Rank():
		return 403
	}
	return 0
}

// matrixIDs maps what a path parameter names to the id substituted for it:
// ":id" by the path segment before it ("projects", "backup-policies"...),
// other parameters by their own name ("user_id", "key").
type matrixIDs map[string]string

func (ids matrixIDs) with(k, v string) matrixIDs {
	out := matrixIDs{k: v}
	for key, val := range ids {
		if key != k {
			out[key] = val
		}
	}
	return out
}

// fill substitutes the route's path parameters from ids.
func (ids matrixIDs) fill(t *testing.T, path string) string {
	t.Helper()
	parts := strings.Split(path, "/")
	for i, s := range parts {
		if !strings.HasPrefix(s, ":") {
			continue
		}
		k := strings.TrimPrefix(s, ":")
		if k == "id" {
			k = parts[i-1]
		}
		v, ok := ids[k]
		if !ok {
			t.Fatalf("route %s: the authorization matrix has no fixture id for %q: add one to matrixOrg.ids", path, k)
		}
		parts[i] = v
	}
	return strings.Join(parts, "/")
}

// filters sets the route's id filters (?organization_id=, ?project_id=,
// ?environment_id=) to the organization's ids, so lists are asked for
// another tenant's resources by id too.
func (ids matrixIDs) filters(query []api.QueryParam) string {
	v := url.Values{}
	for _, q := range query {
		if k, ok := strings.CutSuffix(q.Name, "_id"); ok {
			if id, ok := ids[k+"s"]; ok {
				v.Set(q.Name, id)
			}
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// matrixOrg is an organization with one of everything, made by its owner.
type matrixOrg struct {
	name     string
	id       uuid.UUID
	ownerKey string
	ids      matrixIDs
	// dbPassword is the generated password of the fixture's database.
	dbPassword string
	// webhookSecret is the application's webhook signing secret, for
	// admins and owners (until an admin's request replaces it).
	webhookSecret string
}

// Secrets of the fixture: destination settings and git credentials are
// write-only (no one reads them back); variable values and database
// credentials are for members and above.
const (
	destSecret    = "dest-secret-never-read-back"
	gitToken      = "good-token" // what the fake provider accepts
	variableValue = "variable-value-for-members"
)

// checkSecrets fails when resp shows a secret the caller may not read:
// forA tells whether the request named organization A's resources.
func checkSecrets(t *testing.T, c matrixCaller, a, b matrixOrg, forA bool, resp response) {
	t.Helper()
	body := string(resp.Body)
	for _, secret := range []string{destSecret, gitToken} {
		if strings.Contains(body, secret) {
			t.Errorf("%s: the answer shows a write-only secret %q", c.name, secret)
		}
	}
	member := forA && c.role.Rank() >= store.RoleMember.Rank()
	for _, secret := range []string{variableValue, a.dbPassword, b.dbPassword} {
		if !member && strings.Contains(body, secret) {
			t.Errorf("%s: the answer shows %q, for members and above only", c.name, secret)
		}
	}
	admin := forA && c.role.Rank() >= store.RoleAdmin.Rank()
	for _, secret := range []string{a.webhookSecret, b.webhookSecret} {
		if !admin && strings.Contains(body, secret) {
			t.Errorf("%s: the answer shows the webhook secret, for admins and owners only", c.name)
		}
	}
}

// matrixHarness is the API with fakes for everything outside the process,
// so every handler can run to completion.
type matrixHarness struct {
	*harness
	n int // for unique names
}

// authzDeployer records deployments and rollbacks in the store.
type authzDeployer struct{ *queueOnly }

func (d authzDeployer) Rollback(ctx context.Context, a store.Application, target store.Deployment, by *uuid.UUID) (store.Deployment, error) {
	return d.st.CreateDeployment(ctx, a.ID, store.NewDeployment{Kind: "rollback", Trigger: "manual", Image: target.Image, RollbackOf: &target.ID, CreatedBy: by})
}

// acceptSettings accepts any plugin settings.
type acceptSettings struct{}

func (acceptSettings) ConfigurePlugin(context.Context, string, json.RawMessage) error { return nil }

func newMatrixHarness(t *testing.T) *matrixHarness {
	h := newHarness(t)
	box, _ := secrets.New(testKey)
	prov := providers{fake: h.provider, plugins: h.plugins}
	hooks := webhook.New(webhook.Options{Store: h.store, Providers: prov, Deployer: h.deployer})
	fake := &fakeDatabases{st: h.store}
	svc := service.New(service.Deps{Store: h.store, Deployer: authzDeployer{h.deployer}, Data: service.DataDeps{Ops: fake, Jobs: fake},
		Notifiers: &fakeNotifiers{}})
	h.srv = api.New(api.Options{Store: h.store, CSRFKey: box.Derive("csrf"), Webhooks: hooks, GitProviders: prov,
		PublicURL: "https://berth.example.com", Plugins: backupPlugins{}, Services: svc,
		Deployer: authzDeployer{h.deployer}, PluginSettings: acceptSettings{},
		RuntimeLogs: &fakeRuntimeLogs{}, // issue 17, logs
	})
	return &matrixHarness{harness: h}
}

func (m *matrixHarness) unique(prefix string) string {
	m.n++
	return fmt.Sprintf("%s-%d", prefix, m.n)
}

// key creates an API key for user straight in the store.
func (m *matrixHarness) key(user uuid.UUID) string {
	m.t.Helper()
	token := auth.NewToken(auth.APIKeyPrefix)
	if _, err := m.store.CreateAPIKey(context.Background(), user, "matrix", token, nil); err != nil {
		m.t.Fatal(err)
	}
	return token
}

// user creates a user with role in org (hashes are never checked: callers
// use API keys).
func (m *matrixHarness) user(org uuid.UUID, name string, role store.Role) store.User {
	m.t.Helper()
	u, err := m.store.CreateUser(context.Background(), org, name+"@example.com", name, "unused", role)
	if err != nil {
		m.t.Fatal(err)
	}
	return u
}

// org makes an organization owned by a new user, who is a member of
// nothing else, with one resource of every kind.
func (m *matrixHarness) org(host uuid.UUID, name string) matrixOrg {
	m.t.Helper()
	ctx := context.Background()
	owner := m.user(host, "owner-"+name, store.RoleViewer)
	o, err := m.store.CreateOrganization(ctx, "Org "+name, owner.ID)
	if err != nil {
		m.t.Fatal(err)
	}
	if err := m.store.RemoveMember(ctx, host, owner.ID); err != nil {
		m.t.Fatal(err)
	}
	mo := matrixOrg{name: name, id: o.ID, ownerKey: m.key(owner.ID), ids: matrixIDs{"organizations": o.ID.String(), "plugins": "backup.s3", "servers": "fixture-node", "key": "FIXTURE_VAR"}}
	// metrics: a measured server (a Swarm node, not an organization's)
	if err := m.store.WriteMetrics(ctx, nil, []store.MetricServer{{NodeID: "fixture-node", Name: "vm", SeenAt: time.Now()}}); err != nil {
		m.t.Fatal(err)
	}
	k := mo.ownerKey
	var proj api.ProjectWithEnvironments
	m.must(201, m.do("POST", "/api/v1/projects", k, map[string]any{"organization_id": o.ID, "name": "shop-" + name})).json(m.t, &proj)
	mo.ids["projects"], mo.ids["environments"] = proj.ID.String(), proj.Environments[0].ID.String()
	var app store.Application
	m.must(201, m.do("POST", "/api/v1/environments/"+mo.ids["environments"]+"/applications", k, map[string]any{
		"name": "web", "git_repository": "https://example.com/shop.git", "git_ref": "main", "port": 8080})).json(m.t, &app)
	mo.ids["applications"] = app.ID.String()
	var dom store.Domain
	m.must(201, m.do("POST", "/api/v1/applications/"+app.ID.String()+"/domains", k, map[string]any{"host": "shop-" + name + ".example.com"})).json(m.t, &dom)
	mo.ids["domains"] = dom.ID.String()
	mo.ids["deployments"] = m.finishedDeployment(k, app.ID.String())
	var db store.Database
	m.must(201, m.do("POST", "/api/v1/environments/"+mo.ids["environments"]+"/databases", k, map[string]any{"name": "main", "engine": "postgres"})).json(m.t, &db)
	mo.ids["databases"] = db.ID.String()
	var dest store.BackupDestination
	m.must(201, m.do("POST", "/api/v1/organizations/"+o.ID.String()+"/backup-destinations", k, map[string]any{"name": "bucket", "plugin_id": "backup.s3",
		"settings": map[string]any{"bucket": "backups", "access_key_id": "AKIA", "secret_access_key": destSecret}})).json(m.t, &dest)
	mo.ids["backup-destinations"] = dest.ID.String()
	var ch store.NotificationChannel
	m.must(201, m.do("POST", "/api/v1/organizations/"+o.ID.String()+"/notification-channels", k, map[string]any{"name": "ops", "plugin_id": "notifier.hook",
		"settings": map[string]any{"url": "https://hooks.example.com/x", "token": destSecret}, "events": []string{"deploy.failed"}})).json(m.t, &ch)
	mo.ids["notification-channels"] = ch.ID.String()
	// Alert rules (alerts feature).
	var rule store.AlertRule
	m.must(201, m.do("POST", "/api/v1/applications/"+app.ID.String()+"/alert-rules", k, map[string]any{"metric": "cpu_percent", "threshold": 90})).json(m.t, &rule)
	mo.ids["alert-rules"] = rule.ID.String()
	var pol store.BackupPolicy
	m.must(201, m.do("POST", "/api/v1/databases/"+db.ID.String()+"/backup-policies", k, map[string]any{"destination_id": dest.ID, "schedule": "0 3 * * *"})).json(m.t, &pol)
	mo.ids["backup-policies"] = pol.ID.String()
	var b store.Backup
	m.must(202, m.do("POST", "/api/v1/backup-policies/"+pol.ID.String()+"/run", k, nil)).json(m.t, &b)
	if err := m.store.FinishBackup(ctx, b.ID, store.BackupSucceeded, "k/postgres/main/x.dump.gz", 10, "aa", ""); err != nil {
		m.t.Fatal(err)
	}
	mo.ids["backups"] = b.ID.String()
	rs, err := m.store.CreateRestore(ctx, store.NewRestore{OrganizationID: o.ID, Kind: "database", DatabaseID: &db.ID, BackupID: &b.ID,
		TargetName: db.Name}, func(context.Context, pgx.Tx, store.Restore) (int64, error) { return 0, nil })
	if err != nil {
		m.t.Fatal(err)
	}
	if _, err := m.store.FinishRestore(ctx, rs.ID, store.RestoreSucceeded, "done", ""); err != nil {
		m.t.Fatal(err)
	}
	mo.ids["restores"] = rs.ID.String()
	var conn store.GitConnection
	m.must(201, m.do("POST", "/api/v1/git-connections", k, map[string]any{"organization_id": o.ID.String(), "name": "conn", "provider": "example",
		"credentials": map[string]any{"token": "good-token"}})).json(m.t, &conn)
	mo.ids["git-connections"] = conn.ID.String()
	for _, scope := range []string{"projects", "environments", "applications"} {
		m.must(200, m.do("PUT", "/api/v1/"+scope+"/"+mo.ids[scope]+"/variables/FIXTURE_VAR", k, map[string]any{"value": variableValue}))
	}
	var info api.ConnectionInfo
	m.must(200, m.do("GET", "/api/v1/databases/"+db.ID.String()+"/connection", k, nil)).json(m.t, &info)
	mo.dbPassword = info.Password
	var hook api.WebhookInfo
	m.must(200, m.do("GET", "/api/v1/applications/"+app.ID.String()+"/webhook", k, nil)).json(m.t, &hook)
	if hook.Secret == "" {
		m.t.Fatal("the owner is not shown the webhook secret")
	}
	mo.webhookSecret = hook.Secret
	mo.ids["user_id"] = m.user(o.ID, "spare-"+name, store.RoleViewer).ID.String()
	mo.ids["users"] = mo.ids["user_id"]
	mo.ids["api-keys"] = m.apiKey(k)
	return mo
}

// finishedDeployment deploys app through the API and records it succeeded.
func (m *matrixHarness) finishedDeployment(key, app string) string {
	m.t.Helper()
	var d store.Deployment
	m.must(202, m.do("POST", "/api/v1/applications/"+app+"/deployments", key, nil)).json(m.t, &d)
	if err := m.store.FinishDeployment(context.Background(), d.ID, store.DeploymentResult{Status: store.DeploymentSucceeded, Image: "berth/web:" + d.ID.String()}); err != nil {
		m.t.Fatal(err)
	}
	return d.ID.String()
}

// apiKey creates an API key of the caller through the API.
func (m *matrixHarness) apiKey(key string) string {
	m.t.Helper()
	var created api.CreatedAPIKey
	m.must(201, m.do("POST", "/api/v1/api-keys", key, map[string]any{"name": "extra"})).json(m.t, &created)
	return created.ID.String()
}

// created posts body to path as the owner of o and returns the new id.
func (m *matrixHarness) created(o matrixOrg, path string, body any) string {
	m.t.Helper()
	r := m.do("POST", path, o.ownerKey, body)
	if r.Status != 201 {
		m.t.Fatalf("fresh resource: POST %s: %d %s", path, r.Status, r.Body)
	}
	var v struct {
		ID uuid.UUID `json:"id"`
	}
	r.json(m.t, &v)
	return v.ID.String()
}

// matrixBodies builds a minimal valid request body per route that takes
// one, from the ids of the organization the request targets.
var matrixBodies = map[string]func(m *matrixHarness, ids matrixIDs) any{
	"PATCH /api/v1/users/me":          func(*matrixHarness, matrixIDs) any { return map[string]any{"name": "Renamed"} },
	"POST /api/v1/api-keys":           func(*matrixHarness, matrixIDs) any { return map[string]any{"name": "k"} },
	"PATCH /api/v1/users/:id":         func(*matrixHarness, matrixIDs) any { return map[string]any{"instance_admin": false} },
	"PUT /api/v1/instance/settings":   func(*matrixHarness, matrixIDs) any { return map[string]any{"allow_organization_creation": true} },
	"POST /api/v1/organizations":      func(m *matrixHarness, _ matrixIDs) any { return map[string]any{"name": m.unique("org")} },
	"PATCH /api/v1/organizations/:id": func(*matrixHarness, matrixIDs) any { return map[string]any{"name": "Renamed org"} },
	"POST /api/v1/organizations/:id/members": func(m *matrixHarness, _ matrixIDs) any {
		return map[string]any{"email": m.unique("new") + "@example.com", "name": "New", "password": password, "role": "viewer"}
	},
	"PATCH /api/v1/organizations/:id/members/:user_id": func(*matrixHarness, matrixIDs) any { return map[string]any{"role": "viewer"} },
	"POST /api/v1/projects": func(m *matrixHarness, ids matrixIDs) any {
		return map[string]any{"organization_id": ids["organizations"], "name": m.unique("p")}
	},
	"PATCH /api/v1/projects/:id": func(*matrixHarness, matrixIDs) any { return map[string]any{"description": "changed"} },
	"POST /api/v1/projects/:id/environments": func(m *matrixHarness, _ matrixIDs) any {
		return map[string]any{"name": m.unique("env")}
	},
	"PATCH /api/v1/environments/:id": func(*matrixHarness, matrixIDs) any { return map[string]any{"name": "production"} },
	"POST /api/v1/environments/:id/applications": func(m *matrixHarness, _ matrixIDs) any {
		return map[string]any{"name": m.unique("app"), "image": "nginx:1", "port": 80}
	},
	"PATCH /api/v1/applications/:id": func(*matrixHarness, matrixIDs) any { return map[string]any{"replicas": 1} },
	// Leaving needs no page server (the harness has no Docker).
	"PUT /api/v1/applications/:id/maintenance": func(*matrixHarness, matrixIDs) any {
		return map[string]any{"enabled": false, "retry_after_seconds": 60}
	},
	"POST /api/v1/applications/:id/domains": func(m *matrixHarness, _ matrixIDs) any {
		return map[string]any{"host": m.unique("d") + ".example.com"}
	},
	"PATCH /api/v1/domains/:id":                 func(*matrixHarness, matrixIDs) any { return map[string]any{"https": "none"} },
	"POST /api/v1/applications/:id/deployments": func(*matrixHarness, matrixIDs) any { return map[string]any{} },
	"POST /api/v1/environments/:id/databases": func(m *matrixHarness, _ matrixIDs) any {
		return map[string]any{"name": m.unique("db"), "engine": "redis"}
	},
	"PATCH /api/v1/databases/:id": func(*matrixHarness, matrixIDs) any { return map[string]any{"cpu_limit": 1} },
	"POST /api/v1/databases/:id/restore": func(_ *matrixHarness, ids matrixIDs) any {
		return map[string]any{"backup_id": ids["backups"]}
	},
	"POST /api/v1/databases/:id/backup-policies": func(_ *matrixHarness, ids matrixIDs) any {
		return map[string]any{"destination_id": ids["backup-destinations"], "schedule": "@daily"}
	},
	"POST /api/v1/applications/:id/backup-policies": func(_ *matrixHarness, ids matrixIDs) any {
		return map[string]any{"destination_id": ids["backup-destinations"], "schedule": "@daily"}
	},
	"POST /api/v1/applications/:id/restore": func(_ *matrixHarness, ids matrixIDs) any {
		return map[string]any{"backup_id": ids["backups"]}
	},
	"PATCH /api/v1/backup-policies/:id": func(*matrixHarness, matrixIDs) any { return map[string]any{"enabled": true} },
	"POST /api/v1/organizations/:id/backup-destinations": func(m *matrixHarness, _ matrixIDs) any {
		return map[string]any{"name": m.unique("dest"), "plugin_id": "backup.local"}
	},
	"PATCH /api/v1/backup-destinations/:id": func(*matrixHarness, matrixIDs) any { return map[string]any{"name": "bucket"} },
	"POST /api/v1/organizations/:id/notification-channels": func(m *matrixHarness, _ matrixIDs) any {
		return map[string]any{"name": m.unique("chan"), "plugin_id": "notifier.hook", "settings": map[string]any{"url": "https://hooks.example.com/y"},
			"events": []string{"deploy.succeeded"}}
	},
	"PATCH /api/v1/notification-channels/:id": func(*matrixHarness, matrixIDs) any { return map[string]any{"name": "ops"} },
	// Alert rules (alerts feature).
	"POST /api/v1/applications/:id/alert-rules": func(*matrixHarness, matrixIDs) any {
		return map[string]any{"metric": "memory_percent", "threshold": 80}
	},
	"POST /api/v1/databases/:id/alert-rules": func(*matrixHarness, matrixIDs) any {
		return map[string]any{"metric": "restarts_per_hour", "threshold": 3}
	},
	"POST /api/v1/servers/alert-rules": func(*matrixHarness, matrixIDs) any {
		return map[string]any{"metric": "disk_percent", "threshold": 90, "subject": "/"}
	},
	"PATCH /api/v1/alert-rules/:id":    func(*matrixHarness, matrixIDs) any { return map[string]any{"threshold": 95} },
	"PUT /api/v1/plugins/:id/settings": func(*matrixHarness, matrixIDs) any { return map[string]any{"settings": map[string]any{}} },
	"POST /api/v1/git-connections": func(m *matrixHarness, ids matrixIDs) any {
		return map[string]any{"organization_id": ids["organizations"], "name": m.unique("conn"), "provider": "example",
			"credentials": map[string]any{"token": "good-token"}}
	},
	"PATCH /api/v1/git-connections/:id": func(*matrixHarness, matrixIDs) any { return map[string]any{"name": "conn"} },
}

// matrixBody finds the body builder of a route; the variable routes of the
// three scopes share theirs.
func matrixBody(id string) (func(*matrixHarness, matrixIDs) any, bool) {
	switch {
	case strings.HasPrefix(id, "PUT ") && strings.HasSuffix(id, "/variables"):
		return func(*matrixHarness, matrixIDs) any {
			return map[string]any{"variables": map[string]string{"FIXTURE_VAR": variableValue}}
		}, true
	case strings.HasPrefix(id, "PUT ") && strings.HasSuffix(id, "/variables/:key"):
		return func(*matrixHarness, matrixIDs) any { return map[string]any{"value": variableValue} }, true
	}
	b, ok := matrixBodies[id]
	return b, ok
}

// matrixFresh makes, for a destructive route, a new resource in o for a
// caller the route serves, so the fixture survives; it returns the ids to
// use. A nil entry marks a route that cannot destroy the fixture (deleting
// a non-empty organization is a conflict).
var matrixFresh = map[string]func(m *matrixHarness, o matrixOrg, caller string) matrixIDs{
	"DELETE /api/v1/api-keys/:id": func(m *matrixHarness, o matrixOrg, caller string) matrixIDs {
		return o.ids.with("api-keys", m.apiKey(caller))
	},
	"DELETE /api/v1/organizations/:id": nil,
	"DELETE /api/v1/organizations/:id/members/:user_id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("user_id", m.user(o.id, m.unique("leaving"), store.RoleViewer).ID.String())
	},
	"DELETE /api/v1/projects/:id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("projects", m.created(o, "/api/v1/projects", map[string]any{"organization_id": o.id, "name": m.unique("p")}))
	},
	"DELETE /api/v1/environments/:id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("environments", m.created(o, "/api/v1/projects/"+o.ids["projects"]+"/environments", map[string]any{"name": m.unique("env")}))
	},
	"DELETE /api/v1/applications/:id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("applications", m.created(o, "/api/v1/environments/"+o.ids["environments"]+"/applications",
			map[string]any{"name": m.unique("app"), "image": "nginx:1", "port": 80}))
	},
	"DELETE /api/v1/domains/:id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("domains", m.created(o, "/api/v1/applications/"+o.ids["applications"]+"/domains", map[string]any{"host": m.unique("d") + ".example.com"}))
	},
	"DELETE /api/v1/deployments/:id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("deployments", m.finishedDeployment(o.ownerKey, o.ids["applications"]))
	},
	"DELETE /api/v1/databases/:id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("databases", m.created(o, "/api/v1/environments/"+o.ids["environments"]+"/databases", map[string]any{"name": m.unique("db"), "engine": "redis"}))
	},
	"DELETE /api/v1/backup-policies/:id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("backup-policies", m.created(o, "/api/v1/databases/"+o.ids["databases"]+"/backup-policies",
			map[string]any{"destination_id": o.ids["backup-destinations"], "schedule": "@daily"}))
	},
	"DELETE /api/v1/backup-destinations/:id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("backup-destinations", m.created(o, "/api/v1/organizations/"+o.id.String()+"/backup-destinations",
			map[string]any{"name": m.unique("dest"), "plugin_id": "backup.local"}))
	},
	"DELETE /api/v1/notification-channels/:id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("notification-channels", m.created(o, "/api/v1/organizations/"+o.id.String()+"/notification-channels",
			map[string]any{"name": m.unique("chan"), "plugin_id": "notifier.hook", "settings": map[string]any{"url": "https://hooks.example.com/z"},
				"events": []string{"deploy.succeeded"}}))
	},
	"DELETE /api/v1/alert-rules/:id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("alert-rules", m.created(o, "/api/v1/applications/"+o.ids["applications"]+"/alert-rules",
			map[string]any{"metric": "cpu_percent", "threshold": 50}))
	},
	"DELETE /api/v1/git-connections/:id": func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
		return o.ids.with("git-connections", m.created(o, "/api/v1/git-connections", map[string]any{"organization_id": o.id.String(),
			"name": m.unique("conn"), "provider": "example", "credentials": map[string]any{"token": "good-token"}}))
	},
}

// freshFor finds the fresh-resource maker of a destructive route; every
// DELETE route needs one (the variable routes of all scopes share theirs).
func freshFor(id string) (func(*matrixHarness, matrixOrg, string) matrixIDs, bool) {
	if strings.HasPrefix(id, "DELETE ") && strings.HasSuffix(id, "/variables/:key") {
		return func(m *matrixHarness, o matrixOrg, _ string) matrixIDs {
			k := strings.ToUpper(strings.ReplaceAll(m.unique("GONE"), "-", "_"))
			path := o.ids.fill(m.t, strings.TrimPrefix(id, "DELETE "))
			path = strings.TrimSuffix(path, "/FIXTURE_VAR") + "/" + k
			m.must(200, m.do("PUT", path, o.ownerKey, map[string]any{"value": "v"}))
			return o.ids.with("key", k)
		}, true
	}
	f, ok := matrixFresh[id]
	if !ok && !strings.HasPrefix(id, "DELETE ") {
		return nil, true
	}
	return f, ok
}

// TestAuthorizationMatrixDeclared fails naming every route that does not
// declare who may call it, and every served route missing from the table.
func TestAuthorizationMatrixDeclared(t *testing.T) {
	srv := api.New(api.Options{}) // the route table only: no database needed
	declared := map[string]bool{}
	for _, r := range srv.Routes() {
		id := r.Method + " " + r.Path
		declared[id] = true
		if r.Public || r.Webhook {
			if r.Access != (api.Access{}) {
				t.Errorf("route %s is public or a webhook and also declares Access %+v", id, r.Access)
			}
			continue
		}
		a := r.Access
		kinds := 0
		for _, set := range []bool{a.Role != "", a.InstanceAdmin, a.Self} {
			if set {
				kinds++
			}
		}
		switch {
		case kinds == 0:
			t.Errorf("route %s declares no Access: set Role, InstanceAdmin or Self in its route table entry", id)
		case kinds > 1:
			t.Errorf("route %s declares several kinds of Access %+v: pick one", id, a)
		case a.Role != "" && a.Role.Rank() == 0:
			t.Errorf("route %s declares unknown role %q", id, a.Role)
		}
	}
	// The API description tells clients the same.
	var doc struct {
		Paths map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(mustJSON(t, srv.OpenAPI()), &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Routes() {
		got := doc.Paths[api.OpenAPIPath(r.Path)][strings.ToLower(r.Method)]["x-berth-access"]
		if want := r.Access.String(); want != "" && got != want {
			t.Errorf("route %s %s: x-berth-access %v in the API description, want %q", r.Method, r.Path, got, want)
		}
	}
	for _, r := range srv.App().GetRoutes(true) {
		if r.Method == "HEAD" || r.Path == "/" || r.Path == "/api" {
			continue
		}
		if id := r.Method + " " + r.Path; !declared[id] {
			t.Errorf("route %s is served but not in the route table, so it declares no Access", id)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestAuthorizationMatrix runs every route as every kind of caller against
// organization A's resources and, for A's members, organization B's.
func TestAuthorizationMatrix(t *testing.T) {
	start := time.Now()
	m := newMatrixHarness(t)
	ctx := context.Background()
	root, host, err := m.store.Setup(ctx, store.SetupInput{Email: "root@example.com", Name: "Root", PasswordHash: "unused", Organization: "Host"})
	if err != nil {
		t.Fatal(err)
	}
	// Organization creation is open on this instance, so POST
	// /organizations serves every signed-in caller (its refusal when closed
	// is in the tenant-escape suite).
	if _, err := m.store.UpdateInstanceSettings(ctx, store.InstanceSettings{AllowOrganizationCreation: true}, root.ID); err != nil {
		t.Fatal(err)
	}
	a, b := m.org(host.ID, "a"), m.org(host.ID, "b")
	callers := []matrixCaller{{name: "outsider", key: b.ownerKey}, {name: "instance-admin", instanceAdmin: true, key: m.key(root.ID)}}
	for _, role := range []store.Role{store.RoleViewer, store.RoleMember, store.RoleAdmin, store.RoleOwner} {
		u := m.user(a.id, "caller-"+string(role), role)
		callers = append(callers, matrixCaller{name: string(role), role: role, key: m.key(u.ID)})
	}
	// Instance-wide plugin settings are for instance administrators only.
	if err := m.store.SetPluginSettings(ctx, "backup.s3", json.RawMessage(`{"endpoint": "`+pluginSentinel+`"}`), root.ID); err != nil {
		t.Fatal(err)
	}
	// B's ids that a caller of A must never see in an answer.
	var bIDs []string
	for k, v := range b.ids {
		if _, err := uuid.Parse(v); err == nil && k != "api-keys" {
			bIDs = append(bIDs, v)
		}
	}

	checked := 0
	for _, r := range m.srv.Routes() {
		id := r.Method + " " + r.Path
		if r.Public || r.Webhook {
			continue
		}
		if r.Access == (api.Access{}) {
			t.Errorf("route %s declares no Access: set Role, InstanceAdmin or Self in its route table entry", id)
			continue
		}
		body, ok := matrixBody(id)
		if r.Body != nil && !ok {
			t.Errorf("route %s takes a body: add a minimal valid one to matrixBodies", id)
			continue
		}
		fresh, ok := freshFor(id)
		if !ok {
			t.Errorf("route %s deletes something: add a maker of a fresh resource to matrixFresh (or nil if it cannot destroy the fixture)", id)
			continue
		}
		send := func(t *testing.T, c matrixCaller, ids matrixIDs) response {
			var payload any
			if body != nil {
				payload = body(m, ids)
			}
			return m.do(r.Method, ids.fill(t, r.Path)+ids.filters(r.Query), c.key, payload)
		}
		t.Run(id, func(t *testing.T) {
			for _, c := range callers {
				want := expectedStatus(r.Access, c)
				ids := a.ids
				if want == 0 && fresh != nil {
					ids = fresh(m, a, c.key)
				}
				resp := send(t, c, ids)
				checked++
				if !c.instanceAdmin && strings.Contains(string(resp.Body), pluginSentinel) {
					t.Errorf("%s sees the instance's saved plugin settings", c.name)
				}
				checkSecrets(t, c, a, b, true, resp)
				switch {
				case want == 0 && !served(resp.Status):
					t.Errorf("%s on organization A: status %d, want it served (access %+v): %s", c.name, resp.Status, r.Access, resp.Body)
				case want != 0 && resp.Status != want:
					t.Errorf("%s on organization A: status %d, want %d (access %+v): %s", c.name, resp.Status, want, r.Access, resp.Body)
				}
				if (c.role == "" && !c.instanceAdmin) || r.Access.InstanceAdmin {
					continue // B's owner is at home in B; instance routes name no tenant
				}
				// Organization B's resources: nothing exists for a member of A.
				resp = send(t, c, b.ids)
				checked++
				checkSecrets(t, c, a, b, false, resp)
				if r.Access.Self {
					if resp.Status >= 500 {
						t.Errorf("%s on organization B: status %d: %s", c.name, resp.Status, resp.Body)
					}
					for _, bid := range bIDs {
						if strings.Contains(string(resp.Body), bid) {
							t.Errorf("%s on organization B: the answer shows B's id %s: %s", c.name, bid, resp.Body)
						}
					}
					continue
				}
				if resp.Status != 404 {
					t.Errorf("%s on organization B: status %d, want 404: %s", c.name, resp.Status, resp.Body)
				}
			}
		})
	}
	t.Logf("%d requests in %s", checked, time.Since(start).Round(time.Millisecond))
}
