package dashboard

import (
	"github.com/berth-dev/berth/core/service"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// routeIndex finds a table route by method and Fiber path.
func (d *Dashboard) routeIndex() map[string]route {
	idx := map[string]route{}
	for _, rt := range d.routes {
		idx[rt.method+" "+rt.path] = rt
		if rt.method == "GET" {
			idx["HEAD "+rt.path] = rt
		}
	}
	return idx
}

// TestEveryPageRequiresSession enumerates the Fiber application itself, so
// a page added later without the pipeline fails here: signed-out GETs are
// redirected to the sign-in page, signed-out POSTs are refused, and every
// POST needs the form's CSRF token, even with a valid session.
func TestEveryPageRequiresSession(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	idx := h.dash.routeIndex()
	routes := h.dashboardRoutes()
	if len(routes) < 25 {
		t.Fatalf("enumerated only %d dashboard routes", len(routes))
	}
	for _, fr := range routes {
		id := fr.Method + " " + fr.Path
		if fr.Method == "CONNECT" || fr.Method == "TRACE" || fr.Method == "OPTIONS" {
			continue
		}
		rt, ok := idx[id]
		if !ok {
			t.Errorf("route %s is served but not declared in the dashboard's table", id)
			continue
		}
		if strings.HasPrefix(fr.Path, "/api/") {
			t.Errorf("route %s is under /api/", id)
		}
		path := f.concrete(rt)
		t.Run(id, func(t *testing.T) {
			post := fr.Method == "POST"
			for _, cred := range []struct{ name, cookie string }{
				{"no session", ""},
				{"forged session", api.SessionCookie + "=bs_forged"},
			} {
				c := newClient(h)
				var headers []string
				if cred.cookie != "" {
					headers = []string{"Cookie", cred.cookie}
				}
				var form url.Values
				if post {
					form = url.Values{csrfField: {"forged"}}
				}
				r := c.do(fr.Method, path, form, headers...)
				switch {
				case rt.public || rt.asset:
					if r.Status == 401 || strings.HasPrefix(r.Location(), "/login?") {
						t.Fatalf("%s: public page asked to sign in: %d %s", cred.name, r.Status, r.Location())
					}
					if post && r.Status != 403 {
						t.Fatalf("%s: public form without a valid CSRF token: status %d, want 403", cred.name, r.Status)
					}
				case post:
					if r.Status != 401 {
						t.Fatalf("%s: status %d, want 401", cred.name, r.Status)
					}
				default:
					if r.Status != 303 || !strings.HasPrefix(r.Location(), "/login?next=") {
						t.Fatalf("%s: status %d Location %q, want 303 to /login", cred.name, r.Status, r.Location())
					}
				}
			}
			if !post || rt.public {
				return
			}
			// A valid session without the form's CSRF token changes nothing.
			for _, token := range []string{"", "forged", admin.csrf + "x"} {
				r := admin.do("POST", path, url.Values{csrfField: {token}})
				if r.Status != 403 || !strings.Contains(r.Body, "Form expired") {
					t.Fatalf("session with CSRF token %q: status %d, want 403 Form expired", token, r.Status)
				}
			}
		})
	}
	// The table has nothing Fiber does not serve.
	served := map[string]bool{}
	for _, r := range routes {
		served[r.Method+" "+r.Path] = true
	}
	for _, rt := range h.dash.routes {
		if !served[rt.method+" "+rt.path] {
			t.Errorf("declared route %s %s is not served", rt.method, rt.path)
		}
	}
}

// TestRolesAreEnforced signs in a viewer, a member and an outsider and
// checks every route that names a resource or needs a role.
func TestRolesAreEnforced(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	h.addUser(f.org, "viewer@example.com", store.RoleViewer)
	h.addUser(f.org, "member@example.com", store.RoleMember)
	otherOrg, err := h.store.CreateOrganization(t.Context(), "Other", mustUser(t, h, "admin@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	h.addUser(otherOrg.ID, "outsider@example.com", store.RoleOwner)

	viewer := h.signIn("viewer@example.com")
	member := h.signIn("member@example.com")
	outsider := h.signIn("outsider@example.com")
	for _, rt := range h.dash.routes {
		if rt.public || rt.asset {
			continue
		}
		path := f.concrete(rt)
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			if rt.method == "GET" {
				if rt.resource != service.NoResource {
					viewer.must(200, viewer.do("GET", path, nil))
					if r := outsider.do("GET", path, nil); r.Status != 404 {
						t.Fatalf("outsider: status %d, want 404", r.Status)
					}
				}
				return
			}
			if rt.min.Rank() >= store.RoleMember.Rank() {
				r := viewer.post(path, url.Values{"confirmed": {"yes"}})
				if r.Status != 403 || !strings.Contains(r.Body, "Not allowed") {
					t.Fatalf("viewer: status %d, want 403 Not allowed:\n%.600s", r.Status, r.Body)
				}
			}
			if rt.min.Rank() >= store.RoleAdmin.Rank() {
				if r := member.post(path, url.Values{"confirmed": {"yes"}}); r.Status != 403 {
					t.Fatalf("member: status %d, want 403", r.Status)
				}
			}
			if rt.resource != service.NoResource {
				if r := outsider.post(path, url.Values{"confirmed": {"yes"}}); r.Status != 404 {
					t.Fatalf("outsider: status %d, want 404", r.Status)
				}
			}
		})
	}
	// Viewers read but see no secrets and no forms that change things.
	if _, err := h.store.SetVariable(t.Context(), store.ScopeApplication, f.app.ID, "SECRET_TOKEN", "hunter2-value"); err != nil {
		t.Fatal(err)
	}
	page := viewer.must(200, viewer.do("GET", appURL(f.app.ID), nil)).Body
	for _, leak := range []string{"hunter2-value", `action="/apps/` + f.app.ID.String() + `/deploy"`,
		`action="/apps/` + f.app.ID.String() + `/settings"`, `action="/apps/` + f.app.ID.String() + `/automation"`} {
		if strings.Contains(page, leak) {
			t.Errorf("viewer's application page contains %q", leak)
		}
	}
	page = member.must(200, member.do("GET", appURL(f.app.ID), nil)).Body
	if !strings.Contains(page, `type="password" readonly value="hunter2-value"`) {
		t.Errorf("member's application page does not show the masked variable")
	}
}

func mustUser(t *testing.T, h *harness, email string) uuid.UUID {
	t.Helper()
	u, err := h.store.GetUserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

var (
	inlineScript  = regexp.MustCompile(`(?i)<script(?:\s+[^>]*)?>`)
	inlineHandler = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	styleAttr     = regexp.MustCompile(`(?i)\sstyle\s*=`)
)

// TestPagesAreSafeAndStyled checks every page's headers and that no page
// has inline script or style the Content-Security-Policy would block.
func TestPagesAreSafeAndStyled(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	pages := []string{"/", "/projects/" + f.project.ID.String(), appURL(f.app.ID), deploymentURL(f.deployment.ID),
		"/plugins", "/plugins/notifier.webhook", "/keys", "/no-such-page"}
	anon := newClient(h)
	for _, p := range append(pages, "/login") {
		c := admin
		if p == "/login" {
			c = anon
		}
		r := c.do("GET", p, nil)
		if r.Status != 200 && !(p == "/no-such-page" && r.Status == 404) {
			t.Fatalf("GET %s: status %d", p, r.Status)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: Content-Security-Policy %q", p, csp)
		}
		if r.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: X-Frame-Options %q", p, r.Header.Get("X-Frame-Options"))
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: Content-Type %q", p, r.Header.Get("Content-Type"))
		}
		for _, tag := range inlineScript.FindAllString(r.Body, -1) {
			if !strings.Contains(tag, "src=") {
				t.Errorf("GET %s: inline script %s", p, tag)
			}
		}
		if m := inlineHandler.FindString(r.Body); m != "" {
			t.Errorf("GET %s: inline event handler %q", p, m)
		}
		if m := styleAttr.FindString(r.Body); m != "" {
			t.Errorf("GET %s: style attribute %q", p, m)
		}
		if !strings.Contains(r.Body, `<link rel="stylesheet" href="/static/app.css?v=`) {
			t.Errorf("GET %s: no stylesheet", p)
		}
	}
	css := anon.must(200, anon.do("GET", h.dash.assets.url("app.css"), nil))
	if !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") || !strings.Contains(css.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet headers: %v", css.Header)
	}
	js := anon.must(200, anon.do("GET", "/static/app.js", nil))
	if !strings.Contains(js.Header.Get("Content-Type"), "javascript") || js.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("script headers: %v", js.Header)
	}
	anon.must(404, anon.do("GET", "/static/nope.js", nil))
	// Unknown API paths still answer the API's JSON.
	if r := anon.do("GET", "/api/v1/nope", nil); r.Status != 404 || !strings.Contains(r.Header.Get("Content-Type"), "json") {
		t.Errorf("GET /api/v1/nope: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
}
