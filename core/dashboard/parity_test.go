package dashboard

import (
	"context"
	"html"

	"encoding/json"
	"github.com/google/uuid"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/store"
)

// TestAPIAndDashboardAgree drives the same invalid input and the same
// forbidden action through the API and through the dashboard's forms: both
// go through the service layer, so both answer with the same status and
// the same message (the API as JSON, the dashboard next to the field or
// on an error page).
func TestAPIAndDashboardAgree(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	h.addUser(f.org, "viewer@example.com", store.RoleViewer)
	viewer := h.signIn("viewer@example.com")
	failed := h.failedDeployment(f.app.ID)

	proj := f.project.ID.String()
	tests := []parityCase{
		{name: "project without a name", as: admin,
			apiMethod: "POST", apiPath: "/api/v1/projects", apiBody: `{"name":" "}`,
			formPath: "/projects", form: url.Values{"name": {" "}}, status: 422},
		{name: "project description too long", as: admin,
			apiMethod: "POST", apiPath: "/api/v1/projects", apiBody: `{"name":"Long","description":"` + strings.Repeat("x", 2001) + `"}`,
			formPath: "/projects", form: url.Values{"name": {"Long"}, "description": {strings.Repeat("x", 2001)}}, status: 422},
		{name: "duplicate project", as: admin,
			apiMethod: "POST", apiPath: "/api/v1/projects", apiBody: `{"name":"` + f.project.Name + `"}`,
			formPath: "/projects", form: url.Values{"name": {f.project.Name}}, status: 409},
		{name: "environment name not a slug", as: admin,
			apiMethod: "POST", apiPath: "/api/v1/projects/" + proj + "/environments", apiBody: `{"name":"Staging!"}`,
			formPath: "/projects/" + proj + "/environments", form: url.Values{"name": {"Staging!"}}, status: 422},
		{name: "duplicate environment", as: admin,
			apiMethod: "POST", apiPath: "/api/v1/projects/" + proj + "/environments", apiBody: `{"name":"` + f.env.Name + `"}`,
			formPath: "/projects/" + proj + "/environments", form: url.Values{"name": {f.env.Name}}, status: 409},
		{name: "viewer creates an environment", as: viewer,
			apiMethod: "POST", apiPath: "/api/v1/projects/" + proj + "/environments", apiBody: `{"name":"qa"}`,
			formPath: "/projects/" + proj + "/environments", form: url.Values{"name": {"qa"}}, status: 403},
		{name: "viewer deploys", as: viewer,
			apiMethod: "POST", apiPath: "/api/v1/applications/" + f.app.ID.String() + "/deployments", apiBody: `{}`,
			formPath: "/apps/" + f.app.ID.String() + "/deploy", form: url.Values{"confirmed": {"yes"}}, status: 403},
		{name: "deploy an invalid ref", as: admin,
			apiMethod: "POST", apiPath: "/api/v1/applications/" + f.app.ID.String() + "/deployments", apiBody: `{"git_ref":"a..b"}`,
			formPath: "/apps/" + f.app.ID.String() + "/deploy", form: url.Values{"git_ref": {"a..b"}}, status: 422},
		{name: "roll back to a failed deployment", as: admin,
			apiMethod: "POST", apiPath: "/api/v1/deployments/" + failed.ID.String() + "/rollback",
			formPath: "/deployments/" + failed.ID.String() + "/rollback", form: url.Values{"confirmed": {"yes"}}, status: 409},
		{name: "viewer deletes the project", as: viewer,
			apiMethod: "DELETE", apiPath: "/api/v1/projects/" + proj,
			formPath: "/projects/" + proj + "/delete", form: url.Values{"confirmed": {"yes"}}, status: 403},
	}
	checkParity(t, tests)
}

// parityCase is one invalid input or forbidden action sent through the
// API (apiMethod, apiPath, apiBody) and through a dashboard form
// (formPath, form) by the same client.
type parityCase struct {
	name                        string
	as                          *client
	apiMethod, apiPath, apiBody string
	formPath                    string
	form                        url.Values
	status                      int
}

// checkParity requires both doors to answer each case with its status
// and the dashboard to show the API's message.
func checkParity(t *testing.T, cases []parityCase) {
	t.Helper()
	for _, tt := range cases {
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
			if !strings.Contains(page.Body, html.EscapeString(msg)) {
				t.Fatalf("the dashboard does not show the API's message %q:\n%.3000s", msg, page.Body)
			}
		})
	}
}

// failedDeployment records a failed deployment of app.
func (h *harness) failedDeployment(app uuid.UUID) store.Deployment {
	h.t.Helper()
	ctx := context.Background()
	d, err := h.store.CreateDeployment(ctx, app, store.NewDeployment{})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.store.StartDeployment(ctx, d.ID); err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.FinishDeployment(ctx, d.ID, store.DeploymentResult{Status: store.DeploymentFailed, Error: "build failed"}); err != nil {
		h.t.Fatal(err)
	}
	d, _ = h.store.GetDeployment(ctx, d.ID)
	return d
}
