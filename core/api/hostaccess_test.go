package api_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/providers/backup/local/local"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Ports the escape suite's server says berth and Traefik use.
var testReservedPorts = map[string]int{"the berth API": 7080, "Traefik HTTP": 80, "Traefik HTTPS": 443, "Traefik's API": 8081}

// installedPlugins lists backup.local with its real settings schema (which
// marks directory as a host path) and a notifier.
type installedPlugins struct{ localSchema json.RawMessage }

func (p installedPlugins) ListPlugins(context.Context) ([]api.PluginInfo, error) {
	return []api.PluginInfo{
		{ID: local.ID, Kind: "backup", Version: local.Version, Schema: p.localSchema},
		{ID: "notifier.webhook", Kind: "notifier", Version: "1.0.0", Schema: json.RawMessage(`{"type":"object"}`)},
	}, nil
}

func (installedPlugins) ConfigurePlugin(_ context.Context, id string, _ json.RawMessage) error {
	if id != "notifier.webhook" && id != local.ID {
		return api.ErrUnknownPlugin
	}
	return nil
}

// newHostHarness is the API as core/app wires it for host access: a guard
// reserving berth's and Traefik's ports, installed plugins with schemas.
func newHostHarness(t *testing.T) *harness {
	t.Helper()
	schema, err := new(local.Target).ConfigSchema(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	plugins := installedPlugins{localSchema: schema.Settings}
	return newHarness(t, func(o *api.Options) {
		o.HostAccess = hostaccess.NewGuard(o.Store, testReservedPorts)
		o.Plugins, o.PluginSettings = plugins, plugins
	})
}

// tenancy is an instance administrator and an ordinary user who owns an
// organization of their own, each with a project, an application and a
// database.
type tenancy struct {
	admin, tenant             string // API keys
	adminOrg, tenantOrg       string
	adminEnv, tenantEnv       string
	tenantApp, tenantDB       string
	adminApp, adminDB         string
	allowedRoot, escapingLink string
}

func (h *harness) tenancy() tenancy {
	h.t.Helper()
	var tn tenancy
	tn.admin = h.setup()
	var org store.Organization
	h.must(201, h.do("POST", "/api/v1/organizations", tn.admin, map[string]any{"name": "Tenant"})).json(h.t, &org)
	tn.tenantOrg = org.ID.String()
	h.must(201, h.do("POST", "/api/v1/organizations/"+tn.tenantOrg+"/members", tn.admin, map[string]any{
		"email": "tenant@example.com", "name": "Tenant", "password": password, "role": "owner"}))
	// The administrator leaves: the organization is the tenant's alone.
	var me api.SessionResponse
	h.must(200, h.do("GET", "/api/v1/auth/session", tn.admin, nil)).json(h.t, &me)
	h.must(204, h.do("DELETE", "/api/v1/organizations/"+tn.tenantOrg+"/members/"+me.User.ID.String(), tn.admin, nil))
	tn.tenant = h.apiKeyFromSession(h.must(200, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "tenant@example.com", "password": password})))

	project := func(key, org, name string) (string, string) {
		var p api.ProjectWithEnvironments
		h.must(201, h.do("POST", "/api/v1/projects", key, map[string]any{"name": name, "organization_id": org})).json(h.t, &p)
		return p.OrganizationID.String(), p.Environments[0].ID.String()
	}
	for _, o := range me.Organizations {
		if o.ID.String() != tn.tenantOrg {
			tn.adminOrg = o.ID.String()
		}
	}
	_, tn.adminEnv = project(tn.admin, tn.adminOrg, "ops")
	_, tn.tenantEnv = project(tn.tenant, tn.tenantOrg, "shop")
	create := func(key, env, kind string, body map[string]any) string {
		var v struct {
			ID string `json:"id"`
		}
		h.must(201, h.do("POST", "/api/v1/environments/"+env+"/"+kind, key, body)).json(h.t, &v)
		return v.ID
	}
	tn.tenantApp = create(tn.tenant, tn.tenantEnv, "applications", map[string]any{"name": "web", "image": "nginx:1"})
	tn.adminApp = create(tn.admin, tn.adminEnv, "applications", map[string]any{"name": "web", "image": "nginx:1"})
	tn.tenantDB = create(tn.tenant, tn.tenantEnv, "databases", map[string]any{"name": "db", "engine": "postgres"})
	tn.adminDB = create(tn.admin, tn.adminEnv, "databases", map[string]any{"name": "db", "engine": "postgres"})

	dir := h.t.TempDir()
	tn.allowedRoot = filepath.Join(dir, "shared")
	if err := os.MkdirAll(filepath.Join(tn.allowedRoot, "data"), 0o755); err != nil {
		h.t.Fatal(err)
	}
	tn.escapingLink = filepath.Join(tn.allowedRoot, "escape")
	if err := os.Symlink("/etc", tn.escapingLink); err != nil {
		h.t.Fatal(err)
	}
	h.must(200, h.do("PUT", "/api/v1/instance/settings", tn.admin, map[string]any{"bind_mount_roots": []string{tn.allowedRoot}}))
	return tn
}

// fingerprint digests every row a refused change could have touched.
func (h *harness) fingerprint() string {
	h.t.Helper()
	conn, err := pgx.Connect(context.Background(), h.dbURL)
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var sum string
	err = conn.QueryRow(context.Background(), `SELECT concat_ws('|',
		(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM applications t),
		(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM databases t),
		(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM backup_destinations t),
		(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM organizations t),
		(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.user_id, t.organization_id), '')) FROM memberships t),
		(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.plugin_id), '')) FROM plugin_settings t))`).Scan(&sum)
	if err != nil {
		h.t.Fatal(err)
	}
	return sum
}

// TestTenantEscapes has an ordinary user who owns their own organization
// try every host-level power: each is refused with a 403 naming the field
// and changes nothing; an instance administrator may do each.
func TestTenantEscapes(t *testing.T) {
	h := newHostHarness(t)
	tn := h.tenancy()
	app := func(name string, extra map[string]any) map[string]any {
		body := map[string]any{"name": name, "image": "nginx:1"}
		for k, v := range extra {
			body[k] = v
		}
		return body
	}
	bind := func(src string) map[string]any {
		return map[string]any{"mounts": []map[string]any{{"type": "bind", "source": src, "target": "/host"}}}
	}
	volume := func(name string) map[string]any {
		return map[string]any{"mounts": []map[string]any{{"type": "volume", "source": name, "target": "/data"}}}
	}
	// The administrator's organization keeps data in named volumes.
	h.must(201, h.do("POST", "/api/v1/environments/"+tn.adminEnv+"/applications", tn.admin, app("files", volume("ops-data"))))
	var adminDB store.Database
	h.must(200, h.do("GET", "/api/v1/databases/"+tn.adminDB, tn.admin, nil)).json(t, &adminDB)
	port := func(published int, mode string) map[string]any {
		return map[string]any{"ports": []map[string]any{{"target": 80, "published": published, "mode": mode, "protocol": "tcp"}}}
	}
	type request struct {
		method, path string
		body         any
	}
	createApp := func(name string, extra map[string]any) func(bool) request {
		return func(tenant bool) request {
			env := tn.adminEnv
			if tenant {
				env = tn.tenantEnv
			}
			return request{"POST", "/api/v1/environments/" + env + "/applications", app(name, extra)}
		}
	}
	patch := func(kind string, body map[string]any) func(bool) request {
		return func(tenant bool) request {
			id := map[bool]map[string]string{true: {"applications": tn.tenantApp, "databases": tn.tenantDB},
				false: {"applications": tn.adminApp, "databases": tn.adminDB}}[tenant][kind]
			return request{"PATCH", "/api/v1/" + kind + "/" + id, body}
		}
	}
	createDB := func(name string, port int) func(bool) request {
		return func(tenant bool) request {
			env := tn.adminEnv
			if tenant {
				env = tn.tenantEnv
			}
			return request{"POST", "/api/v1/environments/" + env + "/databases", map[string]any{"name": name, "engine": "redis", "external_port": port}}
		}
	}
	createDest := func(name, dir string) func(bool) request {
		return func(tenant bool) request {
			org := tn.adminOrg
			if tenant {
				org = tn.tenantOrg
			}
			return request{"POST", "/api/v1/organizations/" + org + "/backup-destinations", map[string]any{"name": name, "plugin_id": "backup.local",
				"settings": map[string]any{"directory": dir}}}
		}
	}
	fixed := func(method, path string, body any) func(bool) request {
		return func(bool) request { return request{method, path, body} }
	}
	tests := []struct {
		name string
		req  func(tenant bool) request
		// field is named by the tenant's 403; status is what an instance
		// administrator gets.
		field  string
		status int
	}{
		{"bind mount of /", createApp("root", bind("/")), "mounts[0].source", 201},
		{"bind mount of the data dir", createApp("data", bind("/var/lib/berth")), "mounts[0].source", 201},
		{"bind mount of /run", createApp("run", bind("/run")), "mounts[0].source", 201},
		{"bind mount through a symlink out of an allowed root", createApp("link", bind(tn.escapingLink)), "mounts[0].source", 201},
		{"bind mount added on update", patch("applications", bind("/run")), "mounts[0].source", 200},
		{"another organization's application volume", createApp("steal", volume("ops-data")), "mounts[0].source", 201},
		{"another organization's database volume", createApp("stealdb", volume(adminDB.VolumeName)), "mounts[0].source", 201},
		{"another organization's volume on update", patch("applications", volume("ops-data")), "mounts[0].source", 200},
		{"host port 80", createApp("http", port(80, "host")), "ports[0].published", 201},
		{"host port 22", createApp("ssh", port(22, "host")), "ports[0].published", 201},
		{"host port of the berth API", createApp("api", port(7080, "host")), "ports[0].published", 201},
		{"ingress port 443", createApp("https", port(443, "ingress")), "ports[0].published", 201},
		{"placement", createApp("pinned", map[string]any{"placement": []string{"node.role==manager"}}), "placement[0]", 201},
		{"placement added on update", patch("applications", map[string]any{"placement": []string{"node.hostname==a"}}), "placement[0]", 200},
		{"local repository path", createApp("local", map[string]any{"image": "", "git_repository": "/srv/x"}), "git_repository", 201},
		{"file URL repository", createApp("file", map[string]any{"image": "", "git_repository": "file:///etc"}), "git_repository", 201},
		{"file URL repository on update", patch("applications", map[string]any{"source_type": "git", "git_repository": "file:///etc"}), "git_repository", 200},
		{"database external port below 1024", createDB("low", 993), "external_port", 201},
		{"database external port of Traefik's API", createDB("traefik", 8081), "external_port", 201},
		{"database external port on update", patch("databases", map[string]any{"external_port": 80}), "external_port", 200},
		{"backup.local at /", createDest("root", "/"), "settings.directory", 201},
		{"backup.local at the data dir", createDest("data", "/var/lib/berth"), "settings.directory", 201},
		{"plugin settings", fixed("PUT", "/api/v1/plugins/notifier.webhook/settings", map[string]any{"settings": map[string]any{"url": "http://127.0.0.1"}}), "settings", 200},
		{"organization creation with the setting off", fixed("POST", "/api/v1/organizations", map[string]any{"name": "Mine"}), "name", 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.fingerprint()
			req := tt.req(true)
			wantField(t, h.do(req.method, req.path, tn.tenant, req.body), 403, tt.field)
			if after := h.fingerprint(); after != before {
				t.Fatal("a refused request changed records")
			}
			req = tt.req(false)
			h.must(tt.status, h.do(req.method, req.path, tn.admin, req.body))
		})
	}
}

// TestTenantWithinPolicy: what the instance settings allow, tenants may do;
// what an instance administrator set up stays when a tenant edits around it.
func TestTenantWithinPolicy(t *testing.T) {
	h := newHostHarness(t)
	tn := h.tenancy()
	ctx := context.Background()
	// An unprivileged high port and a bind mount under an allowed root.
	h.must(201, h.do("POST", "/api/v1/environments/"+tn.tenantEnv+"/applications", tn.tenant, map[string]any{"name": "ok", "image": "nginx:1",
		"ports": []map[string]any{{"target": 80, "published": 18080, "mode": "host", "protocol": "tcp"}},
		"mounts": []map[string]any{{"type": "bind", "source": filepath.Join(tn.allowedRoot, "data"), "target": "/data"},
			{"type": "volume", "source": "shop-files", "target": "/files"}}}))
	// A volume of the tenant's own organization may be shared between its applications.
	h.must(201, h.do("POST", "/api/v1/environments/"+tn.tenantEnv+"/applications", tn.tenant, map[string]any{"name": "ok2", "image": "nginx:1",
		"mounts": []map[string]any{{"type": "volume", "source": "shop-files", "target": "/files"}}}))
	h.must(201, h.do("POST", "/api/v1/environments/"+tn.tenantEnv+"/databases", tn.tenant, map[string]any{"name": "high", "engine": "redis", "external_port": 16379}))
	// backup.local under a local backup root, once one is allowed.
	dest := map[string]any{"name": "disk", "plugin_id": "backup.local", "settings": map[string]any{"directory": "/srv/backups/tenant"}}
	wantField(t, h.do("POST", "/api/v1/organizations/"+tn.tenantOrg+"/backup-destinations", tn.tenant, dest), 403, "settings.directory")
	h.must(200, h.do("PUT", "/api/v1/instance/settings", tn.admin, map[string]any{"local_backup_roots": []string{"/srv/backups"}}))
	var d store.BackupDestination
	h.must(201, h.do("POST", "/api/v1/organizations/"+tn.tenantOrg+"/backup-destinations", tn.tenant, dest)).json(t, &d)
	wantField(t, h.do("PATCH", "/api/v1/backup-destinations/"+d.ID.String(), tn.tenant, map[string]any{"settings": map[string]any{"directory": "/etc"}}), 403, "settings.directory")
	h.must(200, h.do("PATCH", "/api/v1/backup-destinations/"+d.ID.String(), tn.tenant, map[string]any{"name": "disk2"}))
	// Organizations, once the instance allows it.
	h.must(200, h.do("PUT", "/api/v1/instance/settings", tn.admin, map[string]any{"allow_organization_creation": true}))
	h.must(201, h.do("POST", "/api/v1/organizations", tn.tenant, map[string]any{"name": "Second"}))

	// An instance administrator gives the tenant's application a bind mount
	// of / (as the owner of the organization they join); the tenant may
	// still change everything else, and the preview-style inheritance holds.
	a, err := h.store.GetApplication(ctx, uuid.MustParse(tn.tenantApp))
	if err != nil {
		t.Fatal(err)
	}
	spec := a.Spec()
	spec.Mounts = []store.Mount{{Type: "bind", Source: "/", Target: "/host"}}
	if _, err := h.store.UpdateApplication(ctx, a.ID, spec); err != nil {
		t.Fatal(err)
	}
	h.must(200, h.do("PATCH", "/api/v1/applications/"+tn.tenantApp, tn.tenant, map[string]any{"replicas": 2, "description": "kept mount"}))
	wantField(t, h.do("PATCH", "/api/v1/applications/"+tn.tenantApp, tn.tenant, map[string]any{
		"mounts": []map[string]any{{"type": "bind", "source": "/", "target": "/host"}, {"type": "bind", "source": "/etc", "target": "/etc2"}}}), 403, "mounts[1].source")
}

// TestInstanceAdministration covers the instance settings and user routes.
func TestInstanceAdministration(t *testing.T) {
	h := newHostHarness(t)
	tn := h.tenancy()
	var sess api.SessionResponse
	h.must(200, h.do("GET", "/api/v1/auth/session", tn.admin, nil)).json(t, &sess)
	if !sess.User.InstanceAdmin {
		t.Fatal("the setup user is not an instance administrator")
	}
	var me store.User
	h.must(200, h.do("GET", "/api/v1/users/me", tn.tenant, nil)).json(t, &me)
	if me.InstanceAdmin || me.Email != "tenant@example.com" {
		t.Fatalf("tenant's /users/me = %+v", me)
	}
	// Tenants reach none of it.
	for _, r := range []struct{ method, path string }{{"GET", "/api/v1/instance/settings"}, {"PUT", "/api/v1/instance/settings"},
		{"GET", "/api/v1/users"}, {"PATCH", "/api/v1/users/" + me.ID.String()}, {"GET", "/api/v1/plugins/notifier.webhook/settings"}} {
		h.must(403, h.do(r.method, r.path, tn.tenant, map[string]any{"instance_admin": true}))
	}
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"relative root", map[string]any{"bind_mount_roots": []string{"/srv/ok", "srv"}}, "bind_mount_roots[1]"},
		{"root of the host", map[string]any{"local_backup_roots": []string{"/"}}, "local_backup_roots[0]"},
		{"unclean root", map[string]any{"bind_mount_roots": []string{"/srv/../etc"}}, "bind_mount_roots[0]"},
		{"bad outbound entry", map[string]any{"outbound_allow": []string{"10.0.0.0/8", "http://x"}}, "outbound_allow[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantField(t, h.do("PUT", "/api/v1/instance/settings", tn.admin, tt.body), 422, tt.field)
		})
	}
	var in store.InstanceSettings
	h.must(200, h.do("PUT", "/api/v1/instance/settings", tn.admin, map[string]any{"allow_organization_creation": true,
		"local_backup_roots": []string{" /srv/backups ", "/srv/backups"}, "outbound_allow": []string{"10.0.0.5", "192.168.0.0/16", "git.internal"}})).json(t, &in)
	if !in.AllowOrganizationCreation || len(in.BindMountRoots) != 1 || strings.Join(in.LocalBackupRoots, ",") != "/srv/backups" ||
		len(in.OutboundAllow) != 3 || in.UpdatedBy == nil || *in.UpdatedBy != sess.User.ID {
		t.Fatalf("settings = %+v", in)
	}
	var users api.List[store.User]
	h.must(200, h.do("GET", "/api/v1/users", tn.admin, nil)).json(t, &users)
	if len(users.Items) != 2 {
		t.Fatalf("users = %+v", users.Items)
	}
	// The last instance administrator cannot be revoked; a second can.
	wantField(t, h.do("PATCH", "/api/v1/users/"+sess.User.ID.String(), tn.admin, map[string]any{"instance_admin": false}), 409, "instance_admin")
	var u store.User
	h.must(200, h.do("PATCH", "/api/v1/users/"+me.ID.String(), tn.admin, map[string]any{"instance_admin": true})).json(t, &u)
	if !u.InstanceAdmin {
		t.Fatal("grant did not stick")
	}
	h.must(200, h.do("GET", "/api/v1/instance/settings", tn.tenant, nil))
	h.must(200, h.do("PATCH", "/api/v1/users/"+sess.User.ID.String(), tn.tenant, map[string]any{"instance_admin": false}))
	h.must(403, h.do("GET", "/api/v1/instance/settings", tn.admin, nil))
	h.must(404, h.do("PATCH", "/api/v1/users/"+uuid.NewString(), tn.tenant, map[string]any{"instance_admin": true}))
}

// TestPreviewsInheritHostAccess: a preview keeps its parent's settings,
// chosen by someone allowed to (here a local repository an instance
// administrator set), but a fork's clone URL naming a path on the berth
// host is refused: nobody allowed asked for it.
func TestPreviewsInheritHostAccess(t *testing.T) {
	h := newHostHarness(t)
	f := h.fixture()
	_, hook, secret := h.hookedApp(f, "shop", map[string]any{"preview": map[string]any{"enabled": true, "forks": true,
		"host_pattern": "pr-{number}.shop.preview.example.com"}})
	pr := func(number int64, fork, cloneURL string) response {
		p := &prHookPayload{Number: number, Action: "opened", HeadRef: "feature", HeadCommit: strings.Repeat("c", 40),
			HeadRepository: fork, HeadCloneURL: cloneURL}
		body, headers := signedRequest("pull_request", secret, hookPayload{Repository: "team/shop", PullRequest: p})
		return h.do("POST", hook, "", body, headers...)
	}
	// The parent's own local repository (set by an instance administrator).
	h.must(202, pr(1, "", ""))
	// A fork's remote clone URL.
	h.must(202, pr(2, "mallory/shop", "https://git.example.com/mallory/shop.git"))
	for i, url := range []string{"file:///etc", "/srv/git/other", "/srv/git/shop/../../../etc"} {
		before := h.fingerprint()
		r := h.must(200, pr(int64(10+i), "mallory/shop", url))
		if !strings.Contains(string(r.Body), "git_repository") {
			t.Fatalf("fork cloning %s: %s", url, r.Body)
		}
		if h.fingerprint() != before {
			t.Fatalf("fork cloning %s created records", url)
		}
	}
}
