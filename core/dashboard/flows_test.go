package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

var metaCSRF = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

// TestSetupSignInAndAPI walks the first visit: setup with the one-time
// token, then the same session and CSRF token drive the REST API.
func TestSetupSignInAndAPI(t *testing.T) {
	h := newHarness(t)
	c := newClient(h)
	r := c.must(303, c.do("GET", "/apps/"+uuid.NewString()+"?tab=1", nil))
	if want := "/login?next=" + url.QueryEscape("/apps/"); !strings.HasPrefix(r.Location(), want) {
		t.Fatalf("signed-out page redirected to %q, want %s...", r.Location(), want)
	}
	if r := c.must(303, c.do("GET", "/login", nil)); r.Location() != "/setup" {
		t.Fatalf("sign-in before setup redirected to %q, want /setup", r.Location())
	}
	c.must(200, c.do("GET", "/setup", nil))
	valid := url.Values{"token": {h.setupToken}, "email": {"admin@example.com"}, "name": {"Admin"}, "password": {password}}
	with := func(k, v string) url.Values {
		out := url.Values{}
		for key, vals := range valid {
			out[key] = append([]string(nil), vals...)
		}
		out.Set(k, v)
		return out
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"no token", with("token", ""), 422, "is required"},
		{"wrong token", with("token", "setup_wrong"), 403, "does not match the setup token"},
		{"bad email", with("email", "not-an-email"), 422, "is not a valid email address"},
		{"short password", with("password", "short"), 422, "at least 10 characters"},
		{"control character in name", with("name", "A\x01"), 422, "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post("/setup", tt.form)
			if r.Status != tt.status || !strings.Contains(r.Body, `<span class="field-error" role="alert">`) || !strings.Contains(r.Body, tt.msg) {
				t.Fatalf("status %d, want %d with a field error %q:\n%.1500s", r.Status, tt.status, tt.msg, r.Body)
			}
		})
	}
	if n, _ := h.store.CountUsers(context.Background()); n != 0 {
		t.Fatalf("failed setups created %d users", n)
	}
	if r := c.must(303, c.post("/setup", valid)); r.Location() != "/" {
		t.Fatalf("setup redirected to %q", r.Location())
	}
	home := c.must(200, c.do("GET", "/", nil))
	if !strings.Contains(home.Body, "Welcome to berth") {
		t.Errorf("no welcome message after setup")
	}
	// The page's CSRF token is the API's: the page's script can call the API.
	m := metaCSRF.FindStringSubmatch(home.Body)
	if m == nil || m[1] == "" {
		t.Fatal("no csrf-token meta tag")
	}
	var sess api.SessionResponse
	sr := c.must(200, c.do("GET", "/api/v1/auth/session", nil))
	if err := json.Unmarshal([]byte(sr.Body), &sess); err != nil {
		t.Fatal(err)
	}
	if sess.CSRFToken != m[1] || sess.User.Email != "admin@example.com" {
		t.Fatalf("API session %+v, page CSRF %q", sess, m[1])
	}
	c.must(201, c.json("POST", "/api/v1/api-keys", `{"name": "from the page"}`, api.CSRFHeader, m[1]))
	c.must(403, c.json("POST", "/api/v1/projects", `{"name": "no csrf"}`))

	// Setup is over: its page sends people to sign in, and it cannot run twice.
	if r := c.must(303, c.do("GET", "/setup", nil)); r.Location() != "/login" {
		t.Fatalf("setup after setup redirected to %q", r.Location())
	}
	// Sign out, then in again with a next page.
	c.must(303, c.post("/logout", nil))
	c.must(303, c.do("GET", "/", nil))
	c.must(200, c.do("GET", "/login?next=/keys", nil))
	if r := c.post("/login", url.Values{"email": {"admin@example.com"}, "password": {"wrong password!"}, "next": {"/keys"}}); r.Status != 401 ||
		!strings.Contains(r.Body, "Email or password is wrong.") {
		t.Fatalf("wrong password: %d", r.Status)
	}
	r = c.must(303, c.post("/login", url.Values{"email": {"admin@example.com"}, "password": {password}, "next": {"/keys"}}))
	if r.Location() != "/keys" {
		t.Fatalf("sign-in redirected to %q, want /keys", r.Location())
	}
}

// TestFormsShowErrorsNextToFields submits bad input to every form: each
// answer is the page again with the message next to the field, never a 500.
func TestFormsShowErrorsNextToFields(t *testing.T) {
	h := newHarness(t)
	c := h.setup()
	f := h.fixture(c)
	proj := "/projects/" + f.project.ID.String()
	app := appURL(f.app.ID)
	env := f.env.ID.String()
	routeChanges := h.watchRoutes()
	tests := []struct {
		name, path string
		form       url.Values
		status     int
		field, msg string
	}{
		{"project without name", "/projects", url.Values{"name": {" "}}, 422, "name", "is required"},
		{"duplicate project", "/projects", url.Values{"name": {"Shop"}}, 409, "name", "already exists"},
		{"environment name", proj + "/environments", url.Values{"name": {"Staging!"}}, 422, "name", "lowercase letters"},
		{"duplicate environment", proj + "/environments", url.Values{"name": {"production"}}, 409, "name", "already exists"},
		{"app without environment", proj + "/applications", url.Values{"name": {"api"}}, 422, "environment_id", "choose an environment"},
		{"app name", proj + "/applications", url.Values{"environment_id": {env}, "name": {"API"}, "source_type": {"git"}, "git_repository": {"https://x/y.git"}, "build_type": {"dockerfile"}}, 422, "name", "lowercase"},
		{"app repository", proj + "/applications", url.Values{"environment_id": {env}, "name": {"api"}, "source_type": {"git"}, "git_repository": {"--upload-pack=evil"}, "build_type": {"dockerfile"}}, 422, "git_repository", "must not start with"},
		{"app ref", proj + "/applications", url.Values{"environment_id": {env}, "name": {"api"}, "source_type": {"git"}, "git_repository": {"https://x/y.git"}, "git_ref": {"a..b"}, "build_type": {"dockerfile"}}, 422, "git_ref", "not a valid branch"},
		{"app image", proj + "/applications", url.Values{"environment_id": {env}, "name": {"api"}, "source_type": {"image"}, "image": {"UPPER:case:x"}}, 422, "image", "not a valid image reference"},
		{"app port", proj + "/applications", url.Values{"environment_id": {env}, "name": {"api"}, "source_type": {"image"}, "image": {"nginx"}, "port": {"eighty"}}, 422, "port", "whole number"},
		{"duplicate app", proj + "/applications", url.Values{"environment_id": {env}, "name": {"web"}, "source_type": {"image"}, "image": {"nginx"}}, 409, "name", "already exists"},
		{"settings replicas", app + "/settings", url.Values{"source_type": {"git"}, "git_repository": {"https://x/y.git"}, "build_type": {"dockerfile"}, "replicas": {"500"}}, 422, "replicas", "from 0 to 100"},
		{"settings memory", app + "/settings", url.Values{"source_type": {"git"}, "git_repository": {"https://x/y.git"}, "build_type": {"dockerfile"}, "memory_limit_mb": {"3"}}, 422, "memory_limit_mb", "from 6"},
		{"settings cpu", app + "/settings", url.Values{"source_type": {"git"}, "git_repository": {"https://x/y.git"}, "build_type": {"dockerfile"}, "cpu_limit": {"lots"}}, 422, "cpu_limit", "must be a number"},
		{"variable name", app + "/variables", url.Values{"key": {"1BAD"}, "value": {"x"}}, 422, "key", "must start with a letter"},
		{"variable reference", app + "/variables", url.Values{"key": {"URL"}, "value": {"${{project.}}"}}, 422, "value", "malformed reference"},
		{"domain host", app + "/domains", url.Values{"host": {"not a host"}}, 422, "host", "not a valid"},
		{"duplicate domain", app + "/domains", url.Values{"host": {"shop.example.com"}}, 409, "host", "already exists"},
		{"domain redirect without https", app + "/domains", url.Values{"host": {"x.example.com"}, "redirect_https": {"on"}}, 422, "https", ""},
		{"deploy ref", app + "/deploy", url.Values{"git_ref": {"bad ref"}}, 422, "git_ref", "not a valid branch"},
		{"key name", "/keys", url.Values{"name": {""}}, 422, "name", "is required"},
		{"key expiry", "/keys", url.Values{"name": {"ci"}, "expires_in_days": {"99999"}}, 422, "expires_in_days", "3650"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post(tt.path, tt.form)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d:\n%.2000s", r.Status, tt.status, r.Body)
			}
			if !strings.Contains(r.Body, `<span class="field-error" role="alert">`) || !strings.Contains(r.Body, tt.msg) {
				t.Fatalf("no field error %q for %s:\n%.3000s", tt.msg, tt.field, r.Body)
			}
			// The message follows the field's own input.
			if got := fieldBefore(r.Body, `class="field-error"`); got != tt.field {
				t.Fatalf("the field error follows the input %q, want %q", got, tt.field)
			}
		})
	}
	if n := routeChanges(); n != 0 {
		t.Errorf("failed forms changed routes %d times", n)
	}
}

// TestApplicationLifecycle creates, changes, deploys, cancels and rolls
// back through the forms, checking what each page shows afterwards.
func TestApplicationLifecycle(t *testing.T) {
	h := newHarness(t)
	c := h.setup()
	ctx := context.Background()
	r := c.must(303, c.post("/projects", url.Values{"name": {"Blog"}, "description": {"my blog"}}))
	projURL := r.Location()
	page := c.must(200, c.do("GET", projURL, nil)).Body
	for _, want := range []string{"Blog", "production", "Project Blog created", "<option>dockerfile</option>", "<option>static</option>"} {
		if !strings.Contains(page, want) {
			t.Errorf("project page lacks %q", want)
		}
	}
	c.must(303, c.post(projURL+"/environments", url.Values{"name": {"staging"}}))
	p, err := h.store.GetProject(ctx, uuid.MustParse(strings.TrimPrefix(projURL, "/projects/")))
	if err != nil {
		t.Fatal(err)
	}
	envs, _, _ := h.store.ListEnvironments(ctx, p.ID, store.Page{})
	if len(envs) != 2 {
		t.Fatalf("environments %+v", envs)
	}
	r = c.must(303, c.post(projURL+"/applications", url.Values{"environment_id": {envs[0].ID.String()}, "name": {"web"},
		"source_type": {"git"}, "git_repository": {"https://example.com/blog.git"}, "git_ref": {"main"}, "build_type": {"static"}, "port": {"8080"}}))
	appPath := r.Location()
	a, err := h.store.GetApplication(ctx, uuid.MustParse(strings.TrimPrefix(appPath, "/apps/")))
	if err != nil || a.BuildType != "static" || a.Port != 8080 || a.Replicas != 1 {
		t.Fatalf("created application %+v, %v", a, err)
	}

	routeChanges := h.watchRoutes()
	c.must(303, c.post(appPath+"/settings", url.Values{"source_type": {"git"}, "git_repository": {"https://example.com/blog.git"},
		"git_ref": {"release"}, "build_type": {"static"}, "port": {"9090"}, "replicas": {"3"}, "cpu_limit": {"0.5"}, "memory_limit_mb": {"256"}}))
	a, _ = h.store.GetApplication(ctx, a.ID)
	if a.GitRef != "release" || a.Port != 9090 || a.Replicas != 3 || a.CPULimit != 0.5 || a.MemoryLimitMB != 256 {
		t.Fatalf("settings not saved: %+v", a)
	}
	c.must(303, c.post(appPath+"/variables", url.Values{"key": {"API_TOKEN"}, "value": {"s3cret-value"}}))
	if _, err := h.store.SetVariable(ctx, store.ScopeProject, p.ID, "DB_PASSWORD", "project-secret"); err != nil {
		t.Fatal(err)
	}
	c.must(303, c.post(appPath+"/domains", url.Values{"host": {"Blog.Example.com"}, "https": {"letsencrypt"}, "redirect_https": {"on"}}))
	if n := routeChanges(); n != 2 { // settings and domain
		t.Errorf("routes changed %d times, want 2", n)
	}
	page = c.must(200, c.do("GET", appPath, nil)).Body
	for _, want := range []string{"blog.example.com", "HTTPS (Let&#39;s Encrypt), HTTP redirects", "API_TOKEN",
		`type="password" readonly value="s3cret-value"`, "DB_PASSWORD", "Not deployed yet", "release"} {
		if !strings.Contains(page, want) {
			t.Errorf("application page lacks %q", want)
		}
	}

	// Deploy: without confirmation a confirmation page, then queued.
	confirm := c.must(200, c.post(appPath+"/deploy", url.Values{"git_ref": {"v1.2"}})).Body
	if !strings.Contains(confirm, `name="confirmed" value="yes"`) || !strings.Contains(confirm, `name="git_ref" value="v1.2"`) {
		t.Fatalf("deploy confirmation page:\n%s", confirm)
	}
	r = c.must(303, c.post(appPath+"/deploy", url.Values{"git_ref": {"v1.2"}, "confirmed": {"yes"}}))
	depPath := r.Location()
	dep, err := h.store.GetDeployment(ctx, uuid.MustParse(strings.TrimPrefix(depPath, "/deployments/")))
	if err != nil || dep.GitRef != "v1.2" || dep.Status != store.DeploymentQueued || dep.CreatedBy == nil {
		t.Fatalf("deployment %+v, %v", dep, err)
	}
	page = c.must(200, c.do("GET", depPath, nil)).Body
	for _, want := range []string{`data-follow="true"`, `data-deployment="` + dep.ID.String() + `"`, "Waiting for a worker", "Cancel"} {
		if !strings.Contains(page, want) {
			t.Errorf("deployment page lacks %q", want)
		}
	}
	// The builder the build type auto chose, and why.
	if err := h.store.SetDeploymentBuilder(ctx, dep.ID, "builder.static", "found index.html"); err != nil {
		t.Fatal(err)
	}
	page = c.must(200, c.do("GET", depPath, nil)).Body
	if !strings.Contains(page, `<dt>Builder</dt><dd><span class="mono">builder.static</span> <span class="muted">(auto: found index.html)</span>`) {
		t.Errorf("deployment page lacks the builder")
	}
	c.must(303, c.post(depPath+"/cancel", url.Values{"confirmed": {"yes"}}))
	if dep, _ = h.store.GetDeployment(ctx, dep.ID); dep.Status != store.DeploymentCancelled {
		t.Fatalf("after cancel: %s", dep.Status)
	}
	// A cancelled deployment cannot be rolled back to.
	if r := c.post(depPath+"/rollback", url.Values{"confirmed": {"yes"}}); r.Status != 409 {
		t.Fatalf("rollback to a cancelled deployment: %d", r.Status)
	}

	// Two succeeded releases: the older one offers a rollback.
	old := h.succeeded(a.ID, "berth/web:1", 4200)
	h.succeeded(a.ID, "berth/web:2", 900)
	page = c.must(200, c.do("GET", appPath, nil)).Body
	if strings.Count(page, "/rollback\"") != 1 || !strings.Contains(page, deploymentURL(old.ID)+`/rollback"`) {
		t.Errorf("want exactly one rollback button, for the older release")
	}
	if strings.Count(page, `<rect `) != 2 || !strings.Contains(page, "Deployment "+shortID(old.ID)+": 4.2 s, succeeded") {
		t.Errorf("duration chart missing or wrong")
	}
	r = c.must(303, c.post(deploymentURL(old.ID)+"/rollback", url.Values{"confirmed": {"yes"}}))
	rb, err := h.store.GetDeployment(ctx, uuid.MustParse(strings.TrimPrefix(r.Location(), "/deployments/")))
	if err != nil || rb.Kind != store.KindRollback || rb.Image != "berth/web:1" {
		t.Fatalf("rollback %+v, %v", rb, err)
	}

	// Removing a domain and a variable, then the whole project.
	doms, _, _ := h.store.ListDomains(ctx, a.ID, store.Page{})
	c.must(303, c.post("/domains/"+doms[0].ID.String()+"/delete", url.Values{"confirmed": {"yes"}}))
	c.must(303, c.post(appPath+"/variables/delete", url.Values{"key": {"API_TOKEN"}}))
	if vs, _ := h.store.ListVariables(ctx, store.ScopeApplication, a.ID); len(vs) != 0 {
		t.Errorf("variables left: %+v", vs)
	}
	c.must(200, c.post(projURL+"/delete", nil)) // confirmation page
	c.must(303, c.post(projURL+"/delete", url.Values{"confirmed": {"yes"}}))
	if _, err := h.store.GetProject(ctx, p.ID); err == nil {
		t.Fatal("project still exists")
	}
	if !slices.Contains(h.swarm.services, a.ServiceName) || len(h.swarm.networks) == 0 {
		t.Errorf("the deleted project's service and network were not removed: services %v, networks %v",
			h.swarm.services, h.swarm.networks)
	}
	c.must(404, c.do("GET", appPath, nil))
}

var inputName = regexp.MustCompile(` name="([^"]+)"`)

// fieldBefore returns the name of the last input before marker.
func fieldBefore(body, marker string) string {
	at := strings.Index(body, marker)
	if at < 0 {
		return ""
	}
	names := inputName.FindAllStringSubmatch(body[:at], -1)
	if len(names) == 0 {
		return ""
	}
	return names[len(names)-1][1]
}

// succeeded records a finished deployment that released image.
func (h *harness) succeeded(app uuid.UUID, image string, ms int) store.Deployment {
	h.t.Helper()
	ctx := context.Background()
	d, err := h.store.CreateDeployment(ctx, app, store.NewDeployment{Image: image})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.store.StartDeployment(ctx, d.ID); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.store.Pool().Exec(ctx, `UPDATE deployments SET started_at = now() - make_interval(secs => $2::float8 / 1000) WHERE id = $1`, d.ID, ms); err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.FinishDeployment(ctx, d.ID, store.DeploymentResult{Status: store.DeploymentSucceeded, Image: image}); err != nil {
		h.t.Fatal(err)
	}
	d, _ = h.store.GetDeployment(ctx, d.ID)
	return d
}

// TestAPIKeysPage creates a key, shows its token once, and revokes it.
func TestAPIKeysPage(t *testing.T) {
	h := newHarness(t)
	c := h.setup()
	r := c.must(200, c.post("/keys", url.Values{"name": {"laptop"}, "expires_in_days": {"30"}}))
	m := regexp.MustCompile(`id="new-token" class="mono token" readonly value="(berth_[^"]+)"`).FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("token not shown:\n%s", r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("page with a token is cacheable")
	}
	api := newClient(h)
	api.bearer = m[1]
	api.must(200, api.do("GET", "/api/v1/projects", nil))
	page := c.must(200, c.do("GET", "/keys", nil)).Body
	if strings.Contains(page, m[1]) || !strings.Contains(page, "laptop") {
		t.Fatalf("keys page shows the token again or misses the key")
	}
	keys, _, _ := h.store.ListAPIKeys(context.Background(), mustUser(t, h, "admin@example.com"), store.Page{})
	c.must(303, c.post("/keys/"+keys[0].ID.String()+"/revoke", url.Values{"confirmed": {"yes"}}))
	api.must(401, api.do("GET", "/api/v1/projects", nil))
	c.must(404, c.post("/keys/"+keys[0].ID.String()+"/revoke", url.Values{"confirmed": {"yes"}}))
}

// TestPluginPages lists plugins and checks settings against their schema.
func TestPluginPages(t *testing.T) {
	h := newHarness(t)
	c := h.setup()
	page := c.must(200, c.do("GET", "/plugins", nil)).Body
	for _, want := range []string{"notifier.webhook", "0.3.1", `class="badge h-crashed"`, "exit status 2", `href="/plugins/notifier.webhook"`} {
		if !strings.Contains(page, want) {
			t.Errorf("plugins page lacks %q", want)
		}
	}
	form := c.must(200, c.do("GET", "/plugins/notifier.webhook", nil)).Body
	for _, want := range []string{`name="s.url" value="" required`, `type="password" name="s.secret" value="" minlength="8"`,
		`name="s.timeout_seconds" value="10" step="1" min="1" max="60"`, `<option value="all" selected>all</option>`,
		`name="s.verbose" value="true" checked`, "Also settable through the API: headers"} {
		if !strings.Contains(form, want) {
			t.Errorf("settings form lacks %q", want)
		}
	}
	r := c.post("/plugins/notifier.webhook", url.Values{"s.url": {"ftp://x"}, "s.timeout_seconds": {"600"}, "s.secret": {"short"}})
	if r.Status != 422 {
		t.Fatalf("invalid settings: status %d", r.Status)
	}
	for _, want := range []string{"does not have the expected format", "must be at most 60", "must be at least 8 characters"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("invalid settings page lacks %q", want)
		}
	}
	r = c.post("/plugins/notifier.webhook", url.Values{"s.url": {"https://hooks.example.org"}})
	if r.Status != 422 || !strings.Contains(r.Body, "example.org does not accept webhooks") {
		t.Fatalf("the plugin's own refusal is not shown: %d", r.Status)
	}
	r = c.must(200, c.post("/plugins/notifier.webhook", url.Values{"s.url": {"https://hooks.example.com"}, "s.events": {"failures"}}))
	if !strings.Contains(r.Body, "Settings saved") || !strings.Contains(r.Body, `<option value="failures" selected>`) {
		t.Errorf("valid settings not acknowledged")
	}
	form = c.must(200, c.do("GET", "/plugins/notifier.webhook", nil)).Body
	if !strings.Contains(form, `value="https://hooks.example.com"`) {
		t.Errorf("saved settings are not shown in the form")
	}
	c.must(404, c.do("GET", "/plugins/builder.nope", nil))
}

// TestPagesRenderQuickly measures the busiest pages with a realistic
// project: a few ms each, bounded loosely here so shared CI cores do not
// make it flaky.
func TestPagesRenderQuickly(t *testing.T) {
	h := newHarness(t)
	c := h.setup()
	f := h.fixture(c)
	for i := 0; i < 12; i++ {
		h.succeeded(f.app.ID, fmt.Sprintf("berth/web:%d", i), 1000+i*300)
	}
	for _, path := range []string{"/", appURL(f.app.ID), deploymentURL(f.deployment.ID)} {
		const n = 30
		start := time.Now()
		for i := 0; i < n; i++ {
			c.must(200, c.do("GET", path, nil))
		}
		avg := time.Since(start) / n
		t.Logf("GET %s: %s per page (database queries included)", path, avg.Round(10*time.Microsecond))
		if avg > 100*time.Millisecond {
			t.Errorf("GET %s takes %s per page", path, avg)
		}
	}
}

// TestBuildSettingsForm renders the builder's per-app schema and stores the
// submitted values as the application's build settings.
func TestBuildSettingsForm(t *testing.T) {
	h := newHarness(t)
	c := h.setup()
	projURL := c.must(303, c.post("/projects", url.Values{"name": {"Site"}})).Location()
	p, err := h.store.GetProject(context.Background(), uuid.MustParse(strings.TrimPrefix(projURL, "/projects/")))
	if err != nil {
		t.Fatal(err)
	}
	envs, _, _ := h.store.ListEnvironments(context.Background(), p.ID, store.Page{})
	appPath := c.must(303, c.post(projURL+"/applications", url.Values{"environment_id": {envs[0].ID.String()}, "name": {"web"},
		"source_type": {"git"}, "git_repository": {"https://example.com/site.git"}, "build_type": {"static"}, "port": {"8080"}})).Location()
	appID := strings.TrimPrefix(appPath, "/apps/")
	form := c.must(200, c.do("GET", "/apps/"+appID+"/build-settings", nil)).Body
	if !strings.Contains(form, "Build settings of web") || !strings.Contains(form, `action="/apps/`+appID+`/build-settings"`) {
		t.Fatalf("build settings page:\n%s", form)
	}
	r := c.must(200, c.post("/apps/"+appID+"/build-settings", url.Values{"s.url": {"https://example.com/hook"}}))
	if !strings.Contains(r.Body, "Build settings saved") {
		t.Fatal("build settings not acknowledged")
	}
	a, err := h.store.GetApplication(context.Background(), uuid.MustParse(appID))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(a.BuildSettings), "https://example.com/hook") {
		t.Fatalf("stored build settings = %s", a.BuildSettings)
	}

	// The build type auto (the default of the form) has no build settings.
	autoPath := c.must(303, c.post(projURL+"/applications", url.Values{"environment_id": {envs[0].ID.String()}, "name": {"auto"},
		"source_type": {"git"}, "git_repository": {"https://example.com/site.git"}, "build_type": {"auto"}, "port": {"8080"}})).Location()
	if page := c.must(409, c.do("GET", autoPath+"/build-settings", nil)).Body; !strings.Contains(page, "No build settings for auto") {
		t.Errorf("build settings page of an auto application:\n%s", page)
	}
	if page := c.must(200, c.do("GET", projURL, nil)).Body; !strings.Contains(page, "<option>auto</option>") {
		t.Errorf("the new application form lacks the build type auto")
	}
}
