package api

import (
	"strings"

	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// OrganizationRequest names an organization.
type OrganizationRequest struct {
	Name string `json:"name"`
}

// CreateMemberRequest creates a user inside an organization.
type CreateMemberRequest struct {
	Email    string     `json:"email"`
	Name     string     `json:"name"`
	Password string     `json:"password"`
	Role     store.Role `json:"role"`
}

// UpdateMemberRequest changes a member's role.
type UpdateMemberRequest struct {
	Role store.Role `json:"role"`
}

func validateRole(r store.Role) error {
	if r.Rank() == 0 {
		return invalid("role", "%q is not one of owner, admin, member, viewer", r)
	}
	return nil
}

func (s *Server) loadOrganization(c *fiber.Ctx, min store.Role) (store.Organization, error) {
	id, err := pathID(c, "id", "organization")
	if err != nil {
		return store.Organization{}, err
	}
	if err := authorize(c, id, min, "organization"); err != nil {
		return store.Organization{}, err
	}
	o, err := s.store.GetOrganization(c.UserContext(), id)
	return o, notFoundAs(err, "organization")
}

func (s *Server) listOrganizations(c *fiber.Ctx) error {
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	orgs, more, err := s.store.ListOrganizations(c.UserContext(), principal(c).User.ID, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(orgs, more, func(o store.Organization) uuid.UUID { return o.ID }))
}

func (s *Server) createOrganization(c *fiber.Ctx) error {
	var req OrganizationRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if err := validateText("name", req.Name, 1, 100); err != nil {
		return err
	}
	if err := s.checkHostAccess(c, uuid.Nil, nil, []hostaccess.Use{{Field: "name", Power: hostaccess.CreateOrganization}}); err != nil {
		return err
	}
	o, err := s.store.CreateOrganization(c.UserContext(), strings.TrimSpace(req.Name), principal(c).User.ID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(o)
}

func (s *Server) getOrganization(c *fiber.Ctx) error {
	o, err := s.loadOrganization(c, store.RoleViewer)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *Server) updateOrganization(c *fiber.Ctx) error {
	o, err := s.loadOrganization(c, store.RoleAdmin)
	if err != nil {
		return err
	}
	var req OrganizationRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if err := validateText("name", req.Name, 1, 100); err != nil {
		return err
	}
	o, err = s.store.RenameOrganization(c.UserContext(), o.ID, strings.TrimSpace(req.Name))
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *Server) deleteOrganization(c *fiber.Ctx) error {
	o, err := s.loadOrganization(c, store.RoleOwner)
	if err != nil {
		return err
	}
	n, err := s.store.CountProjects(c.UserContext(), o.ID)
	if err != nil {
		return err
	}
	if n > 0 {
		return conflict("", "the organization still has projects; delete them first")
	}
	if err := s.store.DeleteOrganization(c.UserContext(), o.ID); err != nil {
		return notFoundAs(err, "organization")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listMembers(c *fiber.Ctx) error {
	o, err := s.loadOrganization(c, store.RoleViewer)
	if err != nil {
		return err
	}
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	members, more, err := s.store.ListMembers(c.UserContext(), o.ID, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(members, more, func(m store.OrgMember) uuid.UUID { return m.ID }))
}

func (s *Server) createMember(c *fiber.Ctx) error {
	o, err := s.loadOrganization(c, store.RoleAdmin)
	if err != nil {
		return err
	}
	var req CreateMemberRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if err := validateEmail(req.Email); err != nil {
		return err
	}
	if err := validateText("name", req.Name, 1, 100); err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = store.RoleMember
	}
	if err := validateRole(req.Role); err != nil {
		return err
	}
	if req.Role == store.RoleOwner && principal(c).Roles[o.ID] != store.RoleOwner {
		return invalid("role", "only an owner can create another owner")
	}
	if err := auth.ValidatePassword(req.Password); err != nil {
		return invalid("password", "%v", err)
	}
	hash, err := auth.HashPassword(req.Password)
	if err != nil {
		return err
	}
	u, err := s.store.CreateUser(c.UserContext(), o.ID, req.Email, strings.TrimSpace(req.Name), hash, req.Role)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(store.OrgMember{User: u, Role: req.Role})
}

func (s *Server) loadMember(c *fiber.Ctx, o store.Organization) (store.OrgMember, error) {
	uid, err := pathID(c, "user_id", "member")
	if err != nil {
		return store.OrgMember{}, err
	}
	m, err := s.store.GetMember(c.UserContext(), o.ID, uid)
	return m, notFoundAs(err, "member")
}

// guardOwners stops changes that would touch an owner without being one, or
// leave an organization without owners.
func (s *Server) guardOwners(c *fiber.Ctx, o store.Organization, m store.OrgMember, newRole store.Role) error {
	callerRole := principal(c).Roles[o.ID]
	if (m.Role == store.RoleOwner || newRole == store.RoleOwner) && callerRole != store.RoleOwner {
		return errForbidden
	}
	if m.Role == store.RoleOwner && newRole != store.RoleOwner {
		n, err := s.store.CountOwners(c.UserContext(), o.ID)
		if err != nil {
			return err
		}
		if n <= 1 {
			return conflict("role", "role: the organization's last owner cannot be removed or demoted")
		}
	}
	return nil
}

func (s *Server) updateMember(c *fiber.Ctx) error {
	o, err := s.loadOrganization(c, store.RoleAdmin)
	if err != nil {
		return err
	}
	m, err := s.loadMember(c, o)
	if err != nil {
		return err
	}
	var req UpdateMemberRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if err := validateRole(req.Role); err != nil {
		return err
	}
	if err := s.guardOwners(c, o, m, req.Role); err != nil {
		return err
	}
	if err := s.store.SetRole(c.UserContext(), o.ID, m.ID, req.Role); err != nil {
		return err
	}
	m.Role = req.Role
	return c.JSON(m)
}

func (s *Server) removeMember(c *fiber.Ctx) error {
	o, err := s.loadOrganization(c, store.RoleAdmin)
	if err != nil {
		return err
	}
	m, err := s.loadMember(c, o)
	if err != nil {
		return err
	}
	if err := s.guardOwners(c, o, m, ""); err != nil {
		return err
	}
	if err := s.store.RemoveMember(c.UserContext(), o.ID, m.ID); err != nil {
		return notFoundAs(err, "member")
	}
	return c.SendStatus(fiber.StatusNoContent)
}
