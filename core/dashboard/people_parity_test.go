package dashboard

import (
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/store"
)

// TestPeopleAnswersMatchTheAPI: the same invalid input or forbidden action
// of accounts, instance settings and git connections gets the same status
// and message from the API and from the dashboard (both go through the
// service layer).
func TestPeopleAnswersMatchTheAPI(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	h.addUser(f.org, "member@example.com", store.RoleMember)
	member := h.signIn("member@example.com")
	org := f.org.String()
	tests := []struct {
		name         string
		c            *client
		method, path string
		body         string
		page         string // the dashboard's GET before its form
		form         string
		values       url.Values
		status       int
	}{
		{"API key lifetime", admin, "POST", "/api/v1/api-keys", `{"name": "ci", "expires_in_days": 99999}`,
			"/keys", "/keys", url.Values{"name": {"ci"}, "expires_in_days": {"99999"}}, 422},
		{"API key without name", admin, "POST", "/api/v1/api-keys", `{"name": " "}`,
			"/keys", "/keys", url.Values{"name": {" "}}, 422},
		{"wrong current password", admin, "PATCH", "/api/v1/users/me", `{"password": "a brand new passphrase", "current_password": "not mine"}`,
			"/keys", "/account/password", url.Values{"password": {"a brand new passphrase"}, "current_password": {"not mine"}}, 422},
		{"short new password", admin, "PATCH", "/api/v1/users/me", `{"password": "short", "current_password": "x"}`,
			"/keys", "/account/password", url.Values{"password": {"short"}, "current_password": {"x"}}, 422},
		{"bad outbound entry", admin, "PUT", "/api/v1/instance/settings", `{"outbound_allow": ["bad host!"]}`,
			"/instance", "/instance/settings", url.Values{"outbound_allow": {"bad host!"}}, 422},
		{"relative bind mount root", admin, "PUT", "/api/v1/instance/settings", `{"bind_mount_roots": ["srv/data"]}`,
			"/instance", "/instance/settings", url.Values{"bind_mount_roots": {"srv/data"}}, 422},
		{"default builder auto", admin, "PUT", "/api/v1/instance/settings", `{"default_builder": "auto"}`,
			"/instance", "/instance/settings", url.Values{"default_builder": {"auto"}}, 422},
		{"git connection app id", admin, "POST", "/api/v1/git-connections",
			`{"organization_id": "` + org + `", "name": "gh", "provider": "git.github", "credentials": {"app_id": "twelve", "installation_id": "1", "private_key": "-----BEGIN x"}}`,
			"/orgs/" + org + "/settings", "/orgs/" + org + "/git-connections",
			url.Values{"name": {"gh"}, "provider": {"git.github"}, "credential_kind": {"app"}, "app_id": {"twelve"}, "installation_id": {"1"}, "private_key": {"-----BEGIN x"}}, 422},
		{"git connection base URL", admin, "POST", "/api/v1/git-connections",
			`{"organization_id": "` + org + `", "name": "gh", "provider": "git.github", "base_url": "ftp://x", "credentials": {"token": "t"}}`,
			"/orgs/" + org + "/settings", "/orgs/" + org + "/git-connections",
			url.Values{"name": {"gh"}, "provider": {"git.github"}, "base_url": {"ftp://x"}, "credential_kind": {"token"}, "token": {"t"}}, 422},
		{"git connection by a member", member, "POST", "/api/v1/git-connections",
			`{"organization_id": "` + org + `", "name": "gh", "provider": "git.github", "credentials": {"token": "t"}}`,
			"/orgs/" + org + "/settings", "/orgs/" + org + "/git-connections",
			url.Values{"name": {"gh"}, "provider": {"git.github"}, "credential_kind": {"token"}, "token": {"t"}}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.must(200, tt.c.do("GET", tt.page, nil))
			r := tt.c.json(tt.method, tt.path, tt.body, "X-CSRF-Token", tt.c.csrf)
			if r.Status != tt.status {
				t.Fatalf("API: status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			var e struct {
				Error struct{ Message, Field string }
			}
			if err := json.Unmarshal([]byte(r.Body), &e); err != nil || e.Error.Message == "" {
				t.Fatalf("API error body %q: %v", r.Body, err)
			}
			msg := e.Error.Message
			if e.Error.Field != "" {
				msg = strings.TrimPrefix(msg, e.Error.Field+": ")
			}
			tt.c.must(200, tt.c.do("GET", tt.page, nil))
			d := tt.c.post(tt.form, tt.values)
			if d.Status != tt.status {
				t.Fatalf("dashboard: status %d, want %d (the API's %q)", d.Status, tt.status, msg)
			}
			if !strings.Contains(d.Body, html.EscapeString(msg)) {
				t.Fatalf("the dashboard does not say the API's %q:\n%.3000s", msg, d.Body)
			}
		})
	}
}
