package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/dbimages"
	"github.com/berth-dev/berth/test/dockertest"
)

// restoreRecord is a restore as the API returns it.
type restoreRecord struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Phase      string `json:"phase"`
	Error      string `json:"error"`
	BytesRead  int64  `json:"bytes_read"`
	BytesTotal int64  `json:"bytes_total"`
}

func (r restoreRecord) done() bool {
	return r.Status == "succeeded" || r.Status == "failed" || r.Status == "cancelled"
}

// TestRestoreSurvivesKill restores a PostgreSQL backup through the API
// (202, then followed to its end), then SIGKILLs berth in the middle of a
// second restore: after the restart that restore is failed with the
// reason, the database serves either its previous or the restored data
// (checksummed: never a mix, never empty), no temporary database is left,
// and the next restore, through the CLI, succeeds.
func TestRestoreSurvivesKill(t *testing.T) {
	images := dbimages.Ensure(t)
	s := newServer(t)

	var proj struct {
		OrganizationID string `json:"organization_id"`
		Environments   []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	s.Call("POST", "/projects", map[string]any{"name": "data"}, 201, &proj)
	var dest struct {
		ID string `json:"id"`
	}
	s.Call("POST", "/organizations/"+proj.OrganizationID+"/backup-destinations", map[string]any{
		"name": "disk", "plugin_id": "backup.local", "settings": map[string]any{"directory": dockertest.SearchableTempDir(t)}}, 201, &dest)

	var db database
	s.Call("POST", "/environments/"+proj.Environments[0].ID+"/databases", map[string]any{
		"name": "shop", "engine": "postgres", "image": images.Postgres}, 201, &db)
	s.Call("POST", "/databases/"+db.ID+"/deploy", nil, 200, nil)
	var conn struct {
		User, Password, Database string
	}
	s.Call("GET", "/databases/"+db.ID+"/connection", nil, 200, &conn)
	psql := func(sql string) string {
		t.Helper()
		return strings.TrimSpace(s.execIn(db.ServiceName, []string{"PGPASSWORD=" + conn.Password},
			"psql", "-h", "127.0.0.1", "-U", conn.User, "-d", conn.Database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql))
	}
	s.waitFor("postgres accepting connections", 60*time.Second, func() bool {
		_, err := s.execErr(db.ServiceName, []string{"PGPASSWORD=" + conn.Password},
			"psql", "-h", "127.0.0.1", "-U", conn.User, "-d", conn.Database, "-c", "select 1")
		return err == nil
	})
	// Enough rows that loading takes a moment.
	psql(`CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL);
		INSERT INTO orders SELECT g, 'item-' || g || '-' || md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 300000) g`)
	const digest = `SELECT count(*) || ':' || md5(string_agg(id || item, ',' ORDER BY id)) FROM orders`
	backedUp := psql(digest)

	var policy struct {
		ID string `json:"id"`
	}
	s.Call("POST", "/databases/"+db.ID+"/backup-policies", map[string]any{"destination_id": dest.ID, "schedule": "@yearly"}, 201, &policy)
	var b backupRecord
	s.Call("POST", "/backup-policies/"+policy.ID+"/run", nil, 202, &b)
	s.waitFor("the backup", 120*time.Second, func() bool {
		s.Call("GET", "/backups/"+b.ID, nil, 200, &b)
		if b.Status == "failed" {
			t.Fatalf("backup failed: %s", b.Error)
		}
		return b.Status == "succeeded"
	})

	// A change after the backup: the "previous data" of the restores below.
	psql(`DELETE FROM orders WHERE id > 1000; UPDATE orders SET item = 'changed' WHERE id = 1`)
	changed := psql(digest)

	// Through the API: 202 with the queued restore, then followed to its end.
	var r restoreRecord
	s.Call("POST", "/databases/"+db.ID+"/restore", map[string]any{"backup_id": b.ID}, 202, &r)
	if r.Status != "queued" || r.ID == "" {
		t.Fatalf("restore = %+v", r)
	}
	s.waitFor("the restore", 180*time.Second, func() bool {
		s.Call("GET", "/restores/"+r.ID, nil, 200, &r)
		return r.done()
	})
	if r.Status != "succeeded" || r.BytesTotal != b.SizeBytes || r.BytesRead != b.SizeBytes {
		t.Fatalf("restore ended %+v (backup of %d bytes)", r, b.SizeBytes)
	}
	if got := psql(digest); got != backedUp {
		t.Fatalf("after the restore: %s, want the backup's %s", got, backedUp)
	}

	// Killed during a restore.
	psql(`DELETE FROM orders WHERE id > 1000; UPDATE orders SET item = 'changed' WHERE id = 1`)
	if got := psql(digest); got != changed {
		t.Fatalf("changed again: %s, want %s", got, changed)
	}
	s.Call("POST", "/databases/"+db.ID+"/restore", map[string]any{"backup_id": b.ID}, 202, &r)
	for deadline := time.Now().Add(120 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		s.Call("GET", "/restores/"+r.ID, nil, 200, &r)
		if r.done() {
			t.Fatalf("the restore ended before berth could be killed: %+v", r)
		}
		if r.Status == "running" && strings.HasPrefix(r.Phase, "loading") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restore did not start loading: %+v", r)
		}
	}
	t.Logf("killing berth during the restore: %+v", r)
	s.Kill()
	s.Start()
	s.waitFor("the interrupted restore to be settled", 120*time.Second, func() bool {
		s.Call("GET", "/restores/"+r.ID, nil, 200, &r)
		// Its clean-up notes what the database serves.
		return r.done() && (strings.Contains(r.Error, "kept its previous data") || strings.Contains(r.Error, "serves the restored data") ||
			strings.Contains(r.Error, "cleaning up"))
	})
	if r.Status != "failed" || !strings.Contains(r.Error, "berth stopped during the restore") {
		t.Fatalf("interrupted restore = %+v", r)
	}
	got := psql(digest)
	if got != changed && got != backedUp {
		t.Fatalf("after the kill the database has %s: neither the previous %s nor the restored %s", got, changed, backedUp)
	}
	if l := psql(`SELECT count(*) FROM pg_database WHERE datname LIKE 'berth\_%'`); l != "0" {
		t.Fatalf("%s temporary databases left after the clean-up", l)
	}
	t.Logf("after the kill: %s (%s)", r.Error, map[bool]string{true: "previous data", false: "restored data"}[got == changed])

	// The next restore, through the CLI, follows it to the end.
	out := s.cli("backups", "restore", "--database", db.ID, "--backup", b.ID)
	t.Logf("berth backups restore: %s", out)
	if got := psql(digest); got != backedUp {
		t.Fatalf("after the last restore: %s, want %s", got, backedUp)
	}
}
