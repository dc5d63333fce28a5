package builds_test

import (
	"strings"
	"testing"
)

// autoDeployment is the part of a deployment's JSON the auto tests read.
type autoDeployment struct {
	Builder       string `json:"builder"`
	BuilderReason string `json:"builder_reason"`
}

// autoBuilder reads which builder built deployment id and why.
func (s *server) autoBuilder(id string) autoDeployment {
	s.t.Helper()
	var d autoDeployment
	s.Call("GET", "/deployments/"+id, nil, 200, &d)
	return d
}

// TestAutoChoosesBuilder deploys three repositories with the build type
// auto (the default of new applications): one with a Dockerfile, one with
// only a static site, one nothing recognises. The instance's default
// builder is set to static, so the choice does not depend on which other
// zero-config builders are installed.
func TestAutoChoosesBuilder(t *testing.T) {
	s := newServer(t)
	var settings struct {
		DefaultBuilder string `json:"default_builder"`
	}
	s.Call("GET", "/instance/settings", nil, 200, &settings)
	if settings.DefaultBuilder != "railpack" {
		t.Errorf("default_builder = %q, want railpack", settings.DefaultBuilder)
	}
	s.Call("PUT", "/instance/settings", map[string]any{"default_builder": "auto"}, 422, nil)
	s.Call("PUT", "/instance/settings", map[string]any{"default_builder": "Not A Name"}, 422, nil)
	s.Call("PUT", "/instance/settings", map[string]any{"default_builder": "static"}, 200, &settings)
	if settings.DefaultBuilder != "static" {
		t.Fatalf("default_builder = %q after the change", settings.DefaultBuilder)
	}

	// A Dockerfile wins, even next to an index.html.
	docker := newRepo(t)
	docker.Commit("dockerfile", map[string]string{
		"Dockerfile": "FROM scratch\nCOPY backend /backend\nENV MESSAGE=auto-dockerfile\nENTRYPOINT [\"/backend\"]\n",
		"backend":    "@backend", "index.html": "<p>not this</p>",
	})
	a := s.newApp(map[string]any{"name": "autodf", "git_repository": docker.Dir, "git_ref": "main", "port": 8080}, "autodf.bld.test")
	var full struct {
		BuildType string `json:"build_type"`
	}
	s.Call("GET", "/applications/"+a.ID, nil, 200, &full)
	if full.BuildType != "auto" {
		t.Errorf("a new application's build_type = %q, want auto", full.BuildType)
	}
	d := s.deployAndWait(a, "succeeded")
	s.Expect("autodf.bld.test", "/", 200, "auto-dockerfile /")
	log := s.logText(d.ID)
	if !strings.Contains(log, "auto: chose builder.dockerfile — found a Dockerfile") {
		t.Errorf("the log does not name the choice:\n%s", log)
	}
	if got := s.autoBuilder(d.ID); got.Builder != "builder.dockerfile" || got.BuilderReason != "found a Dockerfile" {
		t.Errorf("deployment builder = %+v", got)
	}

	// Without a Dockerfile, the instance's default builder.
	site := newRepo(t)
	site.Commit("site", map[string]string{"index.html": "<p>auto-static</p>"})
	a = s.newApp(map[string]any{"name": "autost", "git_repository": site.Dir, "git_ref": "main", "build_type": "auto", "port": 8080}, "autost.bld.test")
	d = s.deployAndWait(a, "succeeded")
	s.Expect("autost.bld.test", "/", 200, "auto-static")
	log = s.logText(d.ID)
	if !strings.Contains(log, "auto: chose builder.static — found index.html; builder.dockerfile: no Dockerfile at the repository root") {
		t.Errorf("the log does not name the choice:\n%s", log)
	}
	if got := s.autoBuilder(d.ID); got.Builder != "builder.static" || got.BuilderReason != "found index.html" {
		t.Errorf("deployment builder = %+v", got)
	}

	// Nothing recognises the repository: the error says what each said.
	none := newRepo(t)
	none.Commit("nothing", map[string]string{"NOTES": "no app here"})
	a = s.newApp(map[string]any{"name": "autono", "git_repository": none.Dir, "git_ref": "main", "port": 8080}, "")
	d = s.deployAndWait(a, "failed")
	for _, want := range []string{"auto: no builder can build this repository", "builder.dockerfile: no Dockerfile", "builder.static: no index.html", "builder.nixpacks: "} {
		if !strings.Contains(d.Error, want) {
			t.Errorf("the deployment's error lacks %q: %s", want, d.Error)
		}
	}
}
