package api

import (
	"errors"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// authorize checks the caller holds at least min in org. Callers who are not
// members get a 404 for what, so ids of other tenants' resources leak nothing.
func authorize(c *fiber.Ctx, org uuid.UUID, min store.Role, what string) error {
	p := principal(c)
	if p == nil {
		return errUnauthenticated
	}
	role, ok := p.Roles[org]
	if !ok {
		return notFound(what)
	}
	if role.Rank() < min.Rank() {
		return errForbidden
	}
	return nil
}

// checkHostAccess asks the host-access guard whether the caller may make a
// change of a record of org whose settings use after, where the record used
// before (nil for a new record). A refusal is a *hostaccess.ForbiddenError (403 naming the
// field).
func (s *Server) checkHostAccess(c *fiber.Ctx, org uuid.UUID, before, after []hostaccess.Use) error {
	return s.opts.HostAccess.CheckChange(c.UserContext(), principal(c), org, before, after)
}

// orgIDs returns the organizations the caller belongs to.
func orgIDs(p *store.Principal) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(p.Roles))
	for id := range p.Roles {
		ids = append(ids, id)
	}
	return ids
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// notFoundAs maps a store not-found error to a 404 naming what.
func notFoundAs(err error, what string) error {
	if isNotFound(err) {
		return notFound(what)
	}
	return err
}

func (s *Server) loadEnvironment(c *fiber.Ctx, param string, min store.Role) (store.Environment, error) {
	id, err := pathID(c, param, "environment")
	if err != nil {
		return store.Environment{}, err
	}
	e, err := s.store.GetEnvironment(c.UserContext(), id)
	if err != nil {
		return e, notFoundAs(err, "environment")
	}
	return e, authorize(c, e.OrganizationID, min, "environment")
}

func (s *Server) loadApplication(c *fiber.Ctx, param string, min store.Role) (store.Application, error) {
	id, err := pathID(c, param, "application")
	if err != nil {
		return store.Application{}, err
	}
	a, err := s.store.GetApplication(c.UserContext(), id)
	if err != nil {
		return a, notFoundAs(err, "application")
	}
	return a, authorize(c, a.OrganizationID, min, "application")
}

func (s *Server) loadDeployment(c *fiber.Ctx, min store.Role) (store.Deployment, error) {
	id, err := pathID(c, "id", "deployment")
	if err != nil {
		return store.Deployment{}, err
	}
	d, err := s.store.GetDeployment(c.UserContext(), id)
	if err != nil {
		return d, notFoundAs(err, "deployment")
	}
	return d, authorize(c, d.OrganizationID, min, "deployment")
}
