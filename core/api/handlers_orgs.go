package api

import (
	"errors"

	"github.com/berth-dev/berth/core/service"
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

func (s *Server) createOrganization(c *fiber.Ctx, req OrganizationRequest) (store.Organization, error) {
	return s.svc.Organizations.Create(c.UserContext(), principal(c), req.Name)
}

func (s *Server) getOrganization(c *fiber.Ctx) (store.Organization, error) {
	return resolved(c).Organization, nil
}

func (s *Server) updateOrganization(c *fiber.Ctx, req OrganizationRequest) (store.Organization, error) {
	return s.svc.Organizations.Rename(c.UserContext(), principal(c), resolved(c).Organization, req.Name)
}

func (s *Server) deleteOrganization(c *fiber.Ctx) (NoContent, error) {
	return NoContent{}, s.svc.Organizations.Delete(c.UserContext(), principal(c), resolved(c).Organization)
}

func (s *Server) listMembers(c *fiber.Ctx) error {
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	members, more, err := s.store.ListMembers(c.UserContext(), resolved(c).Organization.ID, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(members, more, func(m store.OrgMember) uuid.UUID { return m.ID }))
}

func (s *Server) createMember(c *fiber.Ctx, req CreateMemberRequest) (store.OrgMember, error) {
	return s.svc.Organizations.AddMember(c.UserContext(), principal(c), resolved(c).Organization,
		service.NewMember{Email: req.Email, Name: req.Name, Password: req.Password, Role: req.Role})
}

// member loads the member :user_id of the route's organization.
func (s *Server) member(c *fiber.Ctx) (store.OrgMember, error) {
	uid, err := pathID(c, "user_id", "member")
	if err != nil {
		return store.OrgMember{}, err
	}
	m, err := s.store.GetMember(c.UserContext(), resolved(c).Organization.ID, uid)
	if errors.Is(err, store.ErrNotFound) {
		return m, notFound("member")
	}
	return m, err
}

func (s *Server) updateMember(c *fiber.Ctx, req UpdateMemberRequest) (store.OrgMember, error) {
	m, err := s.member(c)
	if err != nil {
		return m, err
	}
	return s.svc.Organizations.ChangeRole(c.UserContext(), principal(c), resolved(c).Organization, m, req.Role)
}

func (s *Server) removeMember(c *fiber.Ctx) (NoContent, error) {
	m, err := s.member(c)
	if err != nil {
		return NoContent{}, err
	}
	return NoContent{}, s.svc.Organizations.RemoveMember(c.UserContext(), principal(c), resolved(c).Organization, m)
}
