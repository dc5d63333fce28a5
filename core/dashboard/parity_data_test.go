package dashboard

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/store"
)

// TestAPIAndDashboardAgreeOnData: databases and backup policies refuse the
// same invalid input and the same forbidden action with the same status
// and message through the API and through the dashboard's forms (one
// Validate method and one declared role in core/service).
func TestAPIAndDashboardAgreeOnData(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	h.addUser(f.org, "member@example.com", store.RoleMember)
	member := h.signIn("member@example.com")
	h.addUser(f.org, "viewer@example.com", store.RoleViewer)
	viewer := h.signIn("viewer@example.com")

	proj, env, db, dest := f.project.ID.String(), f.env.ID.String(), f.database.ID.String(), f.dest.ID.String()
	pol := f.policy.ID.String()
	tests := []struct {
		name                        string
		as                          *client
		apiMethod, apiPath, apiBody string
		formPath                    string
		form                        url.Values
		status                      int
	}{
		{name: "database name not a slug", as: admin,
			apiMethod: "POST", apiPath: "/api/v1/environments/" + env + "/databases", apiBody: `{"name":"Main!","engine":"postgres"}`,
			formPath: "/projects/" + proj + "/databases", form: url.Values{"environment_id": {env}, "name": {"Main!"}, "engine": {"postgres"}}, status: 422},
		{name: "image tag with a slash", as: admin,
			apiMethod: "POST", apiPath: "/api/v1/environments/" + env + "/databases", apiBody: `{"name":"cache","engine":"redis","version":"7/alpine"}`,
			formPath: "/projects/" + proj + "/databases", form: url.Values{"environment_id": {env}, "name": {"cache"}, "engine": {"redis"}, "version": {"7/alpine"}}, status: 422},
		{name: "unknown engine", as: admin,
			apiMethod: "POST", apiPath: "/api/v1/environments/" + env + "/databases", apiBody: `{"name":"cache","engine":"oracle"}`,
			formPath: "/projects/" + proj + "/databases", form: url.Values{"environment_id": {env}, "name": {"cache"}, "engine": {"oracle"}}, status: 422},
		{name: "member deletes a database", as: member,
			apiMethod: "DELETE", apiPath: "/api/v1/databases/" + db,
			formPath: "/databases/" + db + "/delete", form: url.Values{"confirmed": {"yes"}}, status: 403},
		{name: "schedule not cron", as: member,
			apiMethod: "POST", apiPath: "/api/v1/databases/" + db + "/backup-policies", apiBody: `{"destination_id":"` + dest + `","schedule":"every day"}`,
			formPath: "/databases/" + db + "/policies", form: url.Values{"destination_id": {dest}, "schedule": {"every day"}}, status: 422},
		{name: "unknown time zone", as: member,
			apiMethod: "POST", apiPath: "/api/v1/databases/" + db + "/backup-policies", apiBody: `{"destination_id":"` + dest + `","schedule":"@daily","time_zone":"Mars/Olympus"}`,
			formPath: "/databases/" + db + "/policies", form: url.Values{"destination_id": {dest}, "schedule": {"@daily"}, "time_zone": {"Mars/Olympus"}}, status: 422},
		{name: "viewer creates a policy", as: viewer,
			apiMethod: "POST", apiPath: "/api/v1/databases/" + db + "/backup-policies", apiBody: `{"destination_id":"` + dest + `","schedule":"@daily"}`,
			formPath: "/databases/" + db + "/policies", form: url.Values{"destination_id": {dest}, "schedule": {"@daily"}}, status: 403},
		{name: "viewer backs up now", as: viewer,
			apiMethod: "POST", apiPath: "/api/v1/backup-policies/" + pol + "/run",
			formPath: "/backup-policies/" + pol + "/run", form: url.Values{}, status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apiResp := tt.as.json(tt.apiMethod, tt.apiPath, tt.apiBody, "X-CSRF-Token", tt.as.csrf)
			var body struct {
				Error struct{ Message, Field string }
			}
			if err := json.Unmarshal([]byte(apiResp.Body), &body); err != nil {
				t.Fatalf("API answer %d is not an error body: %.300s", apiResp.Status, apiResp.Body)
			}
			tt.as.do("GET", "/", nil) // a fresh CSRF token for the form
			page := tt.as.post(tt.formPath, tt.form)
			if apiResp.Status != tt.status || page.Status != tt.status {
				t.Fatalf("API %d, dashboard %d, want %d both (API: %s)", apiResp.Status, page.Status, tt.status, body.Error.Message)
			}
			msg := strings.TrimPrefix(body.Error.Message, body.Error.Field+": ")
			if !strings.Contains(page.Body, htmlEscape(msg)) {
				t.Fatalf("the dashboard does not show the API's message %q:\n%.3000s", msg, page.Body)
			}
		})
	}
}
