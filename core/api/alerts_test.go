package api_test

import (
	"testing"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/store"
)

// TestAlertRuleValidation: every bad field of a rule is a 422 naming it.
func TestAlertRuleValidation(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	app := "/api/v1/applications/" + f.appID + "/alert-rules"
	tests := []struct {
		name, path string
		body       map[string]any
		field      string
	}{
		{"no metric", app, map[string]any{"threshold": 90}, "metric"},
		{"unknown metric", app, map[string]any{"metric": "load1", "threshold": 90}, "metric"},
		{"disk is a server metric", app, map[string]any{"metric": "disk_percent", "threshold": 90}, "metric"},
		{"restarts is not a server metric", "/api/v1/servers/alert-rules", map[string]any{"metric": "restarts_per_hour", "threshold": 3}, "metric"},
		{"no threshold", app, map[string]any{"metric": "cpu_percent"}, "threshold"},
		{"memory percent above 100", app, map[string]any{"metric": "memory_percent", "threshold": 101}, "threshold"},
		{"server CPU above 100", "/api/v1/servers/alert-rules", map[string]any{"metric": "cpu_percent", "threshold": 101}, "threshold"},
		{"application CPU beyond 256 cores", app, map[string]any{"metric": "cpu_percent", "threshold": 25601}, "threshold"},
		{"negative percent", app, map[string]any{"metric": "memory_percent", "threshold": -1}, "threshold"},
		{"too many restarts", app, map[string]any{"metric": "restarts_per_hour", "threshold": 1e6}, "threshold"},
		{"negative duration", app, map[string]any{"metric": "cpu_percent", "threshold": 90, "duration_seconds": -1}, "duration_seconds"},
		{"duration over a day", app, map[string]any{"metric": "cpu_percent", "threshold": 90, "duration_seconds": 86401}, "duration_seconds"},
		{"cooldown under a minute", app, map[string]any{"metric": "cpu_percent", "threshold": 90, "cooldown_seconds": 59}, "cooldown_seconds"},
		{"cooldown over a week", app, map[string]any{"metric": "cpu_percent", "threshold": 90, "cooldown_seconds": 604801}, "cooldown_seconds"},
		{"subject without disk", app, map[string]any{"metric": "cpu_percent", "threshold": 90, "subject": "/"}, "subject"},
		{"subject not a mount", "/api/v1/servers/alert-rules", map[string]any{"metric": "disk_percent", "threshold": 90, "subject": "data"}, "subject"},
		{"target on an application", app, map[string]any{"metric": "cpu_percent", "threshold": 90, "target": "node1"}, "target"},
		{"target not a node id", "/api/v1/servers/alert-rules", map[string]any{"metric": "cpu_percent", "threshold": 90, "target": "a b"}, "target"},
		{"name too long", app, map[string]any{"metric": "cpu_percent", "threshold": 90, "name": string(make([]byte, 101))}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantField(t, h.do("POST", tt.path, f.key, tt.body), 422, tt.field)
		})
	}
	// A valid rule, then bad changes of it.
	var r store.AlertRule
	h.must(201, h.do("POST", app, f.key, map[string]any{"metric": "cpu_percent", "threshold": 90})).json(t, &r)
	// An application's CPU counts 100 % per busy core, like docker stats.
	h.must(201, h.do("POST", app, f.key, map[string]any{"metric": "cpu_percent", "threshold": 150}))
	if r.Name != "cpu_percent above 90" || r.DurationSeconds != 300 || r.CooldownSeconds != 1800 || !r.Enabled || r.Status.State != store.AlertOK {
		t.Fatalf("defaults of a new rule: %+v", r)
	}
	wantField(t, h.do("PATCH", "/api/v1/alert-rules/"+r.ID.String(), f.key, map[string]any{"name": ""}), 422, "name")
	wantField(t, h.do("PATCH", "/api/v1/alert-rules/"+r.ID.String(), f.key, map[string]any{"threshold": 30000}), 422, "threshold")
	h.must(200, h.do("PATCH", "/api/v1/alert-rules/"+r.ID.String(), f.key, map[string]any{"threshold": 95, "duration_seconds": 0, "enabled": false})).json(t, &r)
	if r.Threshold != 95 || r.DurationSeconds != 0 || r.Enabled {
		t.Fatalf("changed rule: %+v", r)
	}
}

// TestAlertRuleAccess: server rules are for instance administrators, in
// lists and by id; an application's rules for its organization.
func TestAlertRuleAccess(t *testing.T) {
	h := newHarness(t)
	tn := h.tenancy()
	var server, tenants store.AlertRule
	h.must(201, h.do("POST", "/api/v1/servers/alert-rules", tn.admin, map[string]any{"metric": "disk_percent", "threshold": 90, "subject": "/"})).json(t, &server)
	if server.OrganizationID != nil || server.Scope != store.AlertScopeServer {
		t.Fatalf("server rule %+v", server)
	}
	h.must(201, h.do("POST", "/api/v1/applications/"+tn.tenantApp+"/alert-rules", tn.tenant, map[string]any{"metric": "cpu_percent", "threshold": 90})).json(t, &tenants)
	h.must(201, h.do("POST", "/api/v1/databases/"+tn.tenantDB+"/alert-rules", tn.tenant, map[string]any{"metric": "restarts_per_hour", "threshold": 3}))

	// A tenant neither lists, reads, changes nor deletes server rules.
	h.must(403, h.do("GET", "/api/v1/servers/alert-rules", tn.tenant, nil))
	h.must(403, h.do("POST", "/api/v1/servers/alert-rules", tn.tenant, map[string]any{"metric": "cpu_percent", "threshold": 90}))
	for _, m := range []string{"GET", "PATCH", "DELETE"} {
		h.must(404, h.do(m, "/api/v1/alert-rules/"+server.ID.String(), tn.tenant, map[string]any{"threshold": 10}))
	}
	// The administrator does, and is a stranger to the tenant's rules.
	var list api.List[store.AlertRule]
	h.must(200, h.do("GET", "/api/v1/servers/alert-rules", tn.admin, nil)).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != server.ID {
		t.Fatalf("server rules %+v", list.Items)
	}
	h.must(200, h.do("PATCH", "/api/v1/alert-rules/"+server.ID.String(), tn.admin, map[string]any{"threshold": 85}))
	h.must(404, h.do("GET", "/api/v1/alert-rules/"+tenants.ID.String(), tn.admin, nil))
	h.must(404, h.do("GET", "/api/v1/applications/"+tn.tenantApp+"/alert-rules", tn.admin, nil))

	h.must(200, h.do("GET", "/api/v1/applications/"+tn.tenantApp+"/alert-rules", tn.tenant, nil)).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != tenants.ID {
		t.Fatalf("application rules %+v", list.Items)
	}
	h.must(200, h.do("GET", "/api/v1/databases/"+tn.tenantDB+"/alert-rules", tn.tenant, nil)).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].Metric != "restarts_per_hour" {
		t.Fatalf("database rules %+v", list.Items)
	}
	h.must(204, h.do("DELETE", "/api/v1/alert-rules/"+server.ID.String(), tn.admin, nil))
	h.must(404, h.do("GET", "/api/v1/alert-rules/"+server.ID.String(), tn.admin, nil))
}
