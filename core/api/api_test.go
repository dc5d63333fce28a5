package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/webhook"
	"github.com/berth-dev/berth/sdk"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// harness is an API server on a fresh database.
type harness struct {
	t     *testing.T
	srv   *api.Server
	store *store.Store
	dbURL string
	token string // setup token

	provider *fakeProvider
	// plugins are real git provider plugins by id (see providers).
	plugins  map[string]sdk.GitProvider
	deployer *queueOnly
}

var testKey = bytes.Repeat([]byte{42}, secrets.KeySize)

// newHarness starts the API on a fresh database; opts change its options
// before it is built.
func newHarness(t *testing.T, opts ...func(*api.Options)) *harness {
	t.Helper()
	url := pgtest.NewDatabase(t)
	box, _ := secrets.New(testKey)
	st, err := store.Open(context.Background(), url, box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok, holder := auth.NewSetupToken()
	h := &harness{t: t, store: st, dbURL: url, token: tok, provider: &fakeProvider{}, plugins: map[string]sdk.GitProvider{}}
	h.deployer = &queueOnly{st: st}
	prov := providers{fake: h.provider, plugins: h.plugins}
	hooks := webhook.New(webhook.Options{Store: st, Providers: prov, Deployer: h.deployer})
	o := api.Options{Store: st, Setup: holder, CSRFKey: box.Derive("csrf"),
		Webhooks: hooks, GitProviders: prov, PublicURL: "https://berth.example.com"}
	for _, f := range opts {
		f(&o)
	}
	h.srv = api.New(o)
	return h
}

// response is a decoded answer.
type response struct {
	Status int
	Body   []byte
	Header http.Header
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r response) errorMessage() string {
	var e api.ErrorBody
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Message
}

// do sends a request with optional bearer token and JSON body.
func (h *harness) do(method, path, token string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.srv.App().Test(req, -1)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	data, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Body: data, Header: resp.Header}
}

func (h *harness) must(status int, r response) response {
	h.t.Helper()
	if r.Status != status {
		h.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

const password = "correct horse battery"

// setup creates the first admin and returns an API key for them.
func (h *harness) setup() string {
	h.t.Helper()
	r := h.must(201, h.do("POST", "/api/v1/setup", "", map[string]any{"token": h.token, "email": "admin@example.com",
		"name": "Admin", "password": password, "organization": "Acme"}))
	return h.apiKeyFromSession(r)
}

// apiKeyFromSession uses the session cookie and CSRF token of a login or
// setup answer to create an API key.
func (h *harness) apiKeyFromSession(r response) string {
	h.t.Helper()
	var sess api.SessionResponse
	r.json(h.t, &sess)
	cookie := sessionCookie(r)
	kr := h.must(201, h.do("POST", "/api/v1/api-keys", "", map[string]any{"name": "test"}, "Cookie", cookie, api.CSRFHeader, sess.CSRFToken))
	var key api.CreatedAPIKey
	kr.json(h.t, &key)
	return key.Token
}

func sessionCookie(r response) string {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == api.SessionCookie {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

func TestSetupRequiresToken(t *testing.T) {
	h := newHarness(t)
	var st api.SetupStatus
	h.must(200, h.do("GET", "/api/v1/setup", "", nil)).json(t, &st)
	if !st.Needed {
		t.Fatal("fresh instance should need setup")
	}
	body := func(token string) map[string]any {
		return map[string]any{"token": token, "email": "a@example.com", "name": "A", "password": password}
	}
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no token", map[string]any{"email": "a@example.com", "name": "A", "password": password}, 422, "token"},
		{"wrong token", body("setup_wrong"), 403, "token"},
		{"bad email", map[string]any{"token": h.token, "email": "nope", "name": "A", "password": password}, 422, "email"},
		{"short password", map[string]any{"token": h.token, "email": "a@example.com", "name": "A", "password": "short"}, 422, "password"},
		{"unknown field", map[string]any{"token": h.token, "admin": true}, 400, "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("POST", "/api/v1/setup", "", tt.body)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			var e api.ErrorBody
			r.json(t, &e)
			if e.Error.Field != tt.field || !strings.HasPrefix(e.Error.Message, tt.field+":") {
				t.Fatalf("error %+v does not name field %q", e.Error, tt.field)
			}
		})
	}
	if n, _ := h.store.CountUsers(context.Background()); n != 0 {
		t.Fatalf("failed setups created %d users", n)
	}
	h.setup()
	h.must(409, h.do("POST", "/api/v1/setup", "", body(h.token)))
	h.must(200, h.do("GET", "/api/v1/setup", "", nil)).json(t, &st)
	if st.Needed {
		t.Fatal("setup still needed after setup")
	}
}

// publicRoutes are the only routes reachable without credentials.
var publicRoutes = map[string]bool{
	"GET /healthz":              true,
	"HEAD /healthz":             true,
	"GET /api/v1/openapi.json":  true,
	"HEAD /api/v1/openapi.json": true,
	"GET /api/v1/setup":         true,
	"HEAD /api/v1/setup":        true,
	"POST /api/v1/setup":        true,
	"POST /api/v1/auth/login":   true,
}

// webhookRoutes authenticate by signature or deploy token instead of
// credentials: without them they answer 401 too.
var webhookRoutes = map[string]bool{
	"POST /api/v1/webhooks/git/:hook":    true,
	"POST /api/v1/webhooks/deploy/:hook": true,
	"POST /api/v1/webhooks/image/:hook":  true,
}

// concretePath fills Fiber path parameters with syntactically valid values.
func concretePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
			if s == ":key" {
				parts[i] = "SOME_KEY"
			}
		}
	}
	return strings.Join(parts, "/")
}

// TestEveryRouteRequiresAuthentication enumerates the router itself, so a
// route added later without authentication fails here.
func TestEveryRouteRequiresAuthentication(t *testing.T) {
	h := newHarness(t)
	key := h.setup()
	login := h.must(200, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "admin@example.com", "password": password}))
	cookie := sessionCookie(login)
	seen := 0
	for _, r := range h.srv.App().GetRoutes(true) {
		id := r.Method + " " + r.Path
		if r.Method == "CONNECT" || r.Method == "TRACE" || r.Method == "OPTIONS" {
			continue
		}
		seen++
		path := concretePath(r.Path)
		t.Run(id, func(t *testing.T) {
			for _, cred := range []struct{ name, header, value string }{
				{"none", "", ""},
				{"bad bearer", "Authorization", "Bearer berth_not-a-real-key"},
				{"malformed authorization", "Authorization", "Basic YWRtaW46cGFzcw=="},
				{"bad session", "Cookie", api.SessionCookie + "=bs_forged"},
			} {
				var headers []string
				if cred.header != "" {
					headers = []string{cred.header, cred.value}
				}
				resp := h.do(r.Method, path, "", "{}", headers...)
				if webhookRoutes[id] && resp.Status != 401 {
					t.Fatalf("webhook route with %s credentials and no signature or token: status %d, want 401: %s", cred.name, resp.Status, resp.Body)
				}
				if publicRoutes[id] {
					if resp.Status == 401 {
						t.Fatalf("public route answered 401 with %s", cred.name)
					}
					continue
				}
				if resp.Status != 401 {
					t.Fatalf("with %s credentials: status %d, want 401: %s", cred.name, resp.Status, resp.Body)
				}
			}
			if webhookRoutes[id] {
				// Webhooks take no session or API key at all: a valid one
				// without the webhook's signature or token is still a 401.
				for _, headers := range [][]string{{"Cookie", cookie}, {"Authorization", "Bearer " + key}} {
					if resp := h.do(r.Method, path, "", "{}", headers...); resp.Status != 401 {
						t.Fatalf("webhook route with %s: status %d, want 401: %s", headers[0], resp.Status, resp.Body)
					}
				}
				return
			}
			if publicRoutes[id] || r.Method == "GET" || r.Method == "HEAD" {
				return
			}
			// A valid session without the CSRF token must not change anything.
			resp := h.do(r.Method, path, "", "{}", "Cookie", cookie)
			if resp.Status != 403 {
				t.Fatalf("session without CSRF token: status %d, want 403: %s", resp.Status, resp.Body)
			}
		})
	}
	if seen < 40 {
		t.Fatalf("enumerated only %d routes", seen)
	}
	// And a valid key is accepted everywhere authenticated.
	h.must(200, h.do("GET", "/metrics", key, nil))
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newHarness(t)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	h.must(200, h.do("GET", "/api/v1/openapi.json", "", nil)).json(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, r := range h.srv.App().GetRoutes(true) {
		if r.Method == "HEAD" || r.Path == "/" {
			continue
		}
		id := r.Method + " " + api.OpenAPIPath(r.Path)
		served[id] = true
		if !documented[id] {
			t.Errorf("route %s is not in the OpenAPI document", id)
		}
	}
	for id := range documented {
		if !served[id] {
			t.Errorf("documented %s is not served", id)
		}
	}
}

// orgSetup creates the admin, a project and an application, returning ids.
type fixture struct {
	key, orgID, projectID, envID, appID string
}

func (h *harness) fixture() fixture {
	h.t.Helper()
	f := fixture{key: h.setup()}
	var proj api.ProjectWithEnvironments
	h.must(201, h.do("POST", "/api/v1/projects", f.key, map[string]any{"name": "Shop", "description": "web shop"})).json(h.t, &proj)
	if len(proj.Environments) != 1 || proj.Environments[0].Name != "production" {
		h.t.Fatalf("new project environments = %+v, want production", proj.Environments)
	}
	f.orgID, f.projectID, f.envID = proj.OrganizationID.String(), proj.ID.String(), proj.Environments[0].ID.String()
	var a store.Application
	h.must(201, h.do("POST", "/api/v1/environments/"+f.envID+"/applications", f.key, map[string]any{
		"name": "web", "git_repository": "https://example.com/shop.git", "git_ref": "main", "port": 8080})).json(h.t, &a)
	f.appID = a.ID.String()
	return f
}

func TestProjectTreeRoundTrip(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()

	var p store.Project
	h.must(200, h.do("PATCH", "/api/v1/projects/"+f.projectID, f.key, map[string]any{"description": "new"})).json(t, &p)
	if p.Name != "Shop" || p.Description != "new" {
		t.Fatalf("patched project = %+v", p)
	}
	h.must(409, h.do("POST", "/api/v1/projects", f.key, map[string]any{"name": "Shop"}))

	var staging store.Environment
	h.must(201, h.do("POST", "/api/v1/projects/"+f.projectID+"/environments", f.key, map[string]any{"name": "staging"})).json(t, &staging)
	var envs api.List[store.Environment]
	h.must(200, h.do("GET", "/api/v1/projects/"+f.projectID+"/environments", f.key, nil)).json(t, &envs)
	if len(envs.Items) != 2 {
		t.Fatalf("environments = %d, want 2", len(envs.Items))
	}

	var a store.Application
	h.must(200, h.do("GET", "/api/v1/applications/"+f.appID, f.key, nil)).json(t, &a)
	if a.SourceType != "git" || a.BuildType != "auto" || a.Replicas != 1 || a.Port != 8080 || !strings.HasPrefix(a.ServiceName, "web-") {
		t.Fatalf("application defaults wrong: %+v", a)
	}
	h.must(200, h.do("PATCH", "/api/v1/applications/"+f.appID, f.key, map[string]any{"replicas": 3, "source_type": "image", "image": "ghcr.io/acme/web:1.2"})).json(t, &a)
	if a.Replicas != 3 || a.Image != "ghcr.io/acme/web:1.2" || a.GitRepository != "https://example.com/shop.git" {
		t.Fatalf("patched application = %+v", a)
	}

	var d store.Domain
	h.must(201, h.do("POST", "/api/v1/applications/"+f.appID+"/domains", f.key, map[string]any{"host": "Shop.Example.com", "path_prefix": "/api", "strip_prefix": true})).json(t, &d)
	if d.Host != "shop.example.com" || d.HTTPS != "none" {
		t.Fatalf("domain = %+v", d)
	}
	h.must(409, h.do("POST", "/api/v1/applications/"+f.appID+"/domains", f.key, map[string]any{"host": "shop.example.com", "path_prefix": "/api"}))
	h.must(200, h.do("PATCH", "/api/v1/domains/"+d.ID.String(), f.key, map[string]any{"https": "letsencrypt", "redirect_https": true,
		"basic_auth": []map[string]any{{"username": "ann", "password": "s3cret-pass"}},
		"redirects":  []map[string]any{{"regex": "^https?://old\\.example\\.com/(.*)", "replacement": "https://shop.example.com/${1}", "permanent": true}}})).json(t, &d)
	if len(d.BasicAuthUsers) != 1 || d.BasicAuthUsers[0] != "ann" || len(d.Redirects) != 1 {
		t.Fatalf("domain auth/redirects = %+v %+v", d.BasicAuthUsers, d.Redirects)
	}
	if raw := h.do("GET", "/api/v1/domains/"+d.ID.String(), f.key, nil); strings.Contains(string(raw.Body), "$2a$") || strings.Contains(string(raw.Body), "s3cret-pass") {
		t.Fatalf("domain answer leaks the basic auth hash or password: %s", raw.Body)
	}
	if d.HTTPS != "letsencrypt" || !d.RedirectHTTPS || d.PathPrefix != "/api" {
		t.Fatalf("patched domain = %+v", d)
	}

	var apps api.List[store.Application]
	h.must(200, h.do("GET", "/api/v1/applications?project_id="+f.projectID, f.key, nil)).json(t, &apps)
	if len(apps.Items) != 1 {
		t.Fatalf("applications = %d", len(apps.Items))
	}
	h.must(200, h.do("GET", "/api/v1/applications?environment_id="+staging.ID.String(), f.key, nil)).json(t, &apps)
	if len(apps.Items) != 0 {
		t.Fatalf("staging applications = %d", len(apps.Items))
	}

	h.must(204, h.do("DELETE", "/api/v1/domains/"+d.ID.String(), f.key, nil))
	h.must(404, h.do("GET", "/api/v1/domains/"+d.ID.String(), f.key, nil))
	h.must(204, h.do("DELETE", "/api/v1/applications/"+f.appID, f.key, nil))
	h.must(204, h.do("DELETE", "/api/v1/environments/"+staging.ID.String(), f.key, nil))
	h.must(409, h.do("DELETE", "/api/v1/environments/"+f.envID, f.key, nil))  // last one
	h.must(409, h.do("DELETE", "/api/v1/organizations/"+f.orgID, f.key, nil)) // still has projects
	h.must(204, h.do("DELETE", "/api/v1/projects/"+f.projectID, f.key, nil))
	h.must(404, h.do("GET", "/api/v1/environments/"+f.envID, f.key, nil))
}

func TestPagination(t *testing.T) {
	h := newHarness(t)
	key := h.setup()
	for i := 0; i < 7; i++ {
		h.must(201, h.do("POST", "/api/v1/projects", key, map[string]any{"name": fmt.Sprintf("p%d", i)}))
	}
	var names []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		var l api.List[store.Project]
		h.must(200, h.do("GET", "/api/v1/projects?limit=3"+cursor, key, nil)).json(t, &l)
		for _, p := range l.Items {
			names = append(names, p.Name)
		}
		if l.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *l.NextCursor
	}
	if strings.Join(names, ",") != "p0,p1,p2,p3,p4,p5,p6" {
		t.Fatalf("paged names = %v", names)
	}
	for _, q := range []string{"limit=0", "limit=201", "limit=x", "cursor=nope"} {
		r := h.must(400, h.do("GET", "/api/v1/projects?"+q, key, nil))
		field, _, _ := strings.Cut(q, "=")
		if !strings.HasPrefix(r.errorMessage(), field+":") {
			t.Errorf("%s: message %q does not name the field", q, r.errorMessage())
		}
	}
}

// TestBadInputIsA4xxNamingTheField sends malformed and invalid bodies to
// every writable resource: never a 500, always the field in the message.
func TestBadInputIsA4xxNamingTheField(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	apps := "/api/v1/environments/" + f.envID + "/applications"
	tests := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"not json", "POST", "/api/v1/projects", "{nope", 400, "body"},
		{"empty body", "POST", "/api/v1/projects", "", 400, "body"},
		{"array body", "POST", "/api/v1/projects", "[]", 400, "body"},
		{"wrong type", "POST", "/api/v1/projects", map[string]any{"name": 5}, 400, "name"},
		{"trailing data", "POST", "/api/v1/projects", `{"name":"a"} {}`, 400, "body"},
		{"project name missing", "POST", "/api/v1/projects", map[string]any{}, 422, "name"},
		{"project name too long", "POST", "/api/v1/projects", map[string]any{"name": strings.Repeat("x", 101)}, 422, "name"},
		{"project control chars", "POST", "/api/v1/projects", map[string]any{"name": "a\x00b"}, 422, "name"},
		{"env name uppercase", "POST", "/api/v1/projects/" + f.projectID + "/environments", map[string]any{"name": "Prod"}, 422, "name"},
		{"app name", "POST", apps, map[string]any{"name": "Web App", "image": "nginx"}, 422, "name"},
		{"app no source", "POST", apps, map[string]any{"name": "a"}, 422, "git_repository"},
		{"app bad source type", "POST", apps, map[string]any{"name": "a", "source_type": "ftp"}, 422, "source_type"},
		{"app bad image", "POST", apps, map[string]any{"name": "a", "image": "UPPER/Case:bad tag"}, 422, "image"},
		{"app git option injection", "POST", apps, map[string]any{"name": "a", "git_repository": "--upload-pack=touch /tmp/x"}, 422, "git_repository"},
		{"app bad ref", "POST", apps, map[string]any{"name": "a", "git_repository": "https://x/y.git", "git_ref": "-x"}, 422, "git_ref"},
		{"app port", "POST", apps, map[string]any{"name": "a", "image": "nginx", "port": 70000}, 422, "port"},
		{"app replicas", "POST", apps, map[string]any{"name": "a", "image": "nginx", "replicas": -1}, 422, "replicas"},
		{"app memory", "POST", apps, map[string]any{"name": "a", "image": "nginx", "memory_limit_mb": 1}, 422, "memory_limit_mb"},
		{"app build settings", "POST", apps, map[string]any{"name": "a", "image": "nginx", "build_settings": []int{1}}, 422, "build_settings"},
		{"app port type", "PATCH", "/api/v1/applications/" + f.appID, map[string]any{"port": "80"}, 400, "port"},
		{"domain host", "POST", "/api/v1/applications/" + f.appID + "/domains", map[string]any{"host": "not a host"}, 422, "host"},
		{"domain rule injection", "POST", "/api/v1/applications/" + f.appID + "/domains", map[string]any{"host": "a.com`) || Host(`b.com"}, 422, "host"},
		{"domain path", "POST", "/api/v1/applications/" + f.appID + "/domains", map[string]any{"host": "a.com", "path_prefix": "no-slash"}, 422, "path_prefix"},
		{"domain https", "POST", "/api/v1/applications/" + f.appID + "/domains", map[string]any{"host": "a.com", "https": "maybe"}, 422, "https"},
		{"domain custom without cert", "POST", "/api/v1/applications/" + f.appID + "/domains", map[string]any{"host": "a.com", "https": "custom"}, 422, "certificate_pem"},
		{"domain bad cert", "POST", "/api/v1/applications/" + f.appID + "/domains", map[string]any{"host": "a.com", "https": "custom", "certificate_pem": "x", "private_key_pem": "y"}, 422, "certificate_pem"},
		{"domain bad regex", "POST", "/api/v1/applications/" + f.appID + "/domains", map[string]any{"host": "r.com", "redirects": []map[string]any{{"regex": "(", "replacement": "https://x"}}}, 422, "redirects[0].regex"},
		{"domain basic auth user", "POST", "/api/v1/applications/" + f.appID + "/domains", map[string]any{"host": "b.com", "basic_auth": []map[string]any{{"username": "a:b", "password": "longenough"}}}, 422, "basic_auth[0].username"},
		{"domain basic auth password", "POST", "/api/v1/applications/" + f.appID + "/domains", map[string]any{"host": "b.com", "basic_auth": []map[string]any{{"username": "ann", "password": "short"}}}, 422, "basic_auth[0].password"},
		{"app mount target", "PATCH", "/api/v1/applications/" + f.appID, map[string]any{"mounts": []map[string]any{{"type": "volume", "source": "data", "target": "relative"}}}, 422, "mounts[0].target"},
		{"app docker socket", "PATCH", "/api/v1/applications/" + f.appID, map[string]any{"mounts": []map[string]any{{"type": "bind", "source": "/var/run/docker.sock", "target": "/s"}}}, 422, "mounts[0].source"},
		{"app port mode", "PATCH", "/api/v1/applications/" + f.appID, map[string]any{"ports": []map[string]any{{"target": 53, "published": 53, "mode": "magic"}}}, 422, "ports[0].mode"},
		{"app restart policy", "PATCH", "/api/v1/applications/" + f.appID, map[string]any{"restart_policy": "sometimes"}, 422, "restart_policy"},
		{"app placement", "PATCH", "/api/v1/applications/" + f.appID, map[string]any{"placement": []string{"node.role ~ manager"}}, 422, "placement[0]"},
		{"app reserved label", "PATCH", "/api/v1/applications/" + f.appID, map[string]any{"labels": map[string]string{"dev.berth.app-id": "x"}}, 422, "labels.dev.berth.app-id"},
		{"app file target", "PATCH", "/api/v1/applications/" + f.appID, map[string]any{"files": []map[string]any{{"target": "../etc/passwd", "content": "x"}}}, 422, "files[0].target"},
		{"app keep releases", "PATCH", "/api/v1/applications/" + f.appID, map[string]any{"keep_releases": 0}, 422, "keep_releases"},
		{"app health check retries", "PATCH", "/api/v1/applications/" + f.appID, map[string]any{"health_check": map[string]any{"test": []string{"/app", "healthcheck"}, "retries": -1}}, 422, "health_check.retries"},
		{"deploy bad ref", "POST", "/api/v1/applications/" + f.appID + "/deployments", map[string]any{"git_ref": "--force"}, 422, "git_ref"},
		{"variable name", "PUT", "/api/v1/applications/" + f.appID + "/variables/1BAD", map[string]any{"value": "x"}, 422, "key"},
		{"variable reference", "PUT", "/api/v1/applications/" + f.appID + "/variables/GOOD", map[string]any{"value": "${{project.}}"}, 422, "value"},
		{"variables map", "PUT", "/api/v1/projects/" + f.projectID + "/variables", map[string]any{"variables": map[string]any{"A-B": "x"}}, 422, "variables.A-B"},
		{"api key name", "POST", "/api/v1/api-keys", map[string]any{"name": ""}, 422, "name"},
		{"api key expiry", "POST", "/api/v1/api-keys", map[string]any{"name": "k", "expires_in_days": 99999}, 422, "expires_in_days"},
		{"member role", "POST", "/api/v1/organizations/" + f.orgID + "/members", map[string]any{"email": "b@example.com", "name": "B", "password": password, "role": "god"}, 422, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, f.key, tt.body)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			var e api.ErrorBody
			r.json(t, &e)
			if e.Error.Field != tt.field || !strings.HasPrefix(e.Error.Message, tt.field+":") {
				t.Fatalf("error %+v does not name field %q", e.Error, tt.field)
			}
		})
	}
}

func TestTenantsAreIsolated(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	// A second user in a new organization of their own.
	h.must(201, h.do("POST", "/api/v1/organizations/"+f.orgID+"/members", f.key, map[string]any{
		"email": "viewer@example.com", "name": "V", "password": password, "role": "viewer"}))
	viewerKey := h.apiKeyFromSession(h.must(200, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "viewer@example.com", "password": password})))
	h.must(200, h.do("GET", "/api/v1/projects/"+f.projectID, viewerKey, nil))
	h.must(403, h.do("PATCH", "/api/v1/projects/"+f.projectID, viewerKey, map[string]any{"name": "x"}))
	h.must(403, h.do("GET", "/api/v1/applications/"+f.appID+"/variables", viewerKey, nil))

	// Creating organizations is for instance administrators unless the
	// instance allows it.
	wantField(t, h.do("POST", "/api/v1/organizations", viewerKey, map[string]any{"name": "Other"}), 403, "name")
	h.must(200, h.do("PUT", "/api/v1/instance/settings", f.key, map[string]any{"allow_organization_creation": true}))
	var other store.Organization
	h.must(201, h.do("POST", "/api/v1/organizations", viewerKey, map[string]any{"name": "Other"})).json(t, &other)
	var otherProj api.ProjectWithEnvironments
	h.must(201, h.do("POST", "/api/v1/projects", viewerKey, map[string]any{"name": "Theirs", "organization_id": other.ID})).json(t, &otherProj)
	// The admin of Acme is not a member of Other: everything is a 404.
	h.must(404, h.do("GET", "/api/v1/projects/"+otherProj.ID.String(), f.key, nil))
	h.must(404, h.do("DELETE", "/api/v1/projects/"+otherProj.ID.String(), f.key, nil))
	h.must(404, h.do("GET", "/api/v1/environments/"+otherProj.Environments[0].ID.String(), f.key, nil))
	var list api.List[store.Project]
	h.must(200, h.do("GET", "/api/v1/projects", f.key, nil)).json(t, &list)
	for _, p := range list.Items {
		if p.ID == otherProj.ID {
			t.Fatal("another tenant's project is listed")
		}
	}
	// Wrong login and revoked keys are refused.
	h.must(401, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "viewer@example.com", "password": "wrong password!"}))
	var keys api.List[store.APIKey]
	h.must(200, h.do("GET", "/api/v1/api-keys", viewerKey, nil)).json(t, &keys)
	h.must(204, h.do("DELETE", "/api/v1/api-keys/"+keys.Items[0].ID.String(), viewerKey, nil))
	h.must(401, h.do("GET", "/api/v1/projects", viewerKey, nil))
}

func TestVariablesResolveAcrossLevels(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	h.must(200, h.do("PUT", "/api/v1/projects/"+f.projectID+"/variables", f.key, map[string]any{"variables": map[string]string{"DB_PASSWORD": "s3cret"}}))
	h.must(200, h.do("PUT", "/api/v1/environments/"+f.envID+"/variables/DOMAIN", f.key, map[string]any{"value": "shop.example.com"}))
	h.must(200, h.do("PUT", "/api/v1/applications/"+f.appID+"/variables/DATABASE_URL", f.key, map[string]any{"value": "postgres://app:${{project.DB_PASSWORD}}@db/app"}))
	h.must(200, h.do("PUT", "/api/v1/applications/"+f.appID+"/variables/URL", f.key, map[string]any{"value": "https://${{environment.DOMAIN}}"}))
	var res api.ResolvedVariables
	h.must(200, h.do("GET", "/api/v1/applications/"+f.appID+"/variables/resolved", f.key, nil)).json(t, &res)
	if res.Variables["DATABASE_URL"] != "postgres://app:s3cret@db/app" || res.Variables["URL"] != "https://shop.example.com" || len(res.Variables) != 2 {
		t.Fatalf("resolved = %v", res.Variables)
	}
	// A missing reference is a clear error naming the variable.
	h.must(200, h.do("PUT", "/api/v1/applications/"+f.appID+"/variables/BROKEN", f.key, map[string]any{"value": "${{project.NOPE}}"}))
	r := h.must(422, h.do("GET", "/api/v1/applications/"+f.appID+"/variables/resolved", f.key, nil))
	if !strings.Contains(r.errorMessage(), "application.BROKEN") || !strings.Contains(r.errorMessage(), "not defined") {
		t.Fatalf("missing reference message = %q", r.errorMessage())
	}
	// A circular one too.
	h.must(200, h.do("PUT", "/api/v1/applications/"+f.appID+"/variables/BROKEN", f.key, map[string]any{"value": "${{LOOP}}"}))
	h.must(200, h.do("PUT", "/api/v1/applications/"+f.appID+"/variables/LOOP", f.key, map[string]any{"value": "${{BROKEN}}"}))
	r = h.must(422, h.do("GET", "/api/v1/applications/"+f.appID+"/variables/resolved", f.key, nil))
	if !strings.Contains(r.errorMessage(), "circular") {
		t.Fatalf("circular reference message = %q", r.errorMessage())
	}
	h.must(204, h.do("DELETE", "/api/v1/applications/"+f.appID+"/variables/LOOP", f.key, nil))
	h.must(404, h.do("DELETE", "/api/v1/applications/"+f.appID+"/variables/LOOP", f.key, nil))
	var list api.VariableList
	h.must(200, h.do("GET", "/api/v1/applications/"+f.appID+"/variables", f.key, nil)).json(t, &list)
	if len(list.Items) != 3 || list.Items[0].Key != "BROKEN" {
		t.Fatalf("variables = %+v", list.Items)
	}
}

func TestCLIStyleLoginAndLogout(t *testing.T) {
	h := newHarness(t)
	h.setup()
	login := h.must(200, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "ADMIN@example.com", "password": password}))
	cookie := sessionCookie(login)
	var sess api.SessionResponse
	h.must(200, h.do("GET", "/api/v1/auth/session", "", nil, "Cookie", cookie)).json(t, &sess)
	if sess.User.Email != "admin@example.com" || len(sess.Organizations) != 1 || sess.Organizations[0].Role != store.RoleOwner || sess.CSRFToken == "" {
		t.Fatalf("session = %+v", sess)
	}
	h.must(204, h.do("POST", "/api/v1/auth/logout", "", nil, "Cookie", cookie, api.CSRFHeader, sess.CSRFToken))
	h.must(401, h.do("GET", "/api/v1/auth/session", "", nil, "Cookie", cookie))
}
