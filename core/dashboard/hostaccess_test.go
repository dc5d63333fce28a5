package dashboard

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// fingerprint digests every row a refused form could have touched.
func (h *harness) fingerprint() string {
	h.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.dbURL)
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close(ctx)
	var sum string
	if err := conn.QueryRow(ctx, `SELECT concat_ws('|',
		(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM applications t),
		(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM databases t),
		(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM backup_destinations t),
		(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.plugin_id), '')) FROM plugin_settings t),
		(SELECT md5(t::text) FROM instance_settings t),
		(SELECT md5(string_agg(t.id::text || t.instance_admin::text, ',' ORDER BY t.id)) FROM users t))`).Scan(&sum); err != nil {
		h.t.Fatal(err)
	}
	return sum
}

// dashTenancy is an instance administrator's and an ordinary owner's
// organizations, each with a project and an application.
type dashTenancy struct {
	admin, tenant       *client
	adminProj, tenProj  store.Project
	adminEnv, tenEnv    store.Environment
	adminApp, tenApp    store.Application
	adminOrg, tenantOrg store.Organization
}

func (h *harness) dashTenancy() dashTenancy {
	h.t.Helper()
	ctx := context.Background()
	var tn dashTenancy
	tn.admin = h.setup()
	adminID := mustUser(h.t, h, "admin@example.com")
	orgs, _, err := h.store.ListOrganizations(ctx, adminID, store.Page{})
	if err != nil || len(orgs) != 1 {
		h.t.Fatalf("organizations: %v %v", orgs, err)
	}
	tn.adminOrg = orgs[0]
	// The tenant owns an organization of their own.
	other, err := h.store.CreateOrganization(ctx, "Tenant", adminID)
	if err != nil {
		h.t.Fatal(err)
	}
	h.addUser(other.ID, "tenant@example.com", store.RoleOwner)
	if err := h.store.RemoveMember(ctx, other.ID, adminID); err != nil {
		h.t.Fatal(err)
	}
	tn.tenantOrg = other
	tn.tenant = h.signIn("tenant@example.com")
	mk := func(org uuid.UUID, name string) (store.Project, store.Environment, store.Application) {
		p, e, err := h.store.CreateProject(ctx, org, name, "")
		if err != nil {
			h.t.Fatal(err)
		}
		a, err := h.store.CreateApplication(ctx, e.ID, store.ApplicationSpec{Name: "web", SourceType: "git", GitRepository: "https://example.com/web.git",
			BuildType: "dockerfile", Replicas: 1, RuntimeSettings: store.RuntimeSettings{RestartPolicy: "any", KeepReleases: 10},
			Automation: store.DefaultAutomation()})
		if err != nil {
			h.t.Fatal(err)
		}
		return p, e, a
	}
	tn.adminProj, tn.adminEnv, tn.adminApp = mk(tn.adminOrg.ID, "ops")
	tn.tenProj, tn.tenEnv, tn.tenApp = mk(tn.tenantOrg.ID, "shop")
	return tn
}

// TestTenantEscapesThroughTheForms: every host-level power the dashboard's
// forms reach is refused for an ordinary owner with a 403 and an error on
// the field, and changes nothing; an instance administrator may use each.
func TestTenantEscapesThroughTheForms(t *testing.T) {
	h := newHarness(t)
	tn := h.dashTenancy()
	type form struct {
		path string
		form url.Values
	}
	appForm := func(name, repo string) func(bool) form {
		return func(tenant bool) form {
			p, e := tn.adminProj, tn.adminEnv
			if tenant {
				p, e = tn.tenProj, tn.tenEnv
			}
			return form{"/projects/" + p.ID.String() + "/applications", url.Values{"environment_id": {e.ID.String()}, "name": {name},
				"source_type": {"git"}, "git_repository": {repo}, "build_type": {"dockerfile"}}}
		}
	}
	appOf := func(tenant bool) string {
		if tenant {
			return appURL(tn.tenApp.ID)
		}
		return appURL(tn.adminApp.ID)
	}
	settings := func(repo string) func(bool) form {
		return func(tenant bool) form {
			return form{appOf(tenant) + "/settings", url.Values{"source_type": {"git"}, "git_repository": {repo}, "build_type": {"dockerfile"}}}
		}
	}
	automation := func(repo string) func(bool) form {
		return func(tenant bool) form {
			return form{appOf(tenant) + "/automation", url.Values{"git_repository": {repo}, "deploy_trigger": {"branch"},
				"preview_https": {"none"}, "preview_limit": {"3"}}}
		}
	}
	dbForm := func(name, port string) func(bool) form {
		return func(tenant bool) form {
			p, e := tn.adminProj, tn.adminEnv
			if tenant {
				p, e = tn.tenProj, tn.tenEnv
			}
			return form{"/projects/" + p.ID.String() + "/databases", url.Values{"environment_id": {e.ID.String()}, "name": {name},
				"engine": {"redis"}, "external_port": {port}}}
		}
	}
	destForm := func(name, dir string) func(bool) form {
		return func(tenant bool) form {
			org := tn.adminOrg.ID
			if tenant {
				org = tn.tenantOrg.ID
			}
			return form{"/orgs/" + org.String() + "/backup-destinations", url.Values{"name": {name}, "plugin_id": {"backup.local"},
				inputPrefix + "directory": {dir}}}
		}
	}
	tests := []struct {
		name  string
		req   func(tenant bool) form
		field string // the input the error follows
		msg   string
	}{
		{"local repository path", appForm("local", "/srv/x"), "git_repository", "instance administrators"},
		{"file URL repository", appForm("file", "file:///etc"), "git_repository", "instance administrators"},
		{"file URL in the settings form", settings("file:///etc"), "git_repository", "instance administrators"},
		{"local path in the git panel", automation("/srv/x"), "git_repository", "instance administrators"},
		{"database port 22", dbForm("ssh", "22"), "external_port", "below 1024"},
		{"database port of the berth API", dbForm("api", "7080"), "external_port", "the berth API"},
		{"backup.local at /", destForm("root", "/"), inputPrefix + "directory", "instance administrators"},
		{"backup.local at the data dir", destForm("data", "/var/lib/berth"), inputPrefix + "directory", "instance administrators"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.fingerprint()
			f := tt.req(true)
			r := tn.tenant.post(f.path, f.form)
			if r.Status != 403 || !strings.Contains(r.Body, tt.msg) {
				t.Fatalf("tenant: status %d, want 403 with %q:\n%.3000s", r.Status, tt.msg, r.Body)
			}
			if got := fieldBefore(r.Body, `class="field-error"`); got != tt.field {
				t.Fatalf("the error follows the input %q, want %q", got, tt.field)
			}
			if h.fingerprint() != before {
				t.Fatal("a refused form changed records")
			}
			f = tt.req(false)
			tn.admin.must(303, tn.admin.post(f.path, f.form))
		})
	}
	// Plugin settings and the instance page are for instance administrators.
	before := h.fingerprint()
	for _, path := range []string{"/plugins/notifier.webhook", "/instance/settings", "/instance/users"} {
		r := tn.tenant.post(path, url.Values{"s.url": {"https://example.com/hook"}, "bind_mount_roots": {"/"}, "user_id": {mustUser(t, h, "tenant@example.com").String()}, "instance_admin": {"true"}})
		if r.Status != 403 {
			t.Fatalf("tenant POST %s: status %d, want 403", path, r.Status)
		}
	}
	if r := tn.tenant.do("GET", "/instance", nil); r.Status != 403 {
		t.Fatalf("tenant GET /instance: status %d", r.Status)
	}
	if h.fingerprint() != before {
		t.Fatal("refused instance forms changed records")
	}
	tn.admin.must(200, tn.admin.post("/plugins/notifier.webhook", url.Values{"s.url": {"https://example.com/hook"}}))
}

// TestInstancePage: the nav link and badge show for instance administrators
// only; the settings form validates each list and saves; users are granted
// and revoked, never the last one.
func TestInstancePage(t *testing.T) {
	h := newHarness(t)
	tn := h.dashTenancy()
	home := tn.admin.must(200, tn.admin.do("GET", "/", nil)).Body
	if !strings.Contains(home, `href="/instance"`) || !strings.Contains(home, "instance administrator") {
		t.Fatal("an instance administrator's header lacks the Instance link or badge")
	}
	home = tn.tenant.must(200, tn.tenant.do("GET", "/", nil)).Body
	if strings.Contains(home, `href="/instance"`) || strings.Contains(home, "instance administrator") {
		t.Fatal("a tenant's header shows the Instance link or badge")
	}
	tn.admin.must(200, tn.admin.do("GET", "/instance", nil))
	bad := []struct{ field, value, msg string }{
		{"bind_mount_roots", "/srv/ok\nrelative", "clean absolute path"},
		{"local_backup_roots", "/", "whole host"},
		{"outbound_allow", "10.0.0.0/8\nhttp://x", "not an IP address"},
	}
	for _, b := range bad {
		r := tn.admin.post("/instance/settings", url.Values{b.field: {b.value}})
		if r.Status != 422 || !strings.Contains(r.Body, b.msg) || fieldBefore(r.Body, `class="field-error"`) != b.field {
			t.Fatalf("%s=%q: status %d, error after %q:\n%.2000s", b.field, b.value, r.Status, fieldBefore(r.Body, `class="field-error"`), r.Body)
		}
	}
	tn.admin.must(303, tn.admin.post("/instance/settings", url.Values{"allow_organization_creation": {"on"},
		"bind_mount_roots": {"/srv/shared\n\n/srv/more"}, "local_backup_roots": {"/srv/backups"}, "outbound_allow": {"git.internal"}}))
	in, err := h.store.InstanceSettings(t.Context())
	if err != nil || !in.AllowOrganizationCreation || strings.Join(in.BindMountRoots, ",") != "/srv/shared,/srv/more" ||
		strings.Join(in.LocalBackupRoots, ",") != "/srv/backups" || strings.Join(in.OutboundAllow, ",") != "git.internal" {
		t.Fatalf("saved settings = %+v %v", in, err)
	}
	// Now a tenant may keep backups under the allowed root.
	tn.tenant.must(303, tn.tenant.post("/orgs/"+tn.tenantOrg.ID.String()+"/backup-destinations", url.Values{"name": {"disk"},
		"plugin_id": {"backup.local"}, inputPrefix + "directory": {"/srv/backups/tenant"}}))

	admin, tenant := mustUser(t, h, "admin@example.com"), mustUser(t, h, "tenant@example.com")
	if r := tn.admin.post("/instance/users", url.Values{"user_id": {admin.String()}, "instance_admin": {"false"}}); r.Status != 409 {
		t.Fatalf("revoking the last instance administrator: status %d", r.Status)
	}
	tn.admin.must(303, tn.admin.post("/instance/users", url.Values{"user_id": {tenant.String()}, "instance_admin": {"true"}}))
	tn.tenant.must(200, tn.tenant.do("GET", "/instance", nil))
	tn.tenant.must(303, tn.tenant.post("/instance/users", url.Values{"user_id": {admin.String()}, "instance_admin": {"false"}}))
	if r := tn.admin.do("GET", "/instance", nil); r.Status != 403 {
		t.Fatalf("revoked administrator: status %d", r.Status)
	}
}
