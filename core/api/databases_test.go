package api_test

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/store"
)

func TestDatabasesAPI(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	var db store.Database
	h.must(201, h.do("POST", "/api/v1/environments/"+f.envID+"/databases", f.key, map[string]any{"name": "shop-db", "engine": "postgres"})).json(t, &db)
	if db.Engine != "postgres" || db.DesiredState != "running" || !strings.HasPrefix(db.ServiceName, "shop-db-") || db.VolumeName != db.ServiceName+"-data" {
		t.Errorf("created %+v", db)
	}
	list := h.must(200, h.do("GET", "/api/v1/databases?environment_id="+f.envID, f.key, nil))
	var conn api.ConnectionInfo
	h.must(200, h.do("GET", "/api/v1/databases/"+db.ID.String()+"/connection", f.key, nil)).json(t, &conn)
	if len(conn.Password) != 32 || conn.URL != "postgresql://berth:"+conn.Password+"@"+db.ServiceName+":5432/shop_db" {
		t.Errorf("connection = %+v", conn)
	}
	if strings.Contains(string(list.Body), conn.Password) || strings.Contains(string(h.do("GET", "/api/v1/databases/"+db.ID.String(), f.key, nil).Body), conn.Password) {
		t.Error("credentials leaked into a list or get response")
	}
	// Docker actions answer 503 without Docker.
	h.must(503, h.do("POST", "/api/v1/databases/"+db.ID.String()+"/start", f.key, nil))

	var dest store.BackupDestination
	h.must(201, h.do("POST", "/api/v1/organizations/"+f.orgID+"/backup-destinations", f.key, map[string]any{
		"name": "s3", "plugin_id": "backup.s3", "settings": map[string]any{"secret_access_key": "very-secret"}})).json(t, &dest)
	if r := h.do("GET", "/api/v1/backup-destinations/"+dest.ID.String(), f.key, nil); strings.Contains(string(r.Body), "very-secret") {
		t.Error("destination settings leaked")
	}
	var pol store.BackupPolicy
	h.must(201, h.do("POST", "/api/v1/databases/"+db.ID.String()+"/backup-policies", f.key, map[string]any{
		"destination_id": dest.ID, "schedule": "0 3 * * *", "time_zone": "Europe/Paris", "keep_latest": 5})).json(t, &pol)
	if pol.KeepLatest != 5 || pol.Retries != 2 || !pol.Enabled || pol.TimeZone != "Europe/Paris" {
		t.Errorf("policy %+v", pol)
	}
	h.must(409, h.do("DELETE", "/api/v1/backup-destinations/"+dest.ID.String(), f.key, nil))
	h.must(200, h.do("GET", "/api/v1/databases/"+db.ID.String()+"/backups", f.key, nil))

	bad := []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"POST", "/api/v1/environments/" + f.envID + "/databases", map[string]any{"name": "x", "engine": "oracle"}, 422, "engine"},
		{"POST", "/api/v1/environments/" + f.envID + "/databases", map[string]any{"name": "Bad Name!", "engine": "redis"}, 422, "name"},
		{"POST", "/api/v1/environments/" + f.envID + "/databases", map[string]any{"name": "x", "engine": "redis", "external_port": 70000}, 422, "external_port"},
		{"POST", "/api/v1/environments/" + f.envID + "/databases", map[string]any{"name": "x", "engine": "redis", "version": "7 latest"}, 422, "version"},
		{"POST", "/api/v1/environments/" + f.envID + "/databases", map[string]any{"name": "x", "engine": "redis", "memory_limit_mb": "lots"}, 400, "memory_limit_mb"},
		{"POST", "/api/v1/environments/" + f.envID + "/databases", map[string]any{"name": "x", "engine": "redis", "extra": 1}, 400, "extra"},
		{"PATCH", "/api/v1/databases/" + db.ID.String(), map[string]any{"engine": "mysql"}, 422, "engine"},
		{"POST", "/api/v1/databases/" + db.ID.String() + "/backup-policies", map[string]any{"destination_id": dest.ID, "schedule": "every day"}, 422, "schedule"},
		{"POST", "/api/v1/databases/" + db.ID.String() + "/backup-policies", map[string]any{"destination_id": dest.ID, "schedule": "@daily", "time_zone": "Mars/Olympus"}, 422, "time_zone"},
		{"POST", "/api/v1/databases/" + db.ID.String() + "/backup-policies", map[string]any{"schedule": "@daily"}, 422, "destination_id"},
		{"POST", "/api/v1/databases/" + db.ID.String() + "/backup-policies", map[string]any{"destination_id": dest.ID, "schedule": "@daily", "keep_latest": -1}, 422, "keep_latest"},
		{"POST", "/api/v1/databases/" + db.ID.String() + "/backup-policies", map[string]any{"destination_id": dest.ID, "schedule": "@daily", "retries": 99}, 422, "retries"},
		{"POST", "/api/v1/databases/" + db.ID.String() + "/backup-policies", map[string]any{"destination_id": dest.ID, "schedule": "@daily", "prefix": "../up"}, 422, "prefix"},
		{"POST", "/api/v1/organizations/" + f.orgID + "/backup-destinations", map[string]any{"name": "n", "plugin_id": "notifier.slack"}, 422, "plugin_id"},
		{"POST", "/api/v1/organizations/" + f.orgID + "/backup-destinations", map[string]any{"name": "n", "plugin_id": "backup.s3", "settings": []int{1}}, 422, "settings"},
		{"POST", "/api/v1/databases/" + db.ID.String() + "/restore", map[string]any{}, 422, "backup_id"},
		{"POST", "/api/v1/databases/" + db.ID.String() + "/restore", map[string]any{"destination_id": dest.ID}, 422, "key"},
		{"POST", "/api/v1/databases/" + db.ID.String() + "/restore", map[string]any{"destination_id": dest.ID, "key": "../etc"}, 422, "key"},
		{"DELETE", "/api/v1/databases/" + db.ID.String() + "?delete_volume=maybe", nil, 400, "delete_volume"},
	}
	for _, tt := range bad {
		r := h.do(tt.method, tt.path, f.key, tt.body)
		var e api.ErrorBody
		r.json(t, &e)
		if r.Status != tt.status || e.Error.Field != tt.field {
			t.Errorf("%s %s %v = %d field %q (%s), want %d field %q", tt.method, tt.path, tt.body, r.Status, e.Error.Field, e.Error.Message, tt.status, tt.field)
		}
	}

	// Roles: viewers read, cannot see credentials or change anything.
	h.must(201, h.do("POST", "/api/v1/organizations/"+f.orgID+"/members", f.key, map[string]any{
		"email": "viewer@example.com", "name": "V", "password": password, "role": "viewer"}))
	viewer := h.apiKeyFromSession(h.must(200, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "viewer@example.com", "password": password})))
	h.must(200, h.do("GET", "/api/v1/databases/"+db.ID.String(), viewer, nil))
	h.must(403, h.do("GET", "/api/v1/databases/"+db.ID.String()+"/connection", viewer, nil))
	h.must(403, h.do("POST", "/api/v1/environments/"+f.envID+"/databases", viewer, map[string]any{"name": "v", "engine": "redis"}))
	h.must(403, h.do("POST", "/api/v1/organizations/"+f.orgID+"/backup-destinations", viewer, map[string]any{"name": "v", "plugin_id": "backup.local"}))
	h.must(403, h.do("POST", "/api/v1/backup-policies/"+pol.ID.String()+"/run", viewer, nil))
	h.must(403, h.do("DELETE", "/api/v1/databases/"+db.ID.String(), viewer, nil))
	h.must(401, h.do("GET", "/api/v1/databases", "", nil))

	// Deleting keeps the volume unless asked (no Docker here: record only).
	h.must(204, h.do("DELETE", "/api/v1/backup-policies/"+pol.ID.String(), f.key, nil))
	h.must(204, h.do("DELETE", "/api/v1/databases/"+db.ID.String(), f.key, nil))
	h.must(404, h.do("GET", "/api/v1/databases/"+db.ID.String(), f.key, nil))
}
