package dashboard

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// contains fails for each wanted string the page lacks.
func contains(t *testing.T, what, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// lacks fails for each string the page must not contain.
func lacks(t *testing.T, what, page string, leaks ...string) {
	t.Helper()
	for _, l := range leaks {
		if strings.Contains(page, l) {
			t.Errorf("%s contains %q", what, l)
		}
	}
}

// fieldErrorShown reports whether the page shows msg as a field error; the markup of an error shown next to a field.
func fieldErrorShown(body, msg string) bool {
	return strings.Contains(body, `<span class="field-error" role="alert">`) && strings.Contains(body, msg)
}

// TestDatabasePages creates, deploys, stops, backs up, restores and
// deletes a database through the pages.
func TestDatabasePages(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	h.addUser(f.org, "viewer@example.com", store.RoleViewer)
	h.addUser(f.org, "member@example.com", store.RoleMember)
	viewer := h.signIn("viewer@example.com")
	member := h.signIn("member@example.com")
	proj := "/projects/" + f.project.ID.String()
	dbPage := databaseURL(f.database.ID)

	page := member.must(200, member.do("GET", proj, nil)).Body
	contains(t, "project page", page, `href="/databases/`+f.database.ID.String()+`"`, "postgres 16", f.database.ServiceName+":5432",
		`action="/projects/`+f.project.ID.String()+`/databases"`, `<option value="redis"`)
	page = viewer.must(200, viewer.do("GET", proj, nil)).Body
	lacks(t, "viewer's project page", page, `/databases"`)

	// Validation errors are shown next to their field.
	tests := []struct {
		name       string
		form       url.Values
		field, msg string
	}{
		{"bad name", url.Values{"name": {"Main DB"}, "engine": {"postgres"}}, "name", "must be lowercase letters"},
		{"unknown engine", url.Values{"name": {"x"}, "engine": {"oracle"}}, "engine", "is not one of"},
		{"bad version", url.Values{"name": {"x"}, "engine": {"redis"}, "version": {"7 alpine"}}, "version", "not a valid image tag"},
		{"bad port", url.Values{"name": {"x"}, "engine": {"redis"}, "external_port": {"70000"}}, "external_port", "from 1 to 65535"},
		{"taken name", url.Values{"name": {"main-db"}, "engine": {"redis"}}, "name", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("environment_id", f.env.ID.String())
			r := member.post(proj+"/databases", tt.form)
			if r.Status != 422 && r.Status != 409 || !fieldErrorShown(r.Body, tt.msg) {
				t.Fatalf("status %d, want 422 with a field error %q:\n%.2000s", r.Status, tt.msg, r.Body)
			}
		})
	}
	r := member.must(303, member.post(proj+"/databases", url.Values{"environment_id": {f.env.ID.String()}, "name": {"cache"},
		"engine": {"redis"}, "memory_limit_mb": {"256"}}))
	if !strings.HasPrefix(r.Location(), "/databases/") {
		t.Fatalf("created database redirected to %q", r.Location())
	}
	page = member.must(200, member.do("GET", r.Location(), nil)).Body
	contains(t, "new database page", page, "Database cache created", "redis 7", "256 MiB")

	// Credentials: members reveal them, viewers never receive them.
	page = member.must(200, member.do("GET", dbPage, nil)).Body
	contains(t, "member's database page", page, `type="password" readonly value="`+fixtureDBPassword+`"`, "data-reveal",
		`value="postgresql://shop:`+fixtureDBPassword+"@"+f.database.ServiceName+`:5432/shop`)
	page = viewer.must(200, viewer.do("GET", dbPage, nil)).Body
	lacks(t, "viewer's database page", page, fixtureDBPassword, "/deploy\"", "/policies\"", "/restore\"", "/run\"")
	contains(t, "viewer's database page", page, f.database.ServiceName, "Credentials are secrets")

	// Deploy, stop and start wait for the services; a failure is shown.
	member.must(303, member.post(dbPage+"/deploy", nil))
	member.must(303, member.post(dbPage+"/stop", url.Values{"confirmed": {"yes"}}))
	if db, _ := h.store.GetDatabase(t.Context(), f.database.ID); db.DesiredState != store.DatabaseStopped {
		t.Errorf("stopped database's desired state is %q", db.DesiredState)
	}
	page = member.must(200, member.do("GET", dbPage, nil)).Body
	contains(t, "stopped database page", page, "Database main-db stopped.", `action="`+dbPage+`/start"`)
	h.databases.failNext = errors.New("health check timed out")
	r = member.post(dbPage+"/start", nil)
	if r.Status != 502 || !strings.Contains(r.Body, "could not be started: health check timed out") {
		t.Fatalf("failed start: status %d", r.Status)
	}
	if n := h.databases.deployed.Load(); n != 3 {
		t.Errorf("%d deploys, want 3", n)
	}

	// Backup policies: validation next to the fields, then created.
	for _, tt := range []struct {
		form       url.Values
		field, msg string
	}{
		{url.Values{"schedule": {"every day"}}, "schedule", ""},
		{url.Values{"schedule": {"@daily"}, "time_zone": {"Mars/Olympus"}}, "time_zone", ""},
		{url.Values{"schedule": {"@daily"}, "retries": {"11"}}, "retries", "from 0 to 10"},
		{url.Values{"schedule": {"@daily"}, "prefix": {"../up"}}, "prefix", "without .."},
		{url.Values{"schedule": {"@daily"}, "destination_id": {f.database.ID.String()}}, "destination_id", "no backup destination"},
	} {
		if tt.form.Get("destination_id") == "" {
			tt.form.Set("destination_id", f.dest.ID.String())
		}
		r := member.post(dbPage+"/policies", tt.form)
		if r.Status != 422 || !fieldErrorShown(r.Body, tt.msg) {
			t.Errorf("policy %v: status %d, want 422 with a field error %q", tt.form, r.Status, tt.msg)
		}
	}
	member.must(303, member.post(dbPage+"/policies", url.Values{"destination_id": {f.dest.ID.String()}, "schedule": {"0 3 * * *"},
		"time_zone": {"Europe/Paris"}, "prefix": {"/shop/prod/"}, "keep_latest": {"14"}, "retries": {"1"}, "enabled": {"on"}}))
	pols, _, err := h.store.ListBackupPolicies(t.Context(), store.PolicyFilter{Database: f.database.ID}, store.Page{})
	if err != nil || len(pols) != 2 {
		t.Fatalf("policies %v %v", pols, err)
	}
	var created store.BackupPolicy
	for _, p := range pols {
		if p.ID != f.policy.ID {
			created = p
		}
	}
	if created.Schedule != "0 3 * * *" || created.TimeZone != "Europe/Paris" || created.Prefix != "shop/prod" || created.KeepLatest != 14 ||
		created.Retries != 1 || !created.Enabled {
		t.Errorf("created policy %+v", created.BackupPolicySpec)
	}

	// The fixture's succeeded backup is listed; back up now queues one and
	// the list asks to refresh itself until it has finished.
	page = member.must(200, member.do("GET", dbPage, nil)).Body
	contains(t, "database page", page, "2.0 KiB", strings.Repeat("ab", 6), `action="`+dbPage+`/restore"`)
	lacks(t, "database page", page, "data-refresh")
	member.must(303, member.post("/backup-policies/"+f.policy.ID.String()+"/run", nil))
	page = member.must(200, member.do("GET", dbPage, nil)).Body
	contains(t, "database page after back up now", page, "Backup queued", `id="backups" data-refresh="3000"`,
		`<span class="badge s-queued">queued</span>`, "manual")

	// Restore into this database or another of the same engine only.
	other, err := h.store.CreateDatabase(t.Context(), f.env.ID, store.DatabaseSpec{Name: "staging-db", Engine: database.Postgres},
		database.Credentials{User: "u", Password: "p", Database: "d"})
	if err != nil {
		t.Fatal(err)
	}
	page = member.must(200, member.do("GET", dbPage, nil)).Body
	contains(t, "restore form", page, `<option value="`+other.ID.String()+`">staging-db</option>`)
	lacks(t, "restore form", page, `>cache</option>`)
	r = member.post(dbPage+"/restore", url.Values{"backup_id": {f.backup.ID.String()}, "target_id": {databaseID(t, h, f, "cache")}})
	if r.Status != 422 || !fieldErrorShown(r.Body, "choose a postgres database") {
		t.Fatalf("restore into a redis database: status %d", r.Status)
	}
	r = member.post(dbPage+"/restore", url.Values{"backup_id": {f.database.ID.String()}})
	if r.Status != 422 || !fieldErrorShown(r.Body, "choose a succeeded backup") {
		t.Fatalf("restore of no backup: status %d", r.Status)
	}
	member.must(303, member.post(dbPage+"/restore", url.Values{"backup_id": {f.backup.ID.String()}, "target_id": {other.ID.String()}}))
	member.must(303, member.post(dbPage+"/restore", url.Values{"backup_id": {f.backup.ID.String()}}))
	if len(h.databases.restores) != 2 || h.databases.restores[0] != other.ID || h.databases.restores[1] != f.database.ID {
		t.Errorf("restores into %v", h.databases.restores)
	}
	// The queued restore shows on the page, which refreshes while it is pending.
	page = member.must(200, member.do("GET", dbPage, nil)).Body
	contains(t, "restores", page, `id="restores" data-refresh="2000"`, `s-queued`)
	h.databases.failNext = errors.New("checksum mismatch")
	r = member.post(dbPage+"/restore", url.Values{"backup_id": {f.backup.ID.String()}})
	h.databases.failNext = nil
	if r.Status != 502 || !strings.Contains(r.Body, "restore failed: ") || !strings.Contains(r.Body, "checksum mismatch") {
		t.Fatalf("failed restore: status %d", r.Status)
	}

	// Policies are deleted by members; databases by admins, after a
	// confirmation that carries the volume choice.
	member.must(303, member.post("/backup-policies/"+created.ID.String()+"/delete", url.Values{"confirmed": {"yes"}}))
	if r := member.post(dbPage+"/delete", url.Values{"confirmed": {"yes"}}); r.Status != 403 {
		t.Fatalf("member deleting a database: status %d", r.Status)
	}
	page = admin.must(200, admin.post(dbPage+"/delete", url.Values{"delete_volume": {"on"}})).Body
	contains(t, "confirmation", page, "AND its data volume", `name="delete_volume" value="on"`)
	admin.must(303, admin.post(dbPage+"/delete", url.Values{"confirmed": {"yes"}, "delete_volume": {"on"}}))
	if len(h.databases.deleted) != 1 || !h.databases.deleted[0] {
		t.Errorf("deletes %v, want one with the volume", h.databases.deleted)
	}
	admin.must(404, admin.do("GET", dbPage, nil))
}

// databaseID returns the id of the fixture organization's database name.
func databaseID(t *testing.T, h *harness, f fixture, name string) string {
	t.Helper()
	dbs, _, err := h.store.ListDatabases(context.Background(), store.DatabaseFilter{Orgs: []uuid.UUID{f.org}}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dbs {
		if d.Name == name {
			return d.ID.String()
		}
	}
	t.Fatalf("no database %s", name)
	return ""
}

// TestOrganizationSettings adds, tests and deletes backup destinations and
// git connections; their secrets are never sent back to a browser.
func TestOrganizationSettings(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	h.addUser(f.org, "member@example.com", store.RoleMember)
	member := h.signIn("member@example.com")
	settings := orgSettingsURL(f.org)

	if r := admin.must(303, admin.do("GET", "/settings", nil)); r.Location() != settings {
		t.Fatalf("/settings redirected to %q", r.Location())
	}
	page := admin.must(200, admin.do("GET", settings, nil)).Body
	contains(t, "settings page", page, "offsite", "backup.s3", "acme on GitHub", "git.github", "token",
		`<option>backup.local</option>`, `action="/orgs/`+f.org.String()+`/git-connections"`)
	lacks(t, "settings page", page, fixtureDestSecret, fixtureGitToken, "bucket")
	page = member.must(200, member.do("GET", settings, nil)).Body
	contains(t, "member's settings page", page, `action="/backup-destinations/`+f.dest.ID.String()+`/test"`)
	lacks(t, "member's settings page", page, "/delete\"", "/git-connections\"", "New destination")

	// The destination form is the plugin's schema; secrets are write-only.
	form := admin.must(200, admin.do("GET", "/orgs/"+f.org.String()+"/backup-destinations/new?plugin=backup.s3", nil)).Body
	contains(t, "destination form", form, `name="s.bucket" value="" required`, `type="password" name="s.secret_access_key" value=""`,
		`name="plugin_id" value="backup.s3"`)
	r := admin.post("/orgs/"+f.org.String()+"/backup-destinations", url.Values{"plugin_id": {"backup.s3"}, "name": {" "},
		"s.secret_access_key": {"typed-secret-value"}})
	if r.Status != 422 || !fieldErrorShown(r.Body, "is required") {
		t.Fatalf("invalid destination: status %d:\n%.2000s", r.Status, r.Body)
	}
	lacks(t, "re-rendered destination form", r.Body, "typed-secret-value")
	r = admin.post("/orgs/"+f.org.String()+"/backup-destinations", url.Values{"plugin_id": {"backup.nope"}, "name": {"x"}})
	if r.Status != 422 {
		t.Fatalf("unknown plugin: status %d", r.Status)
	}
	if r := member.post("/orgs/"+f.org.String()+"/backup-destinations", url.Values{"plugin_id": {"backup.local"}, "name": {"disk"},
		"s.directory": {"/var/backups"}}); r.Status != 403 {
		t.Fatalf("member adding a destination: status %d", r.Status)
	}
	admin.must(303, admin.post("/orgs/"+f.org.String()+"/backup-destinations", url.Values{"plugin_id": {"backup.local"},
		"name": {"disk"}, "s.directory": {"/missing"}}))
	dests, _, _ := h.store.ListBackupDestinations(t.Context(), []uuid.UUID{f.org}, store.Page{})
	var disk store.BackupDestination
	for _, d := range dests {
		if d.Name == "disk" {
			disk = d
		}
	}
	if disk.PluginID != "backup.local" || !strings.Contains(string(disk.Settings), `"directory":"/missing"`) {
		t.Fatalf("created destination %+v settings %s", disk, disk.Settings)
	}

	// Test: the plugin's message (or failure) comes back as a message.
	member.must(303, member.post("/backup-destinations/"+f.dest.ID.String()+"/test", nil))
	contains(t, "tested destination", member.must(200, member.do("GET", settings, nil)).Body, "Test of offsite passed: wrote and removed a probe file")
	member.must(303, member.post("/backup-destinations/"+disk.ID.String()+"/test", nil))
	contains(t, "failed test", member.must(200, member.do("GET", settings, nil)).Body, "Test of disk failed: directory /missing does not exist")

	// Members cannot delete destinations; a destination in use is kept.
	if r := member.post("/backup-destinations/"+disk.ID.String()+"/delete", url.Values{"confirmed": {"yes"}}); r.Status != 403 {
		t.Fatalf("member deleting a destination: status %d", r.Status)
	}
	admin.must(303, admin.post("/backup-destinations/"+f.dest.ID.String()+"/delete", url.Values{"confirmed": {"yes"}}))
	contains(t, "in-use delete", admin.must(200, admin.do("GET", settings, nil)).Body, "Cannot delete offsite: backup destination is used by a backup policy")
	admin.must(303, admin.post("/backup-destinations/"+disk.ID.String()+"/delete", url.Values{"confirmed": {"yes"}}))
	if _, err := h.store.GetBackupDestination(t.Context(), disk.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted destination: %v", err)
	}

	// Git connections: validation next to the field, credentials never echoed.
	conns := "/orgs/" + f.org.String() + "/git-connections"
	for _, tt := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"name": {"gh"}, "provider": {"git.nope"}, "credential_kind": {"token"}, "token": {"t"}}, "choose an installed git provider"},
		{url.Values{"name": {"gh"}, "provider": {"git.github"}, "credential_kind": {"token"}}, "is required"},
		{url.Values{"name": {"gh"}, "provider": {"git.github"}, "base_url": {"ftp://x"}, "credential_kind": {"token"}, "token": {"t"}}, "http(s) URL"},
		{url.Values{"name": {"gh"}, "provider": {"git.github"}, "credential_kind": {"app"}, "app_id": {"twelve"}, "installation_id": {"1"},
			"private_key": {"typed-private-key"}}, "must be a number"},
		{url.Values{"name": {"gh"}, "provider": {"git.github"}, "credential_kind": {"app_password"}, "username": {"bob"},
			"app_password": {"typed-app-password"}, "token": {"x"}}, ""},
	} {
		r := admin.post(conns, tt.form)
		if tt.msg == "" {
			admin.must(303, r)
			continue
		}
		if r.Status != 422 || !fieldErrorShown(r.Body, tt.msg) {
			t.Errorf("connection %v: status %d, want 422 with %q", tt.form, r.Status, tt.msg)
		}
		lacks(t, "re-rendered connection form", r.Body, "typed-private-key")
	}
	admin.must(303, admin.post(conns, url.Values{"name": {"good"}, "provider": {"git.github"}, "credential_kind": {"token"}, "token": {"good"}}))
	page = admin.must(200, admin.do("GET", settings, nil)).Body
	lacks(t, "settings page", page, "typed-app-password", fixtureGitToken)
	list, _, _ := h.store.ListGitConnections(t.Context(), []uuid.UUID{f.org}, store.Page{})
	byName := map[string]store.GitConnection{}
	for _, c := range list {
		byName[c.Name] = c
	}
	if byName["gh"].Credentials.AppPassword != "typed-app-password" || byName["gh"].Credentials.Token != "" {
		t.Errorf("app password connection stored %+v", byName["gh"].Credentials)
	}
	admin.must(303, admin.post("/git-connections/"+byName["good"].ID.String()+"/test", nil))
	contains(t, "connection test", admin.must(200, admin.do("GET", settings, nil)).Body, "Test of good passed: the credentials see 2 repositories.")
	admin.must(303, admin.post("/git-connections/"+f.conn.ID.String()+"/test", nil))
	contains(t, "failed connection test", admin.must(200, admin.do("GET", settings, nil)).Body, "Test of acme on GitHub failed")
	if r := member.post("/git-connections/"+f.conn.ID.String()+"/delete", url.Values{"confirmed": {"yes"}}); r.Status != 403 {
		t.Fatalf("member deleting a connection: status %d", r.Status)
	}
	admin.must(303, admin.post("/git-connections/"+f.conn.ID.String()+"/delete", url.Values{"confirmed": {"yes"}}))
	if _, err := h.store.GetGitConnection(t.Context(), f.conn.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted connection: %v", err)
	}
}

// TestGitPanelAndPreviews edits push-to-deploy and previews, shows the
// webhook URLs, the secret to admins only and a new deploy token once.
func TestGitPanelAndPreviews(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	h.addUser(f.org, "viewer@example.com", store.RoleViewer)
	h.addUser(f.org, "member@example.com", store.RoleMember)
	viewer := h.signIn("viewer@example.com")
	member := h.signIn("member@example.com")
	app := appURL(f.app.ID)
	secret, err := h.store.WebhookSecret(t.Context(), f.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	hookURL := "https://berth.example.com/api/v1/webhooks/git/" + f.app.WebhookID

	page := admin.must(200, admin.do("GET", app, nil)).Body
	contains(t, "admin's application page", page, hookURL, `type="password" readonly value="`+secret+`"`, "Create deploy token",
		`<option value="`+f.conn.ID.String()+`">acme on GitHub (git.github)</option>`)
	page = member.must(200, member.do("GET", app, nil)).Body
	contains(t, "member's application page", page, hookURL, `action="`+app+`/automation"`)
	lacks(t, "member's application page", page, secret, "/deploy-token\"")
	page = viewer.must(200, viewer.do("GET", app, nil)).Body
	lacks(t, "viewer's application page", page, secret, f.app.WebhookID, fixtureGitToken)

	// Validation next to the fields.
	valid := url.Values{"git_connection_id": {f.conn.ID.String()}, "git_repository": {"https://github.com/acme/shop.git"},
		"git_ref": {"main"}, "auto_deploy": {"on"}, "deploy_trigger": {"branch"}, "watch_paths": {"src/**\r\n\r\ndocs/*.md"},
		"preview_enabled": {"on"}, "preview_host_pattern": {"pr-{number}.shop.example.com"}, "preview_limit": {"5"},
		"preview_https": {"none"}}
	with := func(k, v string) url.Values {
		out := url.Values{}
		for key, vals := range valid {
			out[key] = append([]string(nil), vals...)
		}
		out.Set(k, v)
		return out
	}
	for _, tt := range []struct {
		form       url.Values
		field, msg string
	}{
		{with("preview_host_pattern", "no-number.example.com"), "preview_host_pattern", ""},
		{with("preview_limit", "99"), "preview_limit", "from 1 to 50"},
		{with("deploy_trigger", "moon"), "deploy_trigger", "is not one of branch, tag"},
		{with("git_connection_id", f.app.ID.String()), "git_connection_id", "in this organization"},
		{with("git_ref", "-bad"), "git_ref", ""},
	} {
		r := member.post(app+"/automation", tt.form)
		if r.Status != 422 || !fieldErrorShown(r.Body, tt.msg) {
			t.Errorf("automation %s=%q: status %d, want 422 with a field error %q", tt.field, tt.form.Get(tt.field), r.Status, tt.msg)
		}
	}
	member.must(303, member.post(app+"/automation", valid))
	a, err := h.store.GetApplication(t.Context(), f.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.GitConnectionID == nil || *a.GitConnectionID != f.conn.ID || !a.AutoDeploy || strings.Join(a.WatchPaths, ",") != "src/**,docs/*.md" ||
		!a.Preview.Enabled || a.Preview.Limit != 5 || a.Preview.HostPattern != "pr-{number}.shop.example.com" {
		t.Errorf("saved automation %+v connection %v", a.Automation, a.GitConnectionID)
	}

	// A new deploy token is shown once; only its digest is kept.
	if r := member.post(app+"/deploy-token", url.Values{"confirmed": {"yes"}}); r.Status != 403 {
		t.Fatalf("member rotating the deploy token: status %d", r.Status)
	}
	page = admin.must(200, admin.post(app+"/deploy-token", url.Values{"confirmed": {"yes"}})).Body
	m := regexpToken.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no deploy token on the page:\n%.3000s", page)
	}
	if ok, err := h.store.CheckDeployToken(t.Context(), f.app.ID, m[1]); err != nil || !ok {
		t.Fatalf("shown token is not the deploy token: %v %v", ok, err)
	}
	page = admin.must(200, admin.do("GET", app, nil)).Body
	lacks(t, "application page after the token was shown", page, m[1])
	contains(t, "application page", page, "a token is set", "Rotate deploy token")
	admin.must(303, admin.post(app+"/webhook-secret", url.Values{"confirmed": {"yes"}}))
	if s2, _ := h.store.WebhookSecret(t.Context(), f.app.ID); s2 == secret {
		t.Errorf("webhook secret was not replaced")
	}

	// Previews: pull request, host link and the status of its latest deployment.
	a, _ = h.store.GetApplication(t.Context(), f.app.ID)
	prev, _, err := h.store.UpsertPreview(t.Context(), a, store.PreviewSpec{Number: 12, HeadRef: "feature/cart", Repository: a.GitRepository})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.CreateDomain(t.Context(), prev.ID, store.DomainSpec{Host: "pr-12.shop.example.com", HTTPS: "none"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.CreateDeployment(t.Context(), prev.ID, store.NewDeployment{}); err != nil {
		t.Fatal(err)
	}
	page = viewer.must(200, viewer.do("GET", app, nil)).Body
	contains(t, "previews list", page, `href="/apps/`+prev.ID.String()+`">#12</a>`, "feature/cart",
		`href="http://pr-12.shop.example.com"`, `<span class="badge s-deploying">deploying</span>`)
	page = admin.must(200, admin.do("GET", appURL(prev.ID), nil)).Body
	lacks(t, "preview's page", page, `action="`+appURL(prev.ID)+`/automation"`)
}

var regexpToken = regexp.MustCompile(`value="([^"]+)"[^>]*aria-label="New deploy token"`)
