package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/schedule"
	"github.com/berth-dev/berth/core/store"
)

// PolicyRequest creates or changes a backup policy. On PATCH, omitted
// fields keep their value.
type PolicyRequest struct {
	DestinationID *uuid.UUID `json:"destination_id"`
	// Schedule is a cron expression: five fields, six with leading seconds, or @daily, @hourly...
	Schedule *string `json:"schedule"`
	// TimeZone is an IANA zone such as Europe/Paris (default UTC).
	TimeZone *string `json:"time_zone"`
	// Prefix is prepended to object keys.
	Prefix *string `json:"prefix"`
	// KeepLatest is how many successful backups are kept (0: all; default 7).
	KeepLatest *int `json:"keep_latest"`
	// Retries is how many times a failed run is retried (default 2).
	Retries *int  `json:"retries"`
	Enabled *bool `json:"enabled"`
	// StopService stops the application while its volumes are copied (volume policies).
	StopService *bool `json:"stop_service"`
}

func (r PolicyRequest) apply(dest *uuid.UUID, spec *store.BackupPolicySpec) {
	if r.DestinationID != nil {
		*dest = *r.DestinationID
	}
	if r.Schedule != nil {
		spec.Schedule = strings.TrimSpace(*r.Schedule)
	}
	if r.TimeZone != nil {
		spec.TimeZone = strings.TrimSpace(*r.TimeZone)
	}
	if r.Prefix != nil {
		spec.Prefix = strings.Trim(strings.TrimSpace(*r.Prefix), "/")
	}
	if r.KeepLatest != nil {
		spec.KeepLatest = *r.KeepLatest
	}
	if r.Retries != nil {
		spec.Retries = *r.Retries
	}
	if r.Enabled != nil {
		spec.Enabled = *r.Enabled
	}
	if r.StopService != nil {
		spec.StopService = *r.StopService
	}
}

func (s *Server) validatePolicy(c *fiber.Ctx, org, dest uuid.UUID, p store.BackupPolicySpec) error {
	if p.Schedule == "" {
		return invalid("schedule", "is required")
	}
	if p.TimeZone == "" {
		p.TimeZone = "UTC"
	}
	if _, err := schedule.Parse(p.Schedule, p.TimeZone); err != nil {
		field := "schedule"
		if strings.Contains(err.Error(), "time zone") {
			field = "time_zone"
		}
		return invalid(field, "%v", err)
	}
	if len(p.Prefix) > 200 || strings.Contains(p.Prefix, "..") || strings.ContainsAny(p.Prefix, "\\\x00\n") {
		return invalid("prefix", "must be a relative path of at most 200 characters without ..")
	}
	if p.KeepLatest < 0 || p.KeepLatest > 10000 {
		return invalid("keep_latest", "must be %s", fmtRange(0, 10000))
	}
	if p.Retries < 0 || p.Retries > 10 {
		return invalid("retries", "must be %s", fmtRange(0, 10))
	}
	if dest == uuid.Nil {
		return invalid("destination_id", "is required")
	}
	d, err := s.store.GetBackupDestination(c.UserContext(), dest)
	if err != nil || d.OrganizationID != org {
		return invalid("destination_id", "no such backup destination in this organization")
	}
	return nil
}

func (s *Server) createPolicy(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var dbID, appID *uuid.UUID
		var org uuid.UUID
		if kind == "database" {
			d, err := s.loadDatabase(c, "id", store.RoleMember)
			if err != nil {
				return err
			}
			dbID, org = &d.ID, d.OrganizationID
		} else {
			a, err := s.loadApplication(c, "id", store.RoleMember)
			if err != nil {
				return err
			}
			appID, org = &a.ID, a.OrganizationID
		}
		var req PolicyRequest
		if err := decodeBody(c, &req); err != nil {
			return err
		}
		var dest uuid.UUID
		spec := store.BackupPolicySpec{TimeZone: "UTC", KeepLatest: 7, Retries: 2, Enabled: true}
		req.apply(&dest, &spec)
		if err := s.validatePolicy(c, org, dest, spec); err != nil {
			return err
		}
		p, err := s.store.CreateBackupPolicy(c.UserContext(), dbID, appID, dest, spec)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(p)
	}
}

func (s *Server) loadPolicy(c *fiber.Ctx, min store.Role) (store.BackupPolicy, error) {
	id, err := pathID(c, "id", "backup policy")
	if err != nil {
		return store.BackupPolicy{}, err
	}
	p, err := s.store.GetBackupPolicy(c.UserContext(), id)
	if err != nil {
		return p, notFoundAs(err, "backup policy")
	}
	return p, authorize(c, p.OrganizationID, min, "backup policy")
}

func (s *Server) listPolicies(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		f := store.PolicyFilter{Orgs: orgIDs(principal(c))}
		if kind == "database" {
			d, err := s.loadDatabase(c, "id", store.RoleViewer)
			if err != nil {
				return err
			}
			f.Database = d.ID
		} else {
			a, err := s.loadApplication(c, "id", store.RoleViewer)
			if err != nil {
				return err
			}
			f.Application = a.ID
		}
		pg, err := pageParams(c)
		if err != nil {
			return err
		}
		items, more, err := s.store.ListBackupPolicies(c.UserContext(), f, pg)
		if err != nil {
			return err
		}
		return c.JSON(listOf(items, more, func(p store.BackupPolicy) uuid.UUID { return p.ID }))
	}
}

func (s *Server) getPolicy(c *fiber.Ctx) error {
	p, err := s.loadPolicy(c, store.RoleViewer)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) updatePolicy(c *fiber.Ctx) error {
	p, err := s.loadPolicy(c, store.RoleMember)
	if err != nil {
		return err
	}
	var req PolicyRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	dest, spec := p.DestinationID, p.BackupPolicySpec
	req.apply(&dest, &spec)
	if err := s.validatePolicy(c, p.OrganizationID, dest, spec); err != nil {
		return err
	}
	p, err = s.store.UpdateBackupPolicy(c.UserContext(), p.ID, dest, spec)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) deletePolicy(c *fiber.Ctx) error {
	p, err := s.loadPolicy(c, store.RoleMember)
	if err != nil {
		return err
	}
	if err := s.store.DeleteBackupPolicy(c.UserContext(), p.ID); err != nil {
		return notFoundAs(err, "backup policy")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) backupNow(c *fiber.Ctx) error {
	p, err := s.loadPolicy(c, store.RoleMember)
	if err != nil {
		return err
	}
	ops, err := s.dbOps()
	if err != nil {
		return err
	}
	kind := "database"
	if p.ApplicationID != nil {
		kind = "volume"
	}
	b, err := ops.BackupNow(c.UserContext(), store.NewBackup{PolicyID: &p.ID, DatabaseID: p.DatabaseID, ApplicationID: p.ApplicationID,
		DestinationID: p.DestinationID, Kind: kind, Status: store.BackupQueued, Trigger: store.TriggerManual}, p.Retries)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(b)
}

// listBackups lists backups of a database, application or policy, newest first.
func (s *Server) listBackups(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var f store.BackupFilter
		switch kind {
		case "database":
			d, err := s.loadDatabase(c, "id", store.RoleViewer)
			if err != nil {
				return err
			}
			f.Database = d.ID
		case "application":
			a, err := s.loadApplication(c, "id", store.RoleViewer)
			if err != nil {
				return err
			}
			f.Application = a.ID
		default:
			p, err := s.loadPolicy(c, store.RoleViewer)
			if err != nil {
				return err
			}
			f.Policy = p.ID
		}
		items, err := s.store.ListBackups(c.UserContext(), f, store.MaxPageSize)
		if err != nil {
			return err
		}
		return c.JSON(List[store.Backup]{Items: items})
	}
}

func (s *Server) getBackup(c *fiber.Ctx) error {
	id, err := pathID(c, "id", "backup")
	if err != nil {
		return err
	}
	b, err := s.store.GetBackup(c.UserContext(), id)
	if err != nil {
		return notFoundAs(err, "backup")
	}
	if b.DestinationID == nil {
		return notFound("backup")
	}
	d, err := s.store.GetBackupDestination(c.UserContext(), *b.DestinationID)
	if err != nil {
		return notFoundAs(err, "backup")
	}
	if err := authorize(c, d.OrganizationID, store.RoleViewer, "backup"); err != nil {
		return err
	}
	return c.JSON(b)
}

// RestoreRequest restores a backup into a database: a recorded backup
// (backup_id) or an object found on a destination (destination_id and key).
type RestoreRequest struct {
	BackupID      *uuid.UUID `json:"backup_id"`
	DestinationID *uuid.UUID `json:"destination_id"`
	Key           *string    `json:"key"`
}

// RestoreResult reports a finished restore.
type RestoreResult struct {
	DatabaseID uuid.UUID `json:"database_id"`
	Message    string    `json:"message"`
}

func (s *Server) restoreDatabase(c *fiber.Ctx) error {
	d, err := s.loadDatabase(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req RestoreRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	switch {
	case req.BackupID != nil && (req.DestinationID != nil || req.Key != nil):
		return invalid("backup_id", "give either backup_id or destination_id and key, not both")
	case req.BackupID == nil && req.DestinationID == nil:
		return invalid("backup_id", "is required (or destination_id and key)")
	case req.BackupID == nil && (req.Key == nil || *req.Key == ""):
		return invalid("key", "is required with destination_id")
	case req.Key != nil && (strings.HasPrefix(*req.Key, "/") || strings.Contains(*req.Key, "..") || len(*req.Key) > 1024):
		return invalid("key", "must be a relative object key without ..")
	}
	ops, err := s.dbOps()
	if err != nil {
		return err
	}
	if err := ops.Restore(c.UserContext(), req, d); err != nil {
		return err
	}
	return c.JSON(RestoreResult{DatabaseID: d.ID, Message: "restored into " + d.Name})
}
