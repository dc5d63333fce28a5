package service_test

import (
	"context"
	"testing"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// appWorld is an organization with a project, an application and callers
// of every role.
type appWorld struct {
	svc                            *service.Services
	st                             *store.Store
	env                            store.Environment
	app                            store.Application
	viewer, member, admin, outside *store.Principal
}

func newAppWorld(t *testing.T) appWorld {
	t.Helper()
	ctx := context.Background()
	st := newStore(t)
	_, org, err := st.Setup(ctx, store.SetupInput{Email: "o@example.com", Name: "O", PasswordHash: "x", Organization: "apps"})
	if err != nil {
		t.Fatal(err)
	}
	w := appWorld{svc: service.New(service.Deps{Store: st}), st: st}
	if _, w.env, err = st.CreateProject(ctx, org.ID, "shop", ""); err != nil {
		t.Fatal(err)
	}
	spec := service.NewApplicationSettings()
	spec.Name, spec.SourceType, spec.GitRepository, spec.Port = "web", "git", "https://example.com/shop.git", 8080
	if w.app, err = st.CreateApplication(ctx, w.env.ID, spec.ApplicationSpec); err != nil {
		t.Fatal(err)
	}
	as := func(r store.Role) *store.Principal {
		return &store.Principal{User: store.User{ID: uuid.New()}, Roles: map[uuid.UUID]store.Role{org.ID: r}}
	}
	w.viewer, w.member, w.admin = as(store.RoleViewer), as(store.RoleMember), as(store.RoleAdmin)
	w.outside = &store.Principal{User: store.User{ID: uuid.New()}, Roles: map[uuid.UUID]store.Role{uuid.New(): store.RoleOwner}}
	return w
}

// want checks err is the problem with status and field (status 0: no error).
func want(t *testing.T, name string, err error, status int, field string) {
	t.Helper()
	if status == 0 {
		if err != nil {
			t.Errorf("%s: %v, want success", name, err)
		}
		return
	}
	p := problem.Classify(err)
	if err == nil || p.Status() != status || p.Field != field {
		t.Errorf("%s: %v (status %d, field %q), want status %d on field %q", name, err, p.Status(), p.Field, status, field)
	}
}

// TestApplicationOperations: validation, authorization, the outbound and
// host-access guards of Applications.
func TestApplicationOperations(t *testing.T) {
	ctx := context.Background()
	w := newAppWorld(t)
	settings := func(change func(*service.ApplicationSettings)) service.ApplicationSettings {
		in := service.NewApplicationSettings()
		in.Name, in.GitRepository, in.Port = "api", "https://example.com/api.git", 8080
		change(&in)
		return in
	}
	keep := func(*service.ApplicationSettings) {}
	tests := []struct {
		name   string
		p      *store.Principal
		in     service.ApplicationSettings
		status int
		field  string
	}{
		{"viewer", w.viewer, settings(keep), 403, ""},
		{"not a member", w.outside, settings(keep), 404, ""},
		{"name not a slug", w.member, settings(func(in *service.ApplicationSettings) { in.Name = "Web App" }), 422, "name"},
		{"unknown source", w.member, settings(func(in *service.ApplicationSettings) { in.SourceType = "zip" }), 422, "source_type"},
		{"bad image", w.member, settings(func(in *service.ApplicationSettings) { in.GitRepository, in.Image = "", "UPPER:case:x" }), 422, "image"},
		{"port too big", w.member, settings(func(in *service.ApplicationSettings) { in.Port = 70000 }), 422, "port"},
		{"bad watch path", w.member, settings(func(in *service.ApplicationSettings) { in.WatchPaths = []string{""} }), 422, "watch_paths[0]"},
		{"preview limit", w.member, settings(func(in *service.ApplicationSettings) { in.Preview.Limit = 0 }), 422, "preview.limit"},
		{"foreign git connection", w.member, settings(func(in *service.ApplicationSettings) { id := uuid.New(); in.GitConnectionID = &id }), 422, "git_connection_id"},
		{"loopback repository", w.member, settings(func(in *service.ApplicationSettings) { in.GitRepository = "http://127.0.0.1/x.git" }), 403, "git_repository"},
		{"bind mount", w.member, settings(func(in *service.ApplicationSettings) {
			in.Mounts = []store.Mount{{Type: "bind", Source: "/etc", Target: "/data"}}
		}), 403, "mounts[0].source"},
		{"member", w.member, settings(keep), 0, ""},
	}
	for _, tt := range tests {
		_, err := w.svc.Applications.Create(ctx, tt.p, w.env, tt.in)
		want(t, "create: "+tt.name, err, tt.status, tt.field)
	}

	in := service.ApplicationSettings{ApplicationSpec: w.app.Spec()}
	in.Replicas = 101
	_, err := w.svc.Applications.Update(ctx, w.member, w.app, in)
	want(t, "update: replicas", err, 422, "replicas")
	in.Replicas = 2
	_, err = w.svc.Applications.Update(ctx, w.viewer, w.app, in)
	want(t, "update: viewer", err, 403, "")
	// The saved repository is not checked again (only a changed one).
	a, err := w.svc.Applications.Update(ctx, w.member, w.app, in)
	want(t, "update: member", err, 0, "")
	if a.Replicas != 2 {
		t.Errorf("replicas = %d after update, want 2", a.Replicas)
	}
	_, err = w.svc.Applications.SetBuildSettings(ctx, w.member, a, []byte(`[1]`))
	want(t, "build settings: not an object", err, 422, "build_settings")

	_, err = w.svc.Applications.RotateWebhookSecret(ctx, w.member, a)
	want(t, "rotate secret: member", err, 403, "")
	_, err = w.svc.Applications.RotateDeployToken(ctx, w.admin, a)
	want(t, "rotate token: admin", err, 0, "")
	_, err = w.svc.Applications.Previews(ctx, w.outside, a)
	want(t, "previews: not a member", err, 404, "")

	want(t, "delete: member", w.svc.Applications.Delete(ctx, w.member, a), 403, "")
	want(t, "delete: admin", w.svc.Applications.Delete(ctx, w.admin, a), 0, "")
	want(t, "delete: again", w.svc.Applications.Delete(ctx, w.admin, a), 404, "")
}

// TestDomainOperations: one validation for both front doors, members and
// above.
func TestDomainOperations(t *testing.T) {
	ctx := context.Background()
	w := newAppWorld(t)
	portless := w.app
	portless.Port = 0
	tests := []struct {
		name   string
		p      *store.Principal
		app    store.Application
		spec   store.DomainSpec
		status int
		field  string
	}{
		{"viewer", w.viewer, w.app, store.DomainSpec{Host: "a.example.com", HTTPS: "none"}, 403, ""},
		{"no host", w.member, w.app, store.DomainSpec{HTTPS: "none"}, 422, "host"},
		{"bad host", w.member, w.app, store.DomainSpec{Host: "not a host", HTTPS: "none"}, 422, "host"},
		{"unknown https", w.member, w.app, store.DomainSpec{Host: "a.example.com", HTTPS: "always"}, 422, "https"},
		{"custom without certificate", w.member, w.app, store.DomainSpec{Host: "a.example.com", HTTPS: "custom"}, 422, "certificate_pem"},
		{"application without port", w.member, portless, store.DomainSpec{Host: "a.example.com", HTTPS: "none"}, 422, "port"},
		{"bad path prefix", w.member, w.app, store.DomainSpec{Host: "a.example.com", HTTPS: "none", PathPrefix: "api"}, 422, "path_prefix"},
		{"member", w.member, w.app, store.DomainSpec{Host: "a.example.com", HTTPS: "none"}, 0, ""},
	}
	for _, tt := range tests {
		_, err := w.svc.Domains.Add(ctx, tt.p, tt.app, tt.spec)
		want(t, "add: "+tt.name, err, tt.status, tt.field)
	}
	d, err := w.svc.Domains.Add(ctx, w.member, w.app, store.DomainSpec{Host: "b.example.com", HTTPS: "none"})
	if err != nil {
		t.Fatal(err)
	}
	spec := d.Spec()
	spec.HTTPS = "letsencrypt"
	_, err = w.svc.Domains.Update(ctx, w.member, d, spec)
	want(t, "update: member", err, 0, "")
	want(t, "delete: viewer", w.svc.Domains.Delete(ctx, w.viewer, d), 403, "")
	want(t, "delete: member", w.svc.Domains.Delete(ctx, w.member, d), 0, "")
	if _, err := service.BasicAuthLines([]service.BasicAuthUser{{Username: "a", Password: "short"}}); problem.Classify(err).Field != "basic_auth[0].password" {
		t.Errorf("short basic auth password: %v", err)
	}
}

// TestVariableOperations: names, values and roles of Set, Delete, Replace.
func TestVariableOperations(t *testing.T) {
	ctx := context.Background()
	w := newAppWorld(t)
	o := service.VariableOwner{Scope: store.ScopeApplication, ID: w.app.ID, Organization: w.app.OrganizationID}
	tests := []struct {
		name   string
		p      *store.Principal
		v      service.Variable
		status int
		field  string
	}{
		{"viewer", w.viewer, service.Variable{Key: "A", Value: "1"}, 403, ""},
		{"not a member", w.outside, service.Variable{Key: "A", Value: "1"}, 404, ""},
		{"bad name", w.member, service.Variable{Key: "1A", Value: "1"}, 422, "key"},
		{"NUL", w.member, service.Variable{Key: "A", Value: "a\x00b"}, 422, "value"},
		{"malformed reference", w.member, service.Variable{Key: "A", Value: "${{ project.X"}, 422, "value"},
		{"member", w.member, service.Variable{Key: "A", Value: "1"}, 0, ""},
	}
	for _, tt := range tests {
		_, err := w.svc.Variables.Set(ctx, tt.p, o, tt.v)
		want(t, "set: "+tt.name, err, tt.status, tt.field)
	}
	_, err := w.svc.Variables.Replace(ctx, w.member, o, nil)
	want(t, "replace: nil", err, 422, "variables")
	_, err = w.svc.Variables.Replace(ctx, w.member, o, service.VariableSet{"OK": "1", "bad-name": "2"})
	want(t, "replace: bad name", err, 422, "variables.bad-name")
	vs, err := w.svc.Variables.Replace(ctx, w.member, o, service.VariableSet{"B": "2", "C": "3"})
	want(t, "replace: member", err, 0, "")
	if len(vs) != 2 || vs[0].Key != "B" {
		t.Errorf("replaced variables = %+v, want B and C", vs)
	}
	want(t, "delete: viewer", w.svc.Variables.Delete(ctx, w.viewer, o, "B"), 403, "")
	want(t, "delete: member", w.svc.Variables.Delete(ctx, w.member, o, "B"), 0, "")
	want(t, "delete: gone", w.svc.Variables.Delete(ctx, w.member, o, "B"), 404, "")
}
