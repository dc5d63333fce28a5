package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// peopleFixture is an instance with one organization whose members hold
// every role, and an instance administrator (the owner).
type peopleFixture struct {
	svc                          *service.Services
	st                           *store.Store
	org                          store.Organization
	owner, admin, member, viewer *store.Principal
	outsider                     *store.Principal
	members                      map[store.Role]store.OrgMember
}

const fixturePassword = "correct horse battery staple"

func newPeopleFixture(t *testing.T) *peopleFixture {
	t.Helper()
	ctx := t.Context()
	st := newStore(t)
	f := &peopleFixture{svc: service.New(service.Deps{Store: st}), st: st, members: map[store.Role]store.OrgMember{}}
	u, err := f.svc.Accounts.Setup(ctx, service.Setup{Email: "owner@example.com", Name: "Owner", Password: fixturePassword, Organization: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	orgs, _, err := st.ListOrganizations(ctx, u.ID, store.Page{Limit: 10})
	if err != nil || len(orgs) != 1 {
		t.Fatalf("organizations of the first user: %v %v", orgs, err)
	}
	f.org = orgs[0]
	f.owner = &store.Principal{User: u, Roles: map[uuid.UUID]store.Role{f.org.ID: store.RoleOwner}}
	f.members[store.RoleOwner] = store.OrgMember{User: u, Role: store.RoleOwner}
	for _, role := range []store.Role{store.RoleAdmin, store.RoleMember, store.RoleViewer} {
		m, err := f.svc.Organizations.AddMember(ctx, f.owner, f.org, service.NewMember{Email: string(role) + "@example.com",
			Name: string(role), Password: fixturePassword, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		f.members[role] = m
	}
	principal := func(r store.Role) *store.Principal {
		return &store.Principal{User: f.members[r].User, Roles: map[uuid.UUID]store.Role{f.org.ID: r}}
	}
	f.admin, f.member, f.viewer = principal(store.RoleAdmin), principal(store.RoleMember), principal(store.RoleViewer)
	f.outsider = &store.Principal{User: store.User{ID: uuid.New(), Email: "out@example.com"}, Roles: map[uuid.UUID]store.Role{}}
	return f
}

type acceptAll struct{}

func (acceptAll) ConfigurePlugin(context.Context, string, json.RawMessage) error { return nil }

// TestPeopleOperations drives the validation and authorization cases of
// organizations, members, accounts, instance settings, plugin settings and
// git connections: each fails with the status and field the front doors
// render.
func TestPeopleOperations(t *testing.T) {
	f := newPeopleFixture(t)
	ctx := t.Context()
	o := f.svc.Organizations
	acc := f.svc.Accounts
	str := func(s string) *string { return &s }
	strs := func(s ...string) *[]string { return &s }
	open := netguard.Open()
	conn, err := f.svc.Connections.Create(ctx, f.admin, f.org.ID, service.ConnectionChange{Name: str("gh"), Provider: str("github"),
		Credentials: &store.ConnectionCredentials{Token: "t"}}, open)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		do     func() error
		status int
		field  string
	}{
		{"create organization without name", func() error { _, err := o.Create(ctx, f.member, " "); return err }, 422, "name"},
		{"tenant creates organization", func() error { _, err := o.Create(ctx, f.member, "Mine"); return err }, 403, "name"},
		{"rename as member", func() error { _, err := o.Rename(ctx, f.member, f.org, "X"); return err }, 403, ""},
		{"rename as outsider", func() error { _, err := o.Rename(ctx, f.outsider, f.org, "X"); return err }, 404, ""},
		{"rename too long", func() error { _, err := o.Rename(ctx, f.admin, f.org, string(make([]byte, 101))); return err }, 422, "name"},
		{"delete as admin", func() error { return o.Delete(ctx, f.admin, f.org) }, 403, ""},
		{"admin adds an owner", func() error {
			_, err := o.AddMember(ctx, f.admin, f.org, service.NewMember{Email: "x@example.com", Name: "X", Password: fixturePassword, Role: store.RoleOwner})
			return err
		}, 422, "role"},
		{"member with bad email", func() error {
			_, err := o.AddMember(ctx, f.owner, f.org, service.NewMember{Email: "nope", Name: "X", Password: fixturePassword})
			return err
		}, 422, "email"},
		{"member with unknown role", func() error {
			_, err := o.AddMember(ctx, f.owner, f.org, service.NewMember{Email: "y@example.com", Name: "Y", Password: fixturePassword, Role: "god"})
			return err
		}, 422, "role"},
		{"member adds member", func() error {
			_, err := o.AddMember(ctx, f.member, f.org, service.NewMember{Email: "z@example.com", Name: "Z", Password: fixturePassword})
			return err
		}, 403, ""},
		{"admin demotes the owner", func() error {
			_, err := o.ChangeRole(ctx, f.admin, f.org, f.members[store.RoleOwner], store.RoleAdmin)
			return err
		}, 403, ""},
		{"last owner demoted", func() error {
			_, err := o.ChangeRole(ctx, f.owner, f.org, f.members[store.RoleOwner], store.RoleAdmin)
			return err
		}, 409, "role"},
		{"last owner removed", func() error { return o.RemoveMember(ctx, f.owner, f.org, f.members[store.RoleOwner]) }, 409, "role"},
		{"setup twice", func() error {
			_, err := acc.Setup(ctx, service.Setup{Email: "again@example.com", Name: "A", Password: fixturePassword})
			return err
		}, 409, ""},
		{"setup with a short password", func() error {
			_, err := acc.Setup(ctx, service.Setup{Email: "again@example.com", Name: "A", Password: "short"})
			return err
		}, 422, "password"},
		{"sign in with a wrong password", func() error {
			_, _, err := acc.SignIn(ctx, service.Credentials{Email: "owner@example.com", Password: "wrong password!"}, time.Hour)
			return err
		}, 401, ""},
		{"sign in with an unknown email", func() error {
			_, _, err := acc.SignIn(ctx, service.Credentials{Email: "who@example.com", Password: fixturePassword}, time.Hour)
			return err
		}, 401, ""},
		{"sign in without password", func() error {
			_, _, err := acc.SignIn(ctx, service.Credentials{Email: "owner@example.com"}, time.Hour)
			return err
		}, 422, "password"},
		{"wrong current password", func() error {
			_, err := acc.UpdateProfile(ctx, f.member, service.ProfileChange{Password: str("a new long password"), CurrentPassword: "nope"})
			return err
		}, 422, "current_password"},
		{"revoke keys without new password", func() error {
			_, err := acc.UpdateProfile(ctx, f.member, service.ProfileChange{RevokeAPIKeys: true})
			return err
		}, 422, "revoke_api_keys"},
		{"profile with bad email", func() error {
			_, err := acc.UpdateProfile(ctx, f.member, service.ProfileChange{Email: str("x")})
			return err
		}, 422, "email"},
		{"API key for ten thousand days", func() error {
			_, _, err := acc.CreateAPIKey(ctx, f.member, service.NewAPIKey{Name: "k", ExpiresInDays: 99999})
			return err
		}, 422, "expires_in_days"},
		{"revoke someone else's key", func() error { return acc.RevokeAPIKey(ctx, f.member, uuid.New()) }, 404, ""},
		{"instance settings as tenant", func() error {
			_, err := f.svc.Instance.UpdateSettings(ctx, f.admin, service.InstanceSettingsChange{OutboundAllow: strs("10.0.0.1")})
			return err
		}, 403, ""},
		{"bad outbound entry", func() error {
			_, err := f.svc.Instance.UpdateSettings(ctx, f.owner, service.InstanceSettingsChange{OutboundAllow: strs("ok.example", "bad host!")})
			return err
		}, 422, "outbound_allow[1]"},
		{"relative bind mount root", func() error {
			_, err := f.svc.Instance.UpdateSettings(ctx, f.owner, service.InstanceSettingsChange{BindMountRoots: strs("srv")})
			return err
		}, 422, "bind_mount_roots[0]"},
		{"default builder auto", func() error {
			_, err := f.svc.Instance.UpdateSettings(ctx, f.owner, service.InstanceSettingsChange{DefaultBuilder: str("auto")})
			return err
		}, 422, "default_builder"},
		{"default builder dockerfile", func() error {
			_, err := f.svc.Instance.UpdateSettings(ctx, f.owner, service.InstanceSettingsChange{DefaultBuilder: str("dockerfile")})
			return err
		}, 422, "default_builder"},
		{"default builder not a name", func() error {
			_, err := f.svc.Instance.UpdateSettings(ctx, f.owner, service.InstanceSettingsChange{DefaultBuilder: str("Rail Pack")})
			return err
		}, 422, "default_builder"},
		{"revoke the last instance admin", func() error { _, err := f.svc.Instance.SetAdmin(ctx, f.owner, f.owner.User.ID, false); return err }, 409, "instance_admin"},
		{"grant instance admin as tenant", func() error { _, err := f.svc.Instance.SetAdmin(ctx, f.admin, f.admin.User.ID, true); return err }, 403, ""},
		{"unknown user made admin", func() error { _, err := f.svc.Instance.SetAdmin(ctx, f.owner, uuid.New(), true); return err }, 404, ""},
		{"plugin settings as tenant", func() error {
			_, err := f.svc.Plugins.Configure(ctx, f.admin, acceptAll{}, service.PluginSettingsChange{ID: "x", Settings: json.RawMessage(`{}`)})
			return err
		}, 403, "settings"},
		{"plugin settings not an object", func() error {
			_, err := f.svc.Plugins.Configure(ctx, f.owner, acceptAll{}, service.PluginSettingsChange{ID: "x", Settings: json.RawMessage(`[]`)})
			return err
		}, 422, "settings"},
		{"plugins unavailable", func() error {
			_, err := f.svc.Plugins.Configure(ctx, f.owner, nil, service.PluginSettingsChange{ID: "x", Settings: json.RawMessage(`{}`)})
			return err
		}, 503, ""},
		{"connection as member", func() error {
			_, err := f.svc.Connections.Create(ctx, f.member, f.org.ID, service.ConnectionChange{Name: str("gh"), Provider: str("github"),
				Credentials: &store.ConnectionCredentials{Token: "t"}}, open)
			return err
		}, 403, ""},
		{"connection with bad provider", func() error {
			_, err := f.svc.Connections.Create(ctx, f.admin, f.org.ID, service.ConnectionChange{Name: str("gh"), Provider: str("Git Hub"),
				Credentials: &store.ConnectionCredentials{Token: "t"}}, open)
			return err
		}, 422, "provider"},
		{"connection token kind without token", func() error {
			_, err := f.svc.Connections.Create(ctx, f.admin, f.org.ID, service.ConnectionChange{Name: str("gh"), Provider: str("github"),
				Credentials: &store.ConnectionCredentials{}, CredentialKind: "token"}, open)
			return err
		}, 422, "credentials.token"},
		{"connection app id not a number", func() error {
			_, err := f.svc.Connections.Create(ctx, f.admin, f.org.ID, service.ConnectionChange{Name: str("gh"), Provider: str("github"),
				Credentials: &store.ConnectionCredentials{AppID: "twelve", InstallationID: "1", PrivateKey: "-----BEGIN x"}}, open)
			return err
		}, 422, "credentials.app_id"},
		{"connection base URL changed without credentials", func() error {
			_, err := f.svc.Connections.Update(ctx, f.admin, conn, service.ConnectionChange{BaseURL: str("https://git.example.com")}, open)
			return err
		}, 422, "credentials"},
		{"connection blocked base URL", func() error {
			_, err := f.svc.Connections.Create(ctx, f.admin, f.org.ID, service.ConnectionChange{Name: str("gh"), Provider: str("gitea"),
				BaseURL: str("http://127.0.0.1:3000"), Credentials: &store.ConnectionCredentials{Token: "t"}}, netguard.New(netguard.Options{}))
			return err
		}, 403, "base_url"},
		{"connection deleted by member", func() error { return f.svc.Connections.Delete(ctx, f.member, conn) }, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil {
				t.Fatalf("succeeded, want %d", tt.status)
			}
			p := problem.Classify(err)
			if p.Status() != tt.status || p.Field != tt.field {
				t.Fatalf("%v: status %d field %q, want %d %q", err, p.Status(), p.Field, tt.status, tt.field)
			}
		})
	}
}

// TestPeopleOperationsSucceed: the same operations change what they say.
func TestPeopleOperationsSucceed(t *testing.T) {
	f := newPeopleFixture(t)
	ctx := t.Context()
	org, err := f.svc.Organizations.Rename(ctx, f.admin, f.org, "  Acme Two ")
	if err != nil || org.Name != "Acme Two" {
		t.Fatalf("rename: %v %v", org.Name, err)
	}
	m, err := f.svc.Organizations.ChangeRole(ctx, f.owner, f.org, f.members[store.RoleAdmin], store.RoleOwner)
	if err != nil || m.Role != store.RoleOwner {
		t.Fatalf("promote: %v %v", m.Role, err)
	}
	if _, err := f.svc.Organizations.ChangeRole(ctx, f.owner, f.org, f.members[store.RoleOwner], store.RoleMember); err != nil {
		t.Fatalf("demote an owner who is not the last: %v", err)
	}
	if err := f.svc.Organizations.RemoveMember(ctx, f.admin, f.org, f.members[store.RoleViewer]); err != nil {
		t.Fatal(err)
	}
	u, token, err := f.svc.Accounts.SignIn(ctx, service.Credentials{Email: "member@example.com", Password: fixturePassword}, time.Hour)
	if err != nil || token == "" {
		t.Fatalf("sign in: %v", err)
	}
	p, err := f.st.AuthenticateSession(ctx, token)
	if err != nil || p.User.ID != u.ID {
		t.Fatalf("session: %v", err)
	}
	other, err := f.svc.Accounts.StartSession(ctx, u.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, keyToken, err := f.svc.Accounts.CreateAPIKey(ctx, &p, service.NewAPIKey{Name: "ci", ExpiresInDays: 30})
	if err != nil || keyToken == "" || key.ExpiresAt == nil {
		t.Fatalf("api key: %+v %v", key, err)
	}
	newPassword := "another long password"
	out, err := f.svc.Accounts.UpdateProfile(ctx, &p, service.ProfileChange{Password: &newPassword, CurrentPassword: fixturePassword, RevokeAPIKeys: true})
	if err != nil || out.Revoked.Sessions != 1 || out.Revoked.APIKeys != 1 || !auth.CheckPassword(out.User.PasswordHash, newPassword) {
		t.Fatalf("password change: %+v %v", out.Revoked, err)
	}
	if _, err := f.st.AuthenticateSession(ctx, other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other session after password change: %v", err)
	}
	if err := f.svc.Accounts.SignOut(ctx, &p); err != nil {
		t.Fatal(err)
	}
	in, err := f.svc.Instance.UpdateSettings(ctx, f.owner, service.InstanceSettingsChange{OutboundAllow: &[]string{" 10.0.0.1 ", "10.0.0.1", "git.internal"}})
	if err != nil || len(in.OutboundAllow) != 2 || in.OutboundAllow[0] != "10.0.0.1" {
		t.Fatalf("instance settings: %v %v", in.OutboundAllow, err)
	}
	if in.DefaultBuilder != "railpack" {
		t.Errorf("default builder = %q, want railpack", in.DefaultBuilder)
	}
	nixpacks := " nixpacks "
	if in, err = f.svc.Instance.UpdateSettings(ctx, f.owner, service.InstanceSettingsChange{DefaultBuilder: &nixpacks}); err != nil || in.DefaultBuilder != "nixpacks" || len(in.OutboundAllow) != 2 {
		t.Fatalf("instance settings after a default builder change: %+v %v", in, err)
	}
}
