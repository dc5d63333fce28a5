package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/berth-dev/berth/core/service"
)

// deploymentDiff answers what changed from the release ?against= names to
// this one, secret values masked.
func (s *Server) deploymentDiff(c *fiber.Ctx) (service.ReleaseDiff, error) {
	return s.svc.Deployments.Diff(c.UserContext(), principal(c), resolved(c).Deployment, c.Query("against"))
}
