package dashboard

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/store"
)

// TestAlertPages adds, lists, changes and deletes alert rules through the
// dashboard's forms: an application's, a database's and the servers'.
func TestAlertPages(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	ctx := context.Background()
	appPage := "/apps/" + f.app.ID.String() + "/alerts"

	if r := admin.must(200, admin.do("GET", "/apps/"+f.app.ID.String(), nil)); !strings.Contains(r.Body, `href="`+appPage+`"`) {
		t.Errorf("the application page does not link its alerts")
	}
	if r := admin.must(200, admin.do("GET", "/databases/"+f.database.ID.String(), nil)); !strings.Contains(r.Body, `href="/databases/`+f.database.ID.String()+`/alerts"`) {
		t.Errorf("the database page does not link its alerts")
	}
	page := admin.must(200, admin.do("GET", appPage, nil))
	if !strings.Contains(page.Body, "No alert rule yet") || !strings.Contains(page.Body, `<option value="restarts_per_hour"`) ||
		strings.Contains(page.Body, `<option value="disk_percent"`) {
		t.Fatalf("empty alerts page:\n%.3000s", page.Body)
	}
	// A field error is shown next to its field, in minutes.
	r := admin.must(422, admin.post(appPage, url.Values{"metric": {"cpu_percent"}, "threshold": {"90"}, "duration_minutes": {"2000"}}))
	if !strings.Contains(r.Body, "1440 minutes") {
		t.Errorf("duration error:\n%.3000s", r.Body)
	}
	r = admin.must(422, admin.post(appPage, url.Values{"metric": {"cpu_percent"}, "threshold": {"120"}}))
	if !strings.Contains(r.Body, "between 0 and 100") {
		t.Errorf("threshold error:\n%.3000s", r.Body)
	}
	admin.must(303, admin.post(appPage, url.Values{"metric": {"cpu_percent"}, "threshold": {"90"}, "duration_minutes": {"5"},
		"cooldown_minutes": {"30"}, "name": {"hot api"}}))
	rules, _, err := h.store.ListAlertRules(ctx, store.AlertRuleFilter{Scope: store.AlertScopeApplication, ApplicationID: &f.app.ID}, store.Page{})
	if err != nil || len(rules) != 1 {
		t.Fatalf("rules %v %v", rules, err)
	}
	rule := rules[0]
	if rule.DurationSeconds != 300 || rule.CooldownSeconds != 1800 || rule.Threshold != 90 {
		t.Fatalf("rule %+v", rule)
	}
	// Its state as the evaluator leaves it: pending, last value shown.
	since := time.Now().Add(-time.Minute)
	if err := h.store.SaveAlertSeries(ctx, []store.AlertSeries{{RuleID: rule.ID, Target: f.app.ID.String(), PendingSince: &since,
		LastValue: 93.46, LastAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	page = admin.must(200, admin.do("GET", appPage, nil))
	for _, want := range []string{"hot api", "cpu_percent above 90 % for 5 min", `data-state="pending"`, "93.5 %", "30 min"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("alerts page lacks %q:\n%.4000s", want, page.Body)
		}
	}
	admin.must(303, admin.post(appPage+"/update", url.Values{"rule_id": {rule.ID.String()}, "enabled": {"false"}}))
	admin.must(303, admin.post(appPage+"/update", url.Values{"rule_id": {rule.ID.String()}, "threshold": {"95"}, "duration_minutes": {"0"}}))
	if rule, err = h.store.GetAlertRule(ctx, rule.ID); err != nil || rule.Enabled || rule.Threshold != 95 || rule.DurationSeconds != 0 || rule.Name != "hot api" {
		t.Fatalf("changed rule %+v %v", rule, err)
	}
	// A rule is changed only through its owner's page.
	dbPage := "/databases/" + f.database.ID.String() + "/alerts"
	admin.must(404, admin.post(dbPage+"/update", url.Values{"rule_id": {rule.ID.String()}, "enabled": {"true"}}))
	admin.must(404, admin.post("/instance/alerts/delete", url.Values{"rule_id": {rule.ID.String()}, "confirmed": {"yes"}}))

	// A viewer sees the rules and no form.
	h.addUser(f.org, "viewer@example.com", store.RoleViewer)
	viewer := h.signIn("viewer@example.com")
	page = viewer.must(200, viewer.do("GET", appPage, nil))
	if !strings.Contains(page.Body, "hot api") || strings.Contains(page.Body, "Add rule") || strings.Contains(page.Body, "/alerts/delete") {
		t.Errorf("viewer's alerts page:\n%.3000s", page.Body)
	}
	viewer.must(403, viewer.post(appPage, url.Values{"metric": {"cpu_percent"}, "threshold": {"90"}}))

	admin.must(200, admin.post(appPage+"/delete", url.Values{"rule_id": {rule.ID.String()}})) // the confirmation page
	admin.must(303, admin.post(appPage+"/delete", url.Values{"rule_id": {rule.ID.String()}, "confirmed": {"yes"}}))
	if _, err := h.store.GetAlertRule(ctx, rule.ID); err == nil {
		t.Fatal("the rule survived its deletion")
	}

	// Database and server rules.
	admin.must(303, admin.post(dbPage, url.Values{"metric": {"restarts_per_hour"}, "threshold": {"3"}}))
	if page = admin.must(200, admin.do("GET", dbPage, nil)); !strings.Contains(page.Body, "restarts_per_hour above 3 per hour for 5 min") {
		t.Errorf("database alerts page:\n%.3000s", page.Body)
	}
	if r := admin.must(200, admin.do("GET", "/instance", nil)); !strings.Contains(r.Body, `href="/instance/alerts"`) {
		t.Errorf("the instance page does not link the server rules")
	}
	admin.must(303, admin.post("/instance/alerts", url.Values{"metric": {"disk_percent"}, "threshold": {"85"}, "subject": {"/"},
		"duration_minutes": {"0"}, "cooldown_minutes": {"60"}}))
	if page = admin.must(200, admin.do("GET", "/instance/alerts", nil)); !strings.Contains(page.Body, "disk_percent / above 85 %, at once") ||
		!strings.Contains(page.Body, `name="subject"`) {
		t.Errorf("server alerts page:\n%.3000s", page.Body)
	}
	viewer.must(403, viewer.do("GET", "/instance/alerts", nil))
}
