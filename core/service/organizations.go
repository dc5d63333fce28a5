package service

import (
	"context"
	"errors"
	"strings"

	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/validate"
	"github.com/google/uuid"
)

// Organizations creates, renames and deletes organizations and manages
// their members. Anyone signed in may create one where the instance allows
// it; admins rename it and manage members; only owners delete it, make
// owners or touch an owner; an organization always keeps one owner.
type Organizations struct{ s *Services }

// OrganizationName checks an organization's name.
func OrganizationName(field, name string) error { return validate.Text(field, name, 1, 100) }

// Create makes an organization owned by the caller (when the instance
// settings let tenants create organizations, or the caller is an instance
// administrator).
func (os *Organizations) Create(ctx context.Context, p *store.Principal, name string) (store.Organization, error) {
	if p == nil || p == System {
		return store.Organization{}, &problem.Error{Kind: problem.Unauthenticated, Message: "authentication required"}
	}
	if err := OrganizationName("name", name); err != nil {
		return store.Organization{}, err
	}
	use := []hostaccess.Use{{Field: "name", Power: hostaccess.CreateOrganization}}
	if err := os.s.deps.HostAccess.CheckChange(ctx, p, uuid.Nil, nil, use); err != nil {
		return store.Organization{}, err
	}
	return os.s.deps.Store.CreateOrganization(ctx, strings.TrimSpace(name), p.User.ID)
}

// Rename renames an organization (admins and above).
func (os *Organizations) Rename(ctx context.Context, p *store.Principal, org store.Organization, name string) (store.Organization, error) {
	if err := Authorize(p, org.ID, store.RoleAdmin, "organization"); err != nil {
		return org, err
	}
	if err := OrganizationName("name", name); err != nil {
		return org, err
	}
	return os.s.deps.Store.RenameOrganization(ctx, org.ID, strings.TrimSpace(name))
}

// Delete deletes an organization without projects (owners only).
func (os *Organizations) Delete(ctx context.Context, p *store.Principal, org store.Organization) error {
	if err := Authorize(p, org.ID, store.RoleOwner, "organization"); err != nil {
		return err
	}
	n, err := os.s.deps.Store.CountProjects(ctx, org.ID)
	if err != nil {
		return err
	}
	if n > 0 {
		return problem.Conflicting("", "the organization still has projects; delete them first")
	}
	return missingAs(os.s.deps.Store.DeleteOrganization(ctx, org.ID), "organization")
}

// NewMember is the input of Organizations.AddMember: a new user of the
// organization.
type NewMember struct {
	Email, Name, Password string
	// Role defaults to member.
	Role store.Role
}

// Validate checks the fields of a new member.
func (in NewMember) Validate() error {
	return validate.First(validate.Email("email", in.Email), validate.Text("name", in.Name, 1, 100),
		Role(in.roleOrDefault()), Password("password", in.Password))
}

func (in NewMember) roleOrDefault() store.Role {
	if in.Role == "" {
		return store.RoleMember
	}
	return in.Role
}

// Role checks an organization role.
func Role(r store.Role) error {
	if r.Rank() == 0 {
		return problem.InvalidField("role", "%q is not one of owner, admin, member, viewer", r)
	}
	return nil
}

// Password checks a new password against berth's password rules.
func Password(field, v string) error {
	if err := auth.ValidatePassword(v); err != nil {
		return problem.InvalidField(field, "%v", err)
	}
	return nil
}

// AddMember creates a user in the organization (admins and above; only an
// owner creates another owner).
func (os *Organizations) AddMember(ctx context.Context, p *store.Principal, org store.Organization, in NewMember) (store.OrgMember, error) {
	if err := Authorize(p, org.ID, store.RoleAdmin, "organization"); err != nil {
		return store.OrgMember{}, err
	}
	if err := in.Validate(); err != nil {
		return store.OrgMember{}, err
	}
	role := in.roleOrDefault()
	if role == store.RoleOwner && p != System && p.Roles[org.ID] != store.RoleOwner {
		return store.OrgMember{}, problem.InvalidField("role", "only an owner can create another owner")
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return store.OrgMember{}, err
	}
	u, err := os.s.deps.Store.CreateUser(ctx, org.ID, in.Email, strings.TrimSpace(in.Name), hash, role)
	return store.OrgMember{User: u, Role: role}, err
}

// ChangeRole sets a member's role (admins and above; owners for anything
// touching the owner role; the last owner stays owner).
func (os *Organizations) ChangeRole(ctx context.Context, p *store.Principal, org store.Organization, m store.OrgMember, role store.Role) (store.OrgMember, error) {
	if err := Authorize(p, org.ID, store.RoleAdmin, "organization"); err != nil {
		return m, err
	}
	if err := Role(role); err != nil {
		return m, err
	}
	if err := os.guardOwners(ctx, p, org, m, role); err != nil {
		return m, err
	}
	if err := os.s.deps.Store.SetRole(ctx, org.ID, m.ID, role); err != nil {
		return m, err
	}
	m.Role = role
	return m, nil
}

// RemoveMember removes a member (admins and above; owners to remove an
// owner; never the last owner). A user left without organizations is
// deleted.
func (os *Organizations) RemoveMember(ctx context.Context, p *store.Principal, org store.Organization, m store.OrgMember) error {
	if err := Authorize(p, org.ID, store.RoleAdmin, "organization"); err != nil {
		return err
	}
	if err := os.guardOwners(ctx, p, org, m, ""); err != nil {
		return err
	}
	return missingAs(os.s.deps.Store.RemoveMember(ctx, org.ID, m.ID), "member")
}

// guardOwners refuses changes that touch an owner without being one, or
// that would leave the organization without owners.
func (os *Organizations) guardOwners(ctx context.Context, p *store.Principal, org store.Organization, m store.OrgMember, newRole store.Role) error {
	if (m.Role == store.RoleOwner || newRole == store.RoleOwner) && p != System && p.Roles[org.ID] != store.RoleOwner {
		return problem.ErrRole
	}
	if m.Role == store.RoleOwner && newRole != store.RoleOwner {
		n, err := os.s.deps.Store.CountOwners(ctx, org.ID)
		if err != nil {
			return err
		}
		if n <= 1 {
			return problem.Conflicting("role", "the organization's last owner cannot be removed or demoted")
		}
	}
	return nil
}

// missingAs maps the store's not-found error to problem.Missing(what).
func missingAs(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return problem.Missing(what)
	}
	return err
}
