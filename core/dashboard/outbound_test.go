package dashboard

import (
	"net/url"
	"testing"

	"github.com/berth-dev/berth/core/store"
)

// TestOutboundForms: an organization admin who is not an instance
// administrator cannot aim a git connection, a backup destination's
// endpoint or an application's repository at the berth host; the refusal
// is shown on the field. The instance administrator can.
func TestOutboundForms(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	h.addUser(f.org, "org-admin@example.com", store.RoleAdmin)
	orgAdmin := h.signIn("org-admin@example.com")

	conns := "/orgs/" + f.org.String() + "/git-connections"
	conn := func(name, baseURL string) url.Values {
		return url.Values{"name": {name}, "provider": {"git.github"}, "base_url": {baseURL}, "credential_kind": {"token"}, "token": {"t"}}
	}
	for _, u := range []string{"http://127.0.0.1:3000", "http://localhost", "http://169.254.169.254", "http://2130706433"} {
		r := orgAdmin.post(conns, conn("internal", u))
		if r.Status != 403 || !fieldErrorShown(r.Body, "outbound_allow") { // the API's status for a refused address
			t.Errorf("connection to %s: status %d, want 403 with the refusal on the field", u, r.Status)
		}
	}
	admin.must(303, admin.post(conns, conn("internal", "http://127.0.0.1:3000")))

	dests := "/orgs/" + f.org.String() + "/backup-destinations"
	dest := func(name, endpoint string) url.Values {
		return url.Values{"plugin_id": {"backup.s3"}, "name": {name}, "s.bucket": {"b"}, "s.secret_access_key": {"k"}, "s.endpoint": {endpoint}}
	}
	if r := orgAdmin.post(dests, dest("meta", "http://169.254.169.254")); r.Status != 422 || !fieldErrorShown(r.Body, "link-local") {
		t.Errorf("destination at the metadata service: status %d", r.Status)
	}
	orgAdmin.must(303, orgAdmin.post(dests, dest("public", "https://93.184.216.34")))
	admin.must(303, admin.post(dests, dest("local", "http://127.0.0.1:9000")))

	app := "/apps/" + f.app.ID.String()
	settings := func(repo string) url.Values {
		return url.Values{"source_type": {"git"}, "git_repository": {repo}, "git_ref": {"main"}, "build_type": {"dockerfile"}, "port": {"8080"}}
	}
	if r := orgAdmin.post(app+"/settings", settings("git@127.0.0.1:team/app.git")); r.Status != 403 || !fieldErrorShown(r.Body, "loopback") {
		t.Errorf("repository on the host: status %d", r.Status)
	}
	if r := orgAdmin.post(app+"/automation", url.Values{"git_repository": {"http://[::1]/a.git"}, "git_ref": {"main"}, "deploy_trigger": {"branch"},
		"preview_https": {"none"}}); r.Status != 403 || !fieldErrorShown(r.Body, "loopback") {
		t.Errorf("repository on the host (automation): status %d", r.Status)
	}
	admin.must(303, admin.post(app+"/settings", settings("git@127.0.0.1:team/app.git")))
	// Other changes of an application the administrator aimed inside pass.
	orgAdmin.must(303, orgAdmin.post(app+"/settings", settings("git@127.0.0.1:team/app.git")))
}
