package dashboard

import (
	"net/url"
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
	tests := []parityCase{
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
	checkParity(t, tests)
}
