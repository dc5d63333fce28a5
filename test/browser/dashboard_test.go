package browser_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/berthtest"
	"github.com/chromedp/chromedp"
)

// deploymentDone reads the final status of the deployment page once it has
// reloaded itself after the deployment finished.
const deploymentDone = `(() => {
  const log = document.getElementById("log");
  const badge = document.querySelector("#dep-status .badge");
  if (!log || !badge || log.dataset.follow !== "false") return "";
  return badge.textContent;
})()`

// TestDashboard drives the whole life of an application through the
// dashboard in Chromium: first-admin setup, a project and an application
// built from a local git repository, a deployment whose log streams live,
// the application answering through Traefik under a domain added in the
// page, a second release, a rollback, plugins, API keys and the instance
// settings, sign-out.
func TestDashboard(t *testing.T) {
	s := startServer(t)
	repo := newRepo(t)
	commitApp(repo, "hello-v1")
	const host = "web.browser.test"
	b := newBrowser(t, "*.browser.test")
	base := s.URL("")

	// A fresh server sends the first visitor to sign in, and sign-in to setup.
	b.open(base+"/", `form[action="/setup"]`)
	if loc := b.location(); loc != base+"/setup" {
		t.Fatalf("first visit ended at %s, want /setup", loc)
	}
	b.screenshot("setup")
	b.fill(map[string]string{`input[name=token]`: "setup_wrong", `input[name=name]`: "Ada", `input[name=email]`: "ada@example.com",
		`input[name=password]`: "correct horse battery", `input[name=organization]`: "Acme"})
	b.submit(`form[action="/setup"] button[type=submit]`, `.field-error`)
	if msg := b.eval(`document.querySelector(".field-error").textContent`); !strings.Contains(msg, "does not match the setup token") {
		t.Fatalf("wrong token message %q", msg)
	}
	b.fill(map[string]string{`input[name=token]`: s.SetupToken(), `input[name=password]`: "correct horse battery"})
	b.submit(`form[action="/setup"] button[type=submit]`, `#new-project`)

	// The stylesheet and script load under the Content-Security-Policy.
	if bg := b.eval(`getComputedStyle(document.querySelector(".topbar")).backgroundColor`); bg != "rgb(17, 24, 39)" {
		t.Errorf("top bar background %q: the stylesheet did not apply", bg)
	}
	if b.eval(`typeof window.berth === "object" ? "yes" : ""`) != "yes" {
		t.Errorf("the dashboard script did not run")
	}

	b.fill(map[string]string{`#new-project input[name=name]`: "Shop", `#new-project input[name=description]`: "the web shop"})
	b.submit(`#new-project button[type=submit]`, `#new-application`)
	projectURL := b.location()

	// A git application: the image field hides, the git fields show.
	if b.eval(`document.querySelector('#new-application [data-source="image"]').hidden ? "hidden" : ""`) != "hidden" {
		t.Errorf("the image field shows for a git application")
	}
	b.fill(map[string]string{`#new-application input[name=name]`: "web", `#new-application input[name=git_repository]`: repo.Dir,
		`#new-application input[name=git_ref]`: "main", `#new-application select[name=build_type]`: "dockerfile",
		`#new-application input[name=port]`: "8080"})
	b.submit(`#new-application button[type=submit]`, `#deployments`)
	appURL := b.location()

	b.fill(map[string]string{`#domains input[name=host]`: host})
	b.submit(`#domains button[type=submit]`, `#domains .list`)
	b.fill(map[string]string{`#variables input[name=key]`: "API_TOKEN", `#variables input[name=value]`: "s3cret-token"})
	b.submit(`#variables button[type=submit]`, `#variables .list`)
	masked := `document.querySelector('#variables .secret input').type`
	if b.eval(masked) != "password" {
		t.Errorf("variable value is not masked")
	}
	b.do("reveal", chromedp.Click(chromedp.CSS(`#variables [data-reveal]`)))
	if b.eval(masked) != "text" || b.eval(`document.querySelector('#variables .secret input').value`) != "s3cret-token" {
		t.Errorf("reveal did not show the value")
	}

	// Deploy: confirm() is accepted, the deployment page follows the log live.
	v1URL := deploy(t, b, s, host, "hello-v1", "deployment-live")
	if !strings.HasPrefix(b.lastDialog(), "Deploy web") {
		t.Errorf("deploy asked %q", b.lastDialog())
	}
	b.screenshot("deployment")
	steps := b.eval(`Array.from(document.querySelectorAll("#steps tr td:first-child")).map(td => td.textContent).join(",")`)
	if steps != "source,build,release,route" {
		t.Errorf("steps %q", steps)
	}

	// The application answers in the browser by its domain, through Traefik.
	b.open(fmt.Sprintf("http://%s:%d/from-the-browser", host, s.HTTPPort), "body")
	if body := b.eval(`document.body.innerText`); !strings.Contains(body, "hello-v1 /from-the-browser") {
		t.Errorf("the app through Traefik answered %q", body)
	}

	// A second release, then a rollback to the first.
	commitApp(repo, "hello-v2")
	b.open(appURL, "#deploy-button")
	deploy(t, b, s, host, "hello-v2", "")
	b.open(appURL, "#deployments")
	if n := b.eval(`String(document.querySelectorAll("svg.bars rect").length)`); n != "2" {
		t.Errorf("duration chart has %s bars, want 2", n)
	}
	b.screenshot("application")
	v1 := strings.TrimPrefix(v1URL, base)
	b.submit(`form[action="`+v1+`/rollback"] button`, "#log")
	if !strings.HasPrefix(b.lastDialog(), "Roll back web") {
		t.Errorf("rollback asked %q", b.lastDialog())
	}
	if status := b.waitFor("rollback to finish", deploymentDone, 3*time.Minute); status != "succeeded" {
		t.Fatalf("rollback %s", status)
	}
	s.Expect(host, "/", 200, "hello-v1 /")

	// The overview shows the application running with its domain.
	b.open(base+"/", "table.apps")
	if state := b.eval(`document.querySelector("table.apps .badge").textContent`); state != "running" {
		t.Errorf("home shows the application %q", state)
	}
	b.screenshot("home")
	b.open(projectURL, "table.apps")
	b.screenshot("project")

	// Plugins and a settings form rendered from a plugin's JSON Schema.
	b.open(base+"/plugins", "table")
	if list := b.eval(`document.querySelector("main table").innerText`); !strings.Contains(list, "builder.dockerfile") || !strings.Contains(list, "git.generic") {
		t.Errorf("plugins page lists:\n%s", list)
	}
	b.screenshot("plugins")
	b.open(base+"/plugins/builder.dockerfile", "form.schema-form")
	b.fill(map[string]string{`input[name="s.memory_limit"]`: "lots"})
	b.submit(`form.schema-form button[type=submit]`, `.field-error`)
	if msg := b.eval(`document.querySelector(".field-error").textContent`); !strings.Contains(msg, "expected format") {
		t.Errorf("settings error %q", msg)
	}
	b.screenshot("plugin-settings")

	// A backup destination through backup.local's schema form, listed and
	// tested by the plugin (whose message names the directory); the list
	// does not show its settings.
	backupDir := t.TempDir()
	b.open(base+"/settings", "#new-destination")
	b.do("choose backup.local", chromedp.SetValue(chromedp.CSS(`#new-destination select[name=plugin]`), "backup.local"))
	b.submit(`#new-destination button[type=submit]`, "form.schema-form")
	b.fill(map[string]string{`form.schema-form input[name=name]`: "nightly-disk", `form.schema-form input[name="s.directory"]`: backupDir})
	b.screenshot("backup-destination-form")
	b.submit(`form.schema-form button[type=submit]`, "#destinations table")
	if list := b.eval(`document.querySelector("#destinations table").innerText`); !strings.Contains(list, "nightly-disk") || !strings.Contains(list, "backup.local") {
		t.Errorf("destinations list:\n%s", list)
	}
	b.submit(`#destinations form[action$="/test"] button`, ".flash")
	if msg := b.eval(`document.querySelector(".flash").textContent`); !strings.Contains(msg, "Test of nightly-disk passed") {
		t.Errorf("destination test said %q", msg)
	}
	if strings.Contains(b.eval(`document.getElementById("destinations").outerHTML`), backupDir) {
		t.Errorf("the destinations list shows the destination's settings")
	}
	b.screenshot("settings")

	// API keys: the token is shown once; the page's script calls the API
	// with the session and the page's CSRF token.
	b.open(base+"/keys", `form[action="/keys"]`)
	b.fill(map[string]string{`form[action="/keys"] input[name=name]`: "laptop"})
	b.submit(`form[action="/keys"] button[type=submit]`, "#new-token")
	if tok := b.eval(`document.getElementById("new-token").value`); !strings.HasPrefix(tok, "berth_") {
		t.Errorf("new token %q", tok)
	}
	b.screenshot("api-keys")
	if tok := b.eval(`berth.api("POST", "/api-keys", {name: "from the page"}).then(k => k.token)`); !strings.HasPrefix(tok, "berth_") {
		t.Errorf("API call from the page answered %q", tok)
	}
	if got := b.eval(`fetch("/api/v1/api-keys", {method: "POST", body: "{}", headers: {"Content-Type": "application/json"}}).then(r => String(r.status))`); got != "403" {
		t.Errorf("API call without the CSRF header answered %s, want 403", got)
	}

	// The Instance page: the setup user is an instance administrator, with
	// the link and the badge in the header; the settings form saves.
	if b.eval(`document.querySelector('.topbar a[href="/instance"]') ? "yes" : ""`) != "yes" ||
		!strings.Contains(b.eval(`document.querySelector(".me").textContent`), "instance administrator") {
		t.Errorf("the instance administrator's header lacks the Instance link or badge")
	}
	b.open(base+"/instance", `form[action="/instance/settings"]`)
	b.fill(map[string]string{`form[action="/instance/settings"] textarea[name=bind_mount_roots]`: "/srv/tenants"})
	b.submit(`form[action="/instance/settings"] button[type=submit]`, ".flash")
	if got := b.eval(`document.querySelector("textarea[name=bind_mount_roots]").value`); got != "/srv/tenants" {
		t.Errorf("saved bind mount roots show %q", got)
	}
	b.screenshot("instance")

	// On a phone.
	b.viewport(390, 844, true)
	b.open(appURL, "#deployments")
	if w := b.eval(`String(document.documentElement.scrollWidth)`); w != "390" {
		t.Errorf("application page is %s px wide on a 390 px phone", w)
	}
	b.screenshot("application-phone")
	b.open(base+"/", "table.apps")
	b.screenshot("home-phone")
	b.viewport(1280, 900, false)

	// Sign out.
	b.open(base+"/", ".me button")
	b.submit(".me button", `form[action="/login"]`)
	b.screenshot("login")
	b.open(appURL, `form[action="/login"]`)
}

// deploy presses Deploy on the application page, checks the log streams
// into the page while the deployment runs, waits for it to succeed and for
// the application to answer message through Traefik. It returns the
// deployment page's URL. A screenshot name saves the page while it streams.
func deploy(t *testing.T, b *browser, s *berthtest.T, host, message, screenshot string) string {
	t.Helper()
	b.submit("#deploy-button", "#log")
	url := b.location()
	if b.eval(`document.getElementById("log").dataset.follow`) != "true" {
		t.Fatalf("the deployment page does not follow the log")
	}
	// Lines appended by the page's script, not rendered by the server.
	b.waitFor("log lines streamed live", `document.getElementById("log").dataset.streamed || ""`, 2*time.Minute)
	if screenshot != "" {
		b.screenshot(screenshot)
	}
	if status := b.waitFor("the deployment to finish", deploymentDone, 3*time.Minute); status != "succeeded" {
		b.fail("deployment", fmt.Errorf("status %s", status))
	}
	s.Expect(host, "/", 200, message+" /")
	return url
}
