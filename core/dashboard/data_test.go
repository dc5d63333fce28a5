package dashboard

import (
	"context"
	"errors"
	"net/url"
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
		{"bad name", url.Values{"name": {"Main DB"}, "engine": {"postgres"}}, "name", "use lowercase letters"},
		{"unknown engine", url.Values{"name": {"x"}, "engine": {"oracle"}}, "engine", "choose one of"},
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
		{url.Values{"schedule": {"@daily"}, "destination_id": {f.database.ID.String()}}, "destination_id", "choose a backup destination"},
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
	h.databases.failNext = errors.New("checksum mismatch")
	r = member.post(dbPage+"/restore", url.Values{"backup_id": {f.backup.ID.String()}})
	h.databases.failNext = nil
	if r.Status != 502 || !strings.Contains(r.Body, "restore failed: checksum mismatch") {
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
