package browser_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/berthtest"
	"github.com/berth-dev/berth/test/dockertest"
)

// TestRuntimeLogsPage opens the live log page of a running application of
// two replicas (core/runtimelog/testdata/talker, which prints a line every
// half second): the latest lines render, new ones arrive through the
// EventSource, and the page is readable on a phone.
func TestRuntimeLogsPage(t *testing.T) {
	s := berthtest.Run(t, bins, berthtest.Options{Prefix: "uilog"})
	// Metrics every 5 s, so the charts below have figures soon.
	s.Call("PUT", "/instance/settings", map[string]any{"metrics_interval_seconds": 5}, 200, nil)
	image := "berth-ui/talker:" + s.Name
	dockertest.BuildGoImage(t, s.Docker, "./core/runtimelog/testdata/talker", image, false)
	var proj struct {
		Environments []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	s.Call("POST", "/projects", map[string]any{"name": "logs"}, 201, &proj)
	var app struct {
		ID string `json:"id"`
	}
	s.Call("POST", "/environments/"+proj.Environments[0].ID+"/applications",
		map[string]any{"name": "talker", "source_type": "image", "image": image, "replicas": 2}, 201, &app)
	for k, v := range map[string]string{"LINES": "3", "TICK": "500ms"} {
		s.Call("PUT", "/applications/"+app.ID+"/variables/"+k, map[string]any{"value": v}, 200, nil)
	}
	var dep struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	s.Call("POST", "/applications/"+app.ID+"/deployments", map[string]any{}, 202, &dep)
	for deadline := time.Now().Add(3 * time.Minute); dep.Status != "succeeded"; time.Sleep(300 * time.Millisecond) {
		if dep.Status == "failed" || dep.Status == "cancelled" || time.Now().After(deadline) {
			t.Fatalf("deployment %s", dep.Status)
		}
		_, data, err := s.Server.Call(t.Context(), "GET", "/deployments/"+dep.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(data, &dep)
	}

	b := newBrowser(t, "*.browser.test")
	base := s.URL("")
	b.open(base+"/login", `form[action="/login"]`)
	b.fill(map[string]string{`input[name=email]`: "e2e@example.com", `input[name=password]`: "correct horse battery"})
	b.submit(`form[action="/login"] button[type=submit]`, `#new-project`)

	b.open(base+"/apps/"+app.ID, "#logs-link")
	b.submit("#logs-link", "#runtime-log")
	b.waitFor("the first lines", `document.querySelectorAll("#runtime-log .l").length >= 6 ? "yes" : ""`, 30*time.Second)
	if b.eval(`document.querySelector("#runtime-log .l.err") ? "yes" : ""`) != "yes" {
		t.Error("no stderr line is marked")
	}
	// The stream replaces the rendered lines, then appends new ones.
	b.waitFor("the stream", `Number(document.getElementById("runtime-log").dataset.streamed || 0) >= 6 ? "yes" : ""`, 10*time.Second)
	last := `document.querySelector("#runtime-log .l:last-child").textContent`
	before := b.eval(last)
	b.waitFor("a live line", last+` !== `+strconv.Quote(before)+` ? "yes" : ""`, 5*time.Second)
	if dup := b.eval(`(() => { const seen = new Set(); for (const l of document.querySelectorAll("#runtime-log .l")) { if (seen.has(l.textContent)) return l.textContent; seen.add(l.textContent); } return ""; })()`); dup != "" {
		t.Errorf("line %q shows twice", dup)
	}
	b.screenshot("runtime-logs")

	// Filters: only slot 2's stderr.
	b.fill(map[string]string{`input[name=task]`: "2", `select[name=stream]`: "stderr"})
	b.submit(`.log-filters button[type=submit]`, "#runtime-log")
	if n := b.eval(`String(document.querySelectorAll("#runtime-log .l").length)`); n != "3" {
		t.Errorf("task 2's stderr: %s lines, want 3", n)
	}
	if bad := b.eval(`Array.from(document.querySelectorAll("#runtime-log .l")).filter(l => !l.classList.contains("err") || !/ 2\.[a-z0-9]+ err /.test(l.textContent)).map(l => l.textContent).join("|")`); bad != "" {
		t.Errorf("lines outside task 2's stderr: %s", bad)
	}

	b.viewport(390, 844, true)
	b.open(base+"/apps/"+app.ID+"/logs", "#runtime-log")
	b.waitFor("a live line on the phone", `Number(document.getElementById("runtime-log").dataset.streamed || 0) >= 1 ? "yes" : ""`, 10*time.Second)
	if w := b.eval(`String(document.documentElement.scrollWidth <= window.innerWidth + 1 ? "fits" : document.documentElement.scrollWidth)`); w != "fits" {
		t.Errorf("the page is %s px wide on a 390 px phone", w)
	}
	b.screenshot("runtime-logs-phone")

	// The application's metrics charts (loaded into its page by app.js,
	// refreshed live) and the servers page, on the phone and the desktop.
	charts := func(what string) {
		t.Helper()
		b.waitFor(what+" charts with lines", `document.querySelectorAll("#metrics .line-chart svg path.series[d^='M']").length >= 2 ? "yes" : ""`, 45*time.Second)
		if w := b.eval(`String(document.documentElement.scrollWidth <= window.innerWidth + 1 ? "fits" : document.documentElement.scrollWidth)`); w != "fits" {
			t.Errorf("%s: the page is %s px wide", what, w)
		}
	}
	b.open(base+"/apps/"+app.ID, "#metrics")
	charts("the application's phone page")
	b.screenshot("app-metrics-phone")
	b.viewport(1280, 900, false)
	b.open(base+"/apps/"+app.ID, "#metrics")
	charts("the application's page")
	b.screenshot("app-metrics")
	b.open(base+"/servers", "body")
	b.waitFor("the server's charts", `document.querySelectorAll(".line-chart svg path.series[d^='M']").length >= 2 ? "yes" : ""`, 30*time.Second)
	b.screenshot("servers")
	b.open(base+"/apps/"+app.ID+"/requests", "body")
	if b.eval(`document.querySelector(".line-chart") ? "yes" : ""`) != "yes" {
		t.Error("the requests page has no chart")
	}
	b.screenshot("requests")
}
