package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/berth-dev/berth/core/service"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// The dashboard's authorization matrix: every route of the table × every
// kind of caller, against organization A's resources and organization B's,
// checked against what the route declares (resource and min, instanceAdmin,
// signedIn). The callers and the rule for instance administrators are the
// API's (core/api/authz_matrix_test.go): an instance administrator who is
// not a member of an organization is an outsider to it, and gets a 404.
//
// Expected answers: members of A below min get the 403 "Not allowed" page,
// non-members the 404 page; instanceAdmin routes are a 403 for everyone but
// instance administrators; signedIn routes serve anyone signed in. Served
// means anything but 401, 403, 404 and 5xx (a 303 after a form, a 422 form
// with errors, a confirmation page). Against B's resources every caller of
// A gets a 404, and signedIn pages show none of B's ids.

// dashCaller is one kind of caller, signed in with a session of its own.
type dashCaller struct {
	name          string
	role          store.Role // in organization A; empty when not a member
	instanceAdmin bool
	user          uuid.UUID
	session       string
}

// dashOrg is an organization with one of everything.
type dashOrg struct {
	id  uuid.UUID
	ids map[service.Resource]string
	// env, app, database and dest are the parents of fresh resources.
	env, app, database, dest uuid.UUID
	owner                    uuid.UUID
	// channel is a notification channel (routes name it as :channel).
	channel uuid.UUID
	// webhookSecret is the application's signing secret, for admins and
	// owners (until an admin's request replaces it).
	webhookSecret string
}

// dashMatrix is the harness plus a counter for unique names.
type dashMatrix struct {
	*harness
	n int
}

func (m *dashMatrix) unique(prefix string) string {
	m.n++
	return fmt.Sprintf("%s-%d", prefix, m.n)
}

func (m *dashMatrix) check(err error) {
	m.t.Helper()
	if err != nil {
		m.t.Fatal(err)
	}
}

// session starts a session for user straight in the store.
func (m *dashMatrix) session(user uuid.UUID) string {
	m.t.Helper()
	token := auth.NewToken(auth.SessionPrefix)
	_, err := m.store.CreateSession(context.Background(), user, token, time.Hour)
	m.check(err)
	return token
}

// client is a browser signed in with session, holding its CSRF token.
func (m *dashMatrix) client(session string) *client {
	return &client{h: m.harness, cookies: map[string]string{api.SessionCookie: session}, csrf: m.dash.csrf.Token(session)}
}

// org makes an organization owned by a new user of nothing else, with one
// resource of every kind.
func (m *dashMatrix) org(host uuid.UUID, name string) dashOrg {
	m.t.Helper()
	ctx := context.Background()
	owner, err := m.store.CreateUser(ctx, host, "owner-"+name+"@example.com", "Owner", "unused", store.RoleViewer)
	m.check(err)
	o, err := m.store.CreateOrganization(ctx, "Org "+name, owner.ID)
	m.check(err)
	m.check(m.store.RemoveMember(ctx, host, owner.ID))
	proj, env, err := m.store.CreateProject(ctx, o.ID, "shop-"+name, "")
	m.check(err)
	app, err := m.store.CreateApplication(ctx, env.ID, store.ApplicationSpec{Name: "web", SourceType: "git",
		GitRepository: "https://example.com/shop.git", GitRef: "main", BuildType: "dockerfile", Port: 8080, Replicas: 1})
	m.check(err)
	dom, err := m.store.CreateDomain(ctx, app.ID, store.DomainSpec{Host: "shop-" + name + ".example.com", HTTPS: "none"})
	m.check(err)
	dep, err := m.store.CreateDeployment(ctx, app.ID, store.NewDeployment{})
	m.check(err)
	m.check(m.store.FinishDeployment(ctx, dep.ID, store.DeploymentResult{Status: store.DeploymentSucceeded, Image: "berth/web:1"}))
	db := m.database(env.ID)
	dest := m.destination(o.ID)
	pol := m.policy(db, dest)
	conn := m.connection(o.ID)
	channel := m.channel(o.ID)
	_, err = m.store.SetVariable(ctx, store.ScopeApplication, app.ID, "FIXTURE_VAR", dashVariableValue)
	m.check(err)
	secret, err := m.store.WebhookSecret(ctx, app.ID)
	m.check(err)
	return dashOrg{channel: channel, webhookSecret: secret, id: o.ID, env: env.ID, app: app.ID, database: db, dest: dest, owner: owner.ID, ids: map[service.Resource]string{
		service.OrganizationResource: o.ID.String(), service.ProjectResource: proj.ID.String(), service.EnvironmentResource: env.ID.String(), service.ApplicationResource: app.ID.String(),
		service.DomainResource: dom.ID.String(), service.DeploymentResource: dep.ID.String(), service.DatabaseResource: db.String(), service.DestinationResource: dest.String(),
		service.ConnectionResource: conn.String(), service.PolicyResource: pol.String(),
	}}
}

func (m *dashMatrix) database(env uuid.UUID) uuid.UUID {
	m.t.Helper()
	db, err := m.store.CreateDatabase(context.Background(), env, store.DatabaseSpec{Name: m.unique("db"), Engine: "postgres", Version: "16"},
		database.Credentials{User: "shop", Password: fixtureDBPassword, Database: "shop"})
	m.check(err)
	return db.ID
}

func (m *dashMatrix) destination(org uuid.UUID) uuid.UUID {
	m.t.Helper()
	d, err := m.store.CreateBackupDestination(context.Background(), org, m.unique("dest"), "backup.s3", json.RawMessage(fixtureDestSettings))
	m.check(err)
	return d.ID
}

func (m *dashMatrix) policy(db, dest uuid.UUID) uuid.UUID {
	m.t.Helper()
	p, err := m.store.CreateBackupPolicy(context.Background(), &db, nil, dest, store.BackupPolicySpec{Schedule: "@daily", TimeZone: "UTC",
		KeepLatest: 7, Retries: 2, Enabled: true})
	m.check(err)
	return p.ID
}

func (m *dashMatrix) connection(org uuid.UUID) uuid.UUID {
	m.t.Helper()
	c, err := m.store.CreateGitConnection(context.Background(), org, store.GitConnectionSpec{Name: m.unique("conn"), Provider: "git.github",
		Credentials: store.ConnectionCredentials{Token: fixtureGitToken}})
	m.check(err)
	return c.ID
}

// channel creates a notification channel whose settings hold a
// write-only secret no page may show.
func (m *dashMatrix) channel(org uuid.UUID) uuid.UUID {
	m.t.Helper()
	ch, err := m.store.CreateNotificationChannel(context.Background(), org, "notifier.webhook", store.ChannelChange{Name: m.unique("channel"),
		Settings: json.RawMessage(`{"url": "https://hooks.example.com/x", "secret": "` + fixtureDestSecret + `"}`),
		Events:   []string{"deploy.failed"}, Enabled: true})
	m.check(err)
	return ch.ID
}

// apiKey creates an API key of user and returns its id.
func (m *dashMatrix) apiKey(user uuid.UUID) string {
	m.t.Helper()
	k, err := m.store.CreateAPIKey(context.Background(), user, m.unique("key"), auth.NewToken(auth.APIKeyPrefix), nil)
	m.check(err)
	return k.ID.String()
}

// dashCase is what one request of the matrix uses: the organization's ids
// (possibly with a fresh resource), the caller's key id and session.
type dashCase struct {
	ids     map[service.Resource]string
	org     dashOrg
	key     string // the :key of /keys/:key routes
	session string
	// channel, when set, is the :channel of the route (else the org's).
	channel string
}

// fill substitutes the route's path parameters.
func (dc dashCase) fill(t *testing.T, rt route) string {
	t.Helper()
	parts := strings.Split(rt.path, "/")
	for i, p := range parts {
		switch p {
		case ":id":
			v, ok := dc.ids[rt.resource]
			if !ok {
				t.Fatalf("route %s %s: the matrix has no fixture id for resource %s: add one to dashMatrix.org", rt.method, rt.path, rt.resource)
			}
			parts[i] = v
		case ":plugin":
			parts[i] = "notifier.webhook"
		case ":key":
			parts[i] = dc.key
		case ":channel":
			parts[i] = dc.channel
			if parts[i] == "" {
				parts[i] = dc.org.channel.String()
			}
		default:
			if strings.HasPrefix(p, ":") {
				t.Fatalf("route %s %s: the matrix does not know parameter %s: teach dashCase.fill", rt.method, rt.path, p)
			}
		}
	}
	return strings.Join(parts, "/")
}

// dashForms is the form each POST route is sent; deletes are confirmed.
// A route missing here fails the matrix, asking for one.
var dashForms = map[string]func(m *dashMatrix, dc dashCase) url.Values{
	"POST /logout": nil,
	// An empty form: a password change must not succeed (it would end the
	// caller's other sessions); the matrix checks who reaches the handler.
	"POST /account/password": nil,
	// The instance pages: settings kept as the fixture has them, and a
	// revocation from a user who holds nothing.
	"POST /instance/settings": func(*dashMatrix, dashCase) url.Values {
		return url.Values{"allow_organization_creation": {"on"}}
	},
	"POST /instance/users": func(_ *dashMatrix, dc dashCase) url.Values { // the org owner holds no instance administration
		return url.Values{"user_id": {dc.org.owner.String()}, "instance_admin": {"false"}}
	},
	"POST /projects": func(m *dashMatrix, dc dashCase) url.Values {
		return url.Values{"organization_id": {dc.ids[service.OrganizationResource]}, "name": {m.unique("p")}}
	},
	"POST /projects/:id/environments":  func(m *dashMatrix, _ dashCase) url.Values { return url.Values{"name": {m.unique("env")}} },
	"POST /projects/:id/applications":  nil,
	"POST /projects/:id/databases":     nil,
	"POST /projects/:id/delete":        confirmed,
	"POST /databases/:id/deploy":       nil,
	"POST /databases/:id/start":        nil,
	"POST /databases/:id/stop":         nil,
	"POST /databases/:id/delete":       confirmed,
	"POST /databases/:id/policies":     nil,
	"POST /databases/:id/restore":      nil,
	"POST /backup-policies/:id/run":    nil,
	"POST /backup-policies/:id/delete": confirmed,
	"POST /apps/:id/settings":          nil,
	"POST /apps/:id/variables": func(*dashMatrix, dashCase) url.Values {
		return url.Values{"key": {"FIXTURE_VAR"}, "value": {dashVariableValue}}
	},
	"POST /apps/:id/variables/delete": func(_ *dashMatrix, dc dashCase) url.Values {
		return url.Values{"key": {dc.ids[service.NoResource]}}
	},
	"POST /apps/:id/domains": func(m *dashMatrix, _ dashCase) url.Values {
		return url.Values{"host": {m.unique("d") + ".example.com"}}
	},
	// Leaving needs no page server (the harness has no Docker).
	"POST /apps/:id/maintenance": func(*dashMatrix, dashCase) url.Values {
		return url.Values{"retry_after_seconds": {"60"}}
	},
	"POST /apps/:id/deploy":                        nil,
	"POST /apps/:id/automation":                    nil,
	"POST /apps/:id/webhook-secret":                nil,
	"POST /apps/:id/deploy-token":                  nil,
	"POST /apps/:id/build-settings":                nil,
	"POST /domains/:id/delete":                     confirmed,
	"POST /deployments/:id/cancel":                 nil,
	"POST /deployments/:id/rollback":               nil,
	"POST /deployments/:id/promote":                confirmed,
	"POST /deployments/:id/abort":                  confirmed,
	"POST /plugins/:plugin":                        nil,
	"POST /orgs/:id/backup-destinations":           nil,
	"POST /backup-destinations/:id/test":           nil,
	"POST /backup-destinations/:id/delete":         confirmed,
	"POST /orgs/:id/git-connections":               nil,
	"POST /orgs/:id/notifications":                 nil,
	"POST /orgs/:id/notifications/:channel":        nil,
	"POST /orgs/:id/notifications/:channel/test":   nil,
	"POST /orgs/:id/notifications/:channel/delete": confirmed,
	"POST /git-connections/:id/test":               nil,
	"POST /git-connections/:id/delete":             confirmed,
	"POST /keys":                                   func(m *dashMatrix, _ dashCase) url.Values { return url.Values{"name": {m.unique("k")}} },
	"POST /keys/:key/revoke":                       confirmed,
	// Alert rules (alerts feature): dashFresh names the rule of the right owner.
	"POST /apps/:id/alerts":             alertForm,
	"POST /apps/:id/alerts/update":      alertChange,
	"POST /apps/:id/alerts/delete":      alertDelete,
	"POST /databases/:id/alerts":        alertForm,
	"POST /databases/:id/alerts/update": alertChange,
	"POST /databases/:id/alerts/delete": alertDelete,
	"POST /instance/alerts":             alertForm,
	"POST /instance/alerts/update":      alertChange,
	"POST /instance/alerts/delete":      alertDelete,
}

func alertForm(*dashMatrix, dashCase) url.Values {
	return url.Values{"metric": {"cpu_percent"}, "threshold": {"90"}, "duration_minutes": {"5"}, "cooldown_minutes": {"30"}}
}

func alertChange(_ *dashMatrix, dc dashCase) url.Values {
	return url.Values{"rule_id": {dc.ids[service.AlertRuleResource]}, "threshold": {"95"}}
}

func alertDelete(_ *dashMatrix, dc dashCase) url.Values {
	return url.Values{"rule_id": {dc.ids[service.AlertRuleResource]}, "confirmed": {"yes"}}
}

// alertRule creates a rule on an application, a database or the servers
// (both nil) and returns its id.
func (m *dashMatrix) alertRule(org, app, db *uuid.UUID) string {
	in := store.NewAlertRule{Scope: store.AlertScopeServer, ApplicationID: app, DatabaseID: db,
		AlertRuleChange: store.AlertRuleChange{Name: m.unique("rule"), Metric: "cpu_percent", Threshold: 90, CooldownSeconds: 1800, Enabled: true}}
	switch {
	case app != nil:
		in.Scope, in.OrganizationID = store.AlertScopeApplication, org
	case db != nil:
		in.Scope, in.OrganizationID = store.AlertScopeDatabase, org
	}
	r, err := m.store.CreateAlertRule(context.Background(), in)
	m.check(err)
	return r.ID.String()
}

// pluginSentinel is in a plugin's saved settings; only instance
// administrators may see it.
const pluginSentinel = "https://hooks.example.com/instance-secret-path"

// dashVariableValue is the fixture's variable value, for members and above.
const dashVariableValue = "variable-value-for-members"

// checkPageSecrets fails when a page shows a secret the caller may not
// read: destination settings and git credentials are write-only; variable
// values and database passwords are for members and above of their
// organization (forA tells whether the request named A's resources).
func checkPageSecrets(t *testing.T, c dashCaller, a, b dashOrg, forA bool, resp response) {
	t.Helper()
	for _, secret := range []string{fixtureDestSecret, fixtureGitToken} {
		if strings.Contains(resp.Body, secret) {
			t.Errorf("%s: the page shows a write-only secret %q", c.name, secret)
		}
	}
	if !forA || c.role.Rank() < store.RoleAdmin.Rank() {
		for _, secret := range []string{a.webhookSecret, b.webhookSecret} {
			if strings.Contains(resp.Body, secret) {
				t.Errorf("%s: the page shows the webhook secret, for admins and owners only", c.name)
			}
		}
	}
	if forA && c.role.Rank() >= store.RoleMember.Rank() {
		return
	}
	for _, secret := range []string{fixtureDBPassword, dashVariableValue} {
		if strings.Contains(resp.Body, secret) {
			t.Errorf("%s: the page shows %q, for members and above only", c.name, secret)
		}
	}
}

func confirmed(*dashMatrix, dashCase) url.Values { return url.Values{"confirmed": {"yes"}} }

// dashFresh gives a destructive route a new resource of organization o for
// each caller it serves, so the fixture survives.
var dashFresh = map[string]func(m *dashMatrix, dc *dashCase, c dashCaller){
	"POST /logout": func(m *dashMatrix, dc *dashCase, c dashCaller) { dc.session = m.session(c.user) },
	"POST /projects/:id/delete": func(m *dashMatrix, dc *dashCase, _ dashCaller) {
		p, _, err := m.store.CreateProject(context.Background(), dc.org.id, m.unique("gone"), "")
		m.check(err)
		dc.ids[service.ProjectResource] = p.ID.String()
	},
	"POST /databases/:id/delete": func(m *dashMatrix, dc *dashCase, _ dashCaller) {
		dc.ids[service.DatabaseResource] = m.database(dc.org.env).String()
	},
	"POST /backup-policies/:id/delete": func(m *dashMatrix, dc *dashCase, _ dashCaller) {
		dc.ids[service.PolicyResource] = m.policy(dc.org.database, dc.org.dest).String()
	},
	"POST /apps/:id/variables/delete": func(m *dashMatrix, dc *dashCase, _ dashCaller) {
		k := strings.ToUpper(strings.ReplaceAll(m.unique("GONE"), "-", "_"))
		_, err := m.store.SetVariable(context.Background(), store.ScopeApplication, dc.org.app, k, "v")
		m.check(err)
		dc.ids[service.NoResource] = k
	},
	"POST /domains/:id/delete": func(m *dashMatrix, dc *dashCase, _ dashCaller) {
		d, err := m.store.CreateDomain(context.Background(), dc.org.app, store.DomainSpec{Host: m.unique("gone") + ".example.com", HTTPS: "none"})
		m.check(err)
		dc.ids[service.DomainResource] = d.ID.String()
	},
	"POST /backup-destinations/:id/delete": func(m *dashMatrix, dc *dashCase, _ dashCaller) {
		dc.ids[service.DestinationResource] = m.destination(dc.org.id).String()
	},
	"POST /git-connections/:id/delete": func(m *dashMatrix, dc *dashCase, _ dashCaller) {
		dc.ids[service.ConnectionResource] = m.connection(dc.org.id).String()
	},
	"POST /keys/:key/revoke": func(m *dashMatrix, dc *dashCase, c dashCaller) { dc.key = m.apiKey(c.user) },
	"POST /orgs/:id/notifications/:channel/delete": func(m *dashMatrix, dc *dashCase, _ dashCaller) {
		dc.channel = m.channel(dc.org.id).String()
	},
	// Alert rules (alerts feature).
	"POST /apps/:id/alerts/update":      appAlertRule,
	"POST /apps/:id/alerts/delete":      appAlertRule,
	"POST /databases/:id/alerts/update": dbAlertRule,
	"POST /databases/:id/alerts/delete": dbAlertRule,
	"POST /instance/alerts/update":      serverAlertRule,
	"POST /instance/alerts/delete":      serverAlertRule,
}

func appAlertRule(m *dashMatrix, dc *dashCase, _ dashCaller) {
	dc.ids[service.AlertRuleResource] = m.alertRule(&dc.org.id, &dc.org.app, nil)
}

func dbAlertRule(m *dashMatrix, dc *dashCase, _ dashCaller) {
	dc.ids[service.AlertRuleResource] = m.alertRule(&dc.org.id, nil, &dc.org.database)
}

func serverAlertRule(m *dashMatrix, dc *dashCase, _ dashCaller) {
	dc.ids[service.AlertRuleResource] = m.alertRule(nil, nil, nil)
}

// destructive routes need an entry in dashFresh.
func destructive(rt route) bool {
	return rt.path == "/logout" || strings.HasSuffix(rt.path, "/delete") || strings.HasSuffix(rt.path, "/revoke")
}

// dashExpected is what the route's declaration promises c: 0 when it must
// be served, else the refusal status.
func dashExpected(rt route, c dashCaller) int {
	switch {
	case rt.instanceAdmin:
		if c.instanceAdmin {
			return 0
		}
		return 403
	case rt.signedIn:
		return 0
	case c.role == "":
		return 404
	case c.role.Rank() < rt.min.Rank():
		return 403
	}
	return 0
}

func dashServed(status int) bool {
	return status != 401 && status != 403 && status != 404 && status < 500
}

// TestAuthorizationMatrixDeclaredPages fails naming every dashboard route
// that does not declare who may use it.
func TestAuthorizationMatrixDeclaredPages(t *testing.T) {
	for _, rt := range (&Dashboard{}).table() { // the table only: no database needed
		id := rt.method + " " + rt.path
		kinds := 0
		for _, set := range []bool{rt.public, rt.asset, rt.instanceAdmin, rt.signedIn, rt.min != ""} {
			if set {
				kinds++
			}
		}
		switch {
		case kinds == 0:
			t.Errorf("dashboard route %s declares no access: set min (with its resource), instanceAdmin, signedIn, public or asset", id)
		case kinds > 1:
			t.Errorf("dashboard route %s declares several kinds of access: pick one", id)
		case rt.resource != service.NoResource && rt.min == "":
			t.Errorf("dashboard route %s names a %s but no min role", id, rt.resource)
		case rt.min != "" && rt.min.Rank() == 0:
			t.Errorf("dashboard route %s declares unknown role %q", id, rt.min)
		}
	}
}

// TestAuthorizationMatrixPages runs every dashboard route as every kind of
// caller, on organization A and, for A's callers, on organization B.
func TestAuthorizationMatrixPages(t *testing.T) {
	start := time.Now()
	m := &dashMatrix{harness: newHarness(t)}
	ctx := context.Background()
	root, host, err := m.store.Setup(ctx, store.SetupInput{Email: "root@example.com", Name: "Root", PasswordHash: "unused", Organization: "Host"})
	m.check(err)
	a, b := m.org(host.ID, "a"), m.org(host.ID, "b")
	callers := []dashCaller{
		{name: "outsider", user: b.owner, session: m.session(b.owner)},
		{name: "instance-admin", instanceAdmin: true, user: root.ID, session: m.session(root.ID)},
	}
	for _, role := range []store.Role{store.RoleViewer, store.RoleMember, store.RoleAdmin, store.RoleOwner} {
		u, err := m.store.CreateUser(ctx, a.id, "caller-"+string(role)+"@example.com", string(role), "unused", role)
		m.check(err)
		callers = append(callers, dashCaller{name: string(role), role: role, user: u.ID, session: m.session(u.ID)})
	}
	// Instance-wide plugin settings are for instance administrators only.
	m.check(m.store.SetPluginSettings(ctx, "notifier.webhook", json.RawMessage(`{"url": "`+pluginSentinel+`"}`), root.ID))
	var bIDs []string
	for _, v := range b.ids {
		bIDs = append(bIDs, v)
	}
	bKey := m.apiKey(b.owner)

	checked := 0
	for _, rt := range m.dash.routes {
		if rt.public || rt.asset {
			continue
		}
		id := rt.method + " " + rt.path
		form, ok := dashForms[id]
		if rt.method == "POST" && !ok {
			t.Errorf("route %s: add the form it is sent to dashForms", id)
			continue
		}
		fresh, ok := dashFresh[id]
		if destructive(rt) && !ok {
			t.Errorf("route %s destroys something: add a maker of a fresh resource to dashFresh", id)
			continue
		}
		send := func(t *testing.T, dc dashCase) response {
			cl := m.client(dc.session)
			if rt.method == "GET" {
				return cl.do("GET", dc.fill(t, rt), nil)
			}
			values := url.Values{}
			if form != nil {
				values = form(m, dc)
			}
			return cl.post(dc.fill(t, rt), values)
		}
		clone := func(o dashOrg) map[service.Resource]string {
			ids := map[service.Resource]string{}
			for k, v := range o.ids {
				ids[k] = v
			}
			return ids
		}
		t.Run(id, func(t *testing.T) {
			for _, c := range callers {
				want := dashExpected(rt, c)
				// :key is B's until dashFresh gives the caller a key of its own.
				dc := dashCase{ids: clone(a), org: a, key: bKey, session: c.session}
				if want == 0 && fresh != nil {
					fresh(m, &dc, c)
				}
				resp := send(t, dc)
				checked++
				if !c.instanceAdmin && strings.Contains(resp.Body, pluginSentinel) {
					t.Errorf("%s sees the instance's saved plugin settings", c.name)
				}
				checkPageSecrets(t, c, a, b, true, resp)
				switch {
				case want == 0 && !dashServed(resp.Status):
					t.Errorf("%s on organization A: status %d, want it served:\n%.400s", c.name, resp.Status, resp.Body)
				case want != 0 && resp.Status != want:
					t.Errorf("%s on organization A: status %d, want %d:\n%.400s", c.name, resp.Status, want, resp.Body)
				case want == 403 && !strings.Contains(resp.Body, "Not allowed"):
					t.Errorf("%s on organization A: a 403 without the Not allowed page:\n%.400s", c.name, resp.Body)
				}
				if (c.role == "" && !c.instanceAdmin) || rt.instanceAdmin {
					continue // B's owner is at home in B; instance routes name no tenant
				}
				dc = dashCase{ids: clone(b), org: b, key: bKey, session: c.session}
				if fresh != nil && !strings.Contains(rt.path, ":") {
					fresh(m, &dc, c) // names nothing of B's (signing out): keep the caller's session
				}
				resp = send(t, dc)
				checked++
				checkPageSecrets(t, c, a, b, false, resp)
				if rt.signedIn {
					if resp.Status >= 500 {
						t.Errorf("%s on organization B: status %d:\n%.400s", c.name, resp.Status, resp.Body)
					}
					for _, bid := range bIDs {
						if strings.Contains(resp.Body, bid) {
							t.Errorf("%s on organization B: the page shows B's id %s", c.name, bid)
						}
					}
					continue
				}
				if resp.Status != 404 {
					t.Errorf("%s on organization B: status %d, want 404:\n%.400s", c.name, resp.Status, resp.Body)
				}
			}
		})
	}
	t.Logf("%d requests in %s", checked, time.Since(start).Round(time.Millisecond))
}
