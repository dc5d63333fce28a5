package api

import (
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// InstanceSettingsRequest changes the instance settings; omitted fields keep
// their value, a list given replaces the saved one.
type InstanceSettingsRequest struct {
	// AllowOrganizationCreation lets every signed-in user create organizations.
	AllowOrganizationCreation *bool `json:"allow_organization_creation"`
	// BindMountRoots are host directories under which anyone may bind mount.
	BindMountRoots *[]string `json:"bind_mount_roots"`
	// LocalBackupRoots are host directories under which organization admins
	// may point a backup.local destination.
	LocalBackupRoots *[]string `json:"local_backup_roots"`
	// OutboundAllow lists internal IPs, CIDRs or host names tenants may aim
	// outbound requests at (git hosts, S3 endpoints).
	OutboundAllow *[]string `json:"outbound_allow"`
	// DefaultBuilder is the builder the build type auto tries right after
	// the Dockerfile builder (railpack, nixpacks, heroku, paketo, static...).
	DefaultBuilder *string `json:"default_builder"`
	// MetricsIntervalSeconds is how often metrics are sampled, 5 to 3600
	// seconds (default 15).
	MetricsIntervalSeconds *int `json:"metrics_interval_seconds"`
	// MetricsRetentionDays is how long metrics are kept, 1 to 90 days
	// (default 7).
	MetricsRetentionDays *int `json:"metrics_retention_days"`
}

// UpdateUserRequest changes a user's instance-wide flags.
type UpdateUserRequest struct {
	// InstanceAdmin grants or revokes instance administration.
	InstanceAdmin *bool `json:"instance_admin"`
}

func (s *Server) getInstanceSettings(c *fiber.Ctx) error {
	if err := s.requireInstanceAdmin(c); err != nil {
		return err
	}
	in, err := s.store.InstanceSettings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(in)
}

// putInstanceSettings refuses tenants before reading the body.
func (s *Server) putInstanceSettings(c *fiber.Ctx) error {
	if err := s.requireInstanceAdmin(c); err != nil {
		return err
	}
	var req InstanceSettingsRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	in, err := s.svc.Instance.UpdateSettings(c.UserContext(), principal(c), service.InstanceSettingsChange{
		AllowOrganizationCreation: req.AllowOrganizationCreation, BindMountRoots: req.BindMountRoots,
		LocalBackupRoots: req.LocalBackupRoots, OutboundAllow: req.OutboundAllow, DefaultBuilder: req.DefaultBuilder,
		MetricsIntervalSeconds: req.MetricsIntervalSeconds, MetricsRetentionDays: req.MetricsRetentionDays})
	if err != nil {
		return err
	}
	return c.JSON(in)
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	if err := s.requireInstanceAdmin(c); err != nil {
		return err
	}
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	users, more, err := s.store.ListUsers(c.UserContext(), pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(users, more, func(u store.User) uuid.UUID { return u.ID }))
}

// updateUser refuses tenants before reading the body.
func (s *Server) updateUser(c *fiber.Ctx) error {
	if err := s.requireInstanceAdmin(c); err != nil {
		return err
	}
	id, err := pathID(c, "id", "user")
	if err != nil {
		return err
	}
	var req UpdateUserRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.InstanceAdmin == nil {
		return invalid("instance_admin", "is required (true or false)")
	}
	u, err := s.svc.Instance.SetAdmin(c.UserContext(), principal(c), id, *req.InstanceAdmin)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) getMe(c *fiber.Ctx) error {
	return c.JSON(principal(c).User)
}
