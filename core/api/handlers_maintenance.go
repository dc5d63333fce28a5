package api

import (
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
)

// MaintenanceRequest enters or leaves an application's maintenance mode.
type MaintenanceRequest struct {
	// Enabled is required: true enters maintenance mode, false leaves it.
	Enabled *bool `json:"enabled"`
	// Page is the HTML answered with 503 (at most 32 KiB); omitted keeps
	// the saved page, "" means the default page.
	Page *string `json:"page"`
	// RetryAfterSeconds is the Retry-After answered (1 to 604800);
	// omitted keeps the saved value (initially 120).
	RetryAfterSeconds *int `json:"retry_after_seconds"`
}

// MaintenanceState is an application's maintenance mode.
type MaintenanceState struct {
	// Enabled says every domain of the application answers 503 with the page.
	Enabled bool `json:"enabled"`
	// Page is the saved page; "" means the default one.
	Page string `json:"page"`
	// RetryAfterSeconds is the Retry-After answered.
	RetryAfterSeconds int `json:"retry_after_seconds"`
}

func maintenanceState(m store.Maintenance) MaintenanceState {
	return MaintenanceState{Enabled: m.Enabled, Page: m.Page, RetryAfterSeconds: m.RetryAfter}
}

func (s *Server) getMaintenance(c *fiber.Ctx) (MaintenanceState, error) {
	m, err := s.svc.Applications.Maintenance(c.UserContext(), principal(c), resolved(c).Application)
	return maintenanceState(m), err
}

func (s *Server) setMaintenance(c *fiber.Ctx, req MaintenanceRequest) (MaintenanceState, error) {
	if req.Enabled == nil {
		return MaintenanceState{}, problem.InvalidField("enabled", "is required (true or false)")
	}
	m, err := s.svc.Applications.SetMaintenance(c.UserContext(), principal(c), resolved(c).Application,
		service.MaintenanceInput{Enabled: *req.Enabled, Page: req.Page, RetryAfter: req.RetryAfterSeconds})
	return maintenanceState(m), err
}
