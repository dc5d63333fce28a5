package dashboard

import (
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/api"
)

// TestApplicationsSameAnswerThroughBothDoors: the same invalid or refused
// change of an application, a domain or a variable gets the same status
// and message from the API and from the dashboard's forms (one service
// operation, one rule).
func TestApplicationsSameAnswerThroughBothDoors(t *testing.T) {
	h := newHarness(t)
	tn := h.dashTenancy()
	c := tn.tenant
	app := tn.tenApp.ID.String()
	tests := []struct {
		name               string
		method, path, body string
		form               string
		values             url.Values
		status             int
	}{
		{"invalid application name", "POST", "/api/v1/environments/" + tn.tenEnv.ID.String() + "/applications",
			`{"name": "Web App", "git_repository": "https://example.com/x.git"}`,
			"/projects/" + tn.tenProj.ID.String() + "/applications",
			url.Values{"environment_id": {tn.tenEnv.ID.String()}, "name": {"Web App"}, "source_type": {"git"},
				"git_repository": {"https://example.com/x.git"}, "build_type": {"dockerfile"}}, 422},
		{"repository on the host", "PATCH", "/api/v1/applications/" + app, `{"git_repository": "file:///etc"}`,
			appURL(tn.tenApp.ID) + "/settings",
			url.Values{"source_type": {"git"}, "git_repository": {"file:///etc"}, "build_type": {"dockerfile"}}, 403},
		{"bad replicas", "PATCH", "/api/v1/applications/" + app, `{"replicas": 500}`,
			appURL(tn.tenApp.ID) + "/settings",
			url.Values{"source_type": {"git"}, "git_repository": {"https://example.com/web.git"}, "build_type": {"dockerfile"}, "replicas": {"500"}}, 422},
		{"bad preview limit", "PATCH", "/api/v1/applications/" + app, `{"preview": {"limit": 99}}`,
			appURL(tn.tenApp.ID) + "/automation",
			url.Values{"git_repository": {"https://example.com/web.git"}, "deploy_trigger": {"branch"}, "preview_https": {"none"}, "preview_limit": {"99"}}, 422},
		{"domain of an application without port", "POST", "/api/v1/applications/" + app + "/domains", `{"host": "shop.example.com"}`,
			appURL(tn.tenApp.ID) + "/domains", url.Values{"host": {"shop.example.com"}, "https": {"none"}}, 422},
		{"maintenance retry after", "PUT", "/api/v1/applications/" + app + "/maintenance", `{"enabled": false, "retry_after_seconds": 0}`,
			appURL(tn.tenApp.ID) + "/maintenance", url.Values{"retry_after_seconds": {"0"}}, 422},
		{"maintenance page too large", "PUT", "/api/v1/applications/" + app + "/maintenance",
			`{"enabled": true, "page": "` + strings.Repeat("a", 32<<10+1) + `"}`,
			appURL(tn.tenApp.ID) + "/maintenance", url.Values{"enabled": {"on"}, "page": {strings.Repeat("a", 32<<10+1)}}, 422},
		{"variable name", "PUT", "/api/v1/applications/" + app + "/variables/1A", `{"value": "x"}`,
			appURL(tn.tenApp.ID) + "/variables", url.Values{"key": {"1A"}, "value": {"x"}}, 422},
		{"variable reference", "PUT", "/api/v1/applications/" + app + "/variables/A", `{"value": "${{ project.X"}`,
			appURL(tn.tenApp.ID) + "/variables", url.Values{"key": {"A"}, "value": {"${{ project.X"}}, 422},
	}
	c.must(200, c.do("GET", appURL(tn.tenApp.ID), nil)) // a CSRF token for the API calls
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.json(tt.method, tt.path, tt.body, api.CSRFHeader, c.csrf)
			var body api.ErrorBody
			if err := json.Unmarshal([]byte(r.Body), &body); err != nil || r.Status != tt.status {
				t.Fatalf("API: status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			msg := strings.TrimPrefix(body.Error.Message, body.Error.Field+": ")
			page := c.post(tt.form, tt.values)
			if page.Status != tt.status || !strings.Contains(page.Body, html.EscapeString(msg)) {
				t.Fatalf("dashboard: status %d, want %d with the API's message %q:\n%.3000s", page.Status, tt.status, msg, page.Body)
			}
		})
	}
}

// TestMaintenanceSameStateThroughBothDoors: what the dashboard's form saves
// the API reads, and the other way round.
func TestMaintenanceSameStateThroughBothDoors(t *testing.T) {
	h := newHarness(t)
	tn := h.dashTenancy()
	c := tn.tenant
	endpoint := "/api/v1/applications/" + tn.tenApp.ID.String() + "/maintenance"
	c.must(200, c.do("GET", appURL(tn.tenApp.ID), nil))
	c.must(303, c.post(appURL(tn.tenApp.ID)+"/maintenance", url.Values{"page": {"<p>from the dashboard</p>"}, "retry_after_seconds": {"60"}}))
	var got struct {
		Enabled           bool   `json:"enabled"`
		Page              string `json:"page"`
		RetryAfterSeconds int    `json:"retry_after_seconds"`
	}
	r := c.json("GET", endpoint, "", api.CSRFHeader, c.csrf)
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil || r.Status != 200 {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
	if got.Enabled || got.Page != "<p>from the dashboard</p>" || got.RetryAfterSeconds != 60 {
		t.Errorf("API reads %+v after the dashboard saved it", got)
	}
	c.must(200, c.do("GET", appURL(tn.tenApp.ID), nil))
	c.must(200, c.json("PUT", endpoint, `{"enabled": false, "page": "<p>from the API</p>", "retry_after_seconds": 90}`, api.CSRFHeader, c.csrf))
	page := c.must(200, c.do("GET", appURL(tn.tenApp.ID), nil))
	if !strings.Contains(page.Body, html.EscapeString("<p>from the API</p>")) || !strings.Contains(page.Body, `value="90"`) {
		t.Errorf("the dashboard does not show what the API saved:\n%.3000s", page.Body)
	}
	// Entering needs the page server, which this harness (no Docker) lacks:
	// both doors answer 503.
	r = c.json("PUT", endpoint, `{"enabled": true}`, api.CSRFHeader, c.csrf)
	c.do("GET", "/", nil)
	form := c.post(appURL(tn.tenApp.ID)+"/maintenance", url.Values{"enabled": {"on"}})
	if r.Status != 503 || form.Status != 503 {
		t.Errorf("entering without a page server: API %d, dashboard %d, want 503 both", r.Status, form.Status)
	}
}
