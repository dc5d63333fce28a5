package api

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
)

// Destinations.

// DestinationRequest creates or changes a backup destination. Settings are
// write-only (they hold credentials) and never returned; on PATCH they are
// merged key by key onto the saved ones (null removes a key), so a secret
// need not be sent again to change the bucket.
type DestinationRequest struct {
	Name *string `json:"name"`
	// PluginID is an installed backup plugin, e.g. backup.s3 or backup.local (create only).
	PluginID *string                     `json:"plugin_id"`
	Settings *map[string]json.RawMessage `json:"settings"`
}

// DestinationTest is the outcome of testing a destination.
type DestinationTest struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// BackupObject is an object found on a destination.
type BackupObject = service.BackupObject

// BackupObjectList lists objects on a destination, sorted by key.
type BackupObjectList struct {
	Items []BackupObject `json:"items"`
}

func (s *Server) listDestinations(c *fiber.Ctx) (List[store.BackupDestination], error) {
	pg, err := pageParams(c)
	if err != nil {
		return List[store.BackupDestination]{}, err
	}
	ds, more, err := s.store.ListBackupDestinations(c.UserContext(), []uuid.UUID{resolved(c).Organization.ID}, pg)
	return listOf(ds, more, func(d store.BackupDestination) uuid.UUID { return d.ID }), err
}

func (s *Server) createDestination(c *fiber.Ctx, req DestinationRequest) (store.BackupDestination, error) {
	org := resolved(c).Organization.ID
	in := service.NewDestination{Name: deref(req.Name), PluginID: strings.TrimSpace(deref(req.PluginID))}
	if req.Settings != nil {
		in.Settings = *req.Settings
	}
	if err := service.DestinationName(strings.TrimSpace(in.Name)); err != nil {
		return store.BackupDestination{}, err
	}
	if err := s.requireBackupPlugin(c.UserContext(), in.PluginID); err != nil {
		return store.BackupDestination{}, err
	}
	settings, err := service.MergeSettings(nil, in.Settings)
	if err != nil {
		return store.BackupDestination{}, err
	}
	if err := s.destinationSettingsCheck(c, in.PluginID, nil, settings, in.Settings); err != nil {
		return store.BackupDestination{}, err
	}
	if in.Schema, err = s.pluginSchema(c.UserContext(), in.PluginID); err != nil {
		return store.BackupDestination{}, err
	}
	return s.svc.Backups.CreateDestination(c.UserContext(), principal(c), org, in)
}

func (s *Server) getDestination(c *fiber.Ctx) (store.BackupDestination, error) {
	return resolved(c).Destination, nil
}

func (s *Server) updateDestination(c *fiber.Ctx, req DestinationRequest) (store.BackupDestination, error) {
	d := resolved(c).Destination
	in := service.DestinationChange{Name: req.Name, PluginID: req.PluginID}
	if req.Settings != nil {
		in.Settings = *req.Settings
		if in.Settings == nil {
			in.Settings = map[string]json.RawMessage{}
		}
		settings, err := service.MergeSettings(d.Settings, in.Settings)
		if err != nil {
			return d, err
		}
		if err := s.destinationSettingsCheck(c, d.PluginID, d.Settings, settings, in.Settings); err != nil {
			return d, err
		}
	}
	var err error
	if in.Schema, err = s.pluginSchema(c.UserContext(), d.PluginID); err != nil {
		return d, err
	}
	return s.svc.Backups.UpdateDestination(c.UserContext(), principal(c), d, in)
}

func (s *Server) deleteDestination(c *fiber.Ctx) (NoContent, error) {
	return NoContent{}, s.svc.Backups.DeleteDestination(c.UserContext(), principal(c), resolved(c).Destination)
}

// serviceRefused reports whether err is the service's refusal (a problem)
// rather than the destination's own failure.
func serviceRefused(err error) bool {
	var pe *problem.Error
	return errors.As(err, &pe) || errors.Is(err, context.Canceled)
}

func (s *Server) testDestination(c *fiber.Ctx) (DestinationTest, error) {
	d := resolved(c).Destination
	if err := s.svc.Databases.Require(); err != nil { // 503 before any outbound check, as always
		return DestinationTest{}, err
	}
	describe, err := s.recheckDestination(c, d)
	if err != nil {
		return DestinationTest{}, err
	}
	msg, err := s.svc.Backups.TestDestination(c.UserContext(), principal(c), d)
	if serviceRefused(err) {
		return DestinationTest{}, err
	} else if err != nil {
		return DestinationTest{OK: false, Message: describe(err)}, nil
	}
	return DestinationTest{OK: true, Message: msg}, nil
}

func (s *Server) listDestinationObjects(c *fiber.Ctx) (BackupObjectList, error) {
	d := resolved(c).Destination
	prefix := strings.Clone(c.Query("prefix"))
	unrecorded := false
	switch v := c.Query("unrecorded"); v {
	case "", "false", "0":
	case "true", "1":
		unrecorded = true
	default:
		return BackupObjectList{}, badRequest("unrecorded", "must be true or false, got %q", v)
	}
	if err := s.svc.Databases.Require(); err != nil {
		return BackupObjectList{}, err
	}
	describe, err := s.recheckDestination(c, d)
	if err != nil {
		return BackupObjectList{}, err
	}
	objs, err := s.svc.Backups.ListObjects(c.UserContext(), principal(c), d, prefix, unrecorded)
	if err != nil && !serviceRefused(err) {
		return BackupObjectList{}, outboundFailed("destination_failed", "backup destination "+d.Name, err, describe)
	}
	return BackupObjectList{Items: objs}, err
}

// Policies.

// PolicyRequest creates or changes a backup policy. On PATCH, omitted
// fields keep their value.
type PolicyRequest struct {
	DestinationID *uuid.UUID `json:"destination_id"`
	// Schedule is a cron expression: five fields, six with leading seconds,
	// or a descriptor such as @daily or @every 1h.
	Schedule *string `json:"schedule"`
	// TimeZone is an IANA zone such as Europe/Paris (default UTC).
	TimeZone *string `json:"time_zone"`
	// Prefix is prepended to object keys.
	Prefix *string `json:"prefix"`
	// KeepLatest is how many successful backups are kept (0: all; default 7).
	KeepLatest *int `json:"keep_latest"`
	// Retries is how many times a failed run is retried (0 to 10, default 2).
	Retries *int  `json:"retries"`
	Enabled *bool `json:"enabled"`
	// StopService stops the application while its volumes are copied
	// (application volume policies only).
	StopService *bool `json:"stop_service"`
}

func (r PolicyRequest) change() service.PolicyChange {
	return service.PolicyChange{DestinationID: r.DestinationID, Schedule: r.Schedule, TimeZone: r.TimeZone, Prefix: r.Prefix,
		KeepLatest: r.KeepLatest, Retries: r.Retries, Enabled: r.Enabled, StopService: r.StopService}
}

// owner is the database or application the route's :id names.
func owner(c *fiber.Ctx) service.Owner {
	if res := resolved(c); res.Kind == service.DatabaseResource {
		return service.DatabaseOwner(res.Database)
	}
	return service.ApplicationOwner(resolved(c).Application)
}

func (s *Server) createPolicy(c *fiber.Ctx, req PolicyRequest) (store.BackupPolicy, error) {
	return s.svc.Backups.CreatePolicy(c.UserContext(), principal(c), owner(c), req.change())
}

func (s *Server) listPolicies(c *fiber.Ctx) (List[store.BackupPolicy], error) {
	pg, err := pageParams(c)
	if err != nil {
		return List[store.BackupPolicy]{}, err
	}
	o := owner(c)
	f := store.PolicyFilter{Orgs: []uuid.UUID{o.Organization}}
	if o.Database != nil {
		f.Database = *o.Database
	} else {
		f.Application = *o.Application
	}
	items, more, err := s.store.ListBackupPolicies(c.UserContext(), f, pg)
	return listOf(items, more, func(p store.BackupPolicy) uuid.UUID { return p.ID }), err
}

func (s *Server) getPolicy(c *fiber.Ctx) (store.BackupPolicy, error) { return resolved(c).Policy, nil }

func (s *Server) updatePolicy(c *fiber.Ctx, req PolicyRequest) (store.BackupPolicy, error) {
	return s.svc.Backups.UpdatePolicy(c.UserContext(), principal(c), resolved(c).Policy, req.change())
}

func (s *Server) deletePolicy(c *fiber.Ctx) (NoContent, error) {
	return NoContent{}, s.svc.Backups.DeletePolicy(c.UserContext(), principal(c), resolved(c).Policy)
}

// Backups.

func (s *Server) backupNow(c *fiber.Ctx) (store.Backup, error) {
	return s.svc.Backups.RunNow(c.UserContext(), principal(c), resolved(c).Policy)
}

func (s *Server) getBackup(c *fiber.Ctx) (store.Backup, error) { return resolved(c).Backup, nil }

var backupStatuses = []string{store.BackupQueued, store.BackupRunning, store.BackupSucceeded, store.BackupFailed, store.BackupMissed}

// listBackups lists backups of the database, application or policy
// named by :id, newest first.
func (s *Server) listBackups(c *fiber.Ctx) (List[store.Backup], error) {
	var f store.BackupFilter
	switch res := resolved(c); res.Kind {
	case service.PolicyResource:
		f.Policy = res.Policy.ID
	case service.DatabaseResource:
		f.Database = res.Database.ID
	default:
		f.Application = res.Application.ID
	}
	limit, err := listLimit(c)
	if err != nil {
		return List[store.Backup]{}, err
	}
	if f.Status, err = statusQuery(c, backupStatuses); err != nil {
		return List[store.Backup]{}, err
	}
	items, err := s.store.ListBackups(c.UserContext(), f, limit)
	if items == nil {
		items = []store.Backup{}
	}
	return List[store.Backup]{Items: items}, err
}

// Restores.

// RestoreRequest restores a backup: a recorded backup (backup_id), or for
// a database also an object found on a destination (destination_id and
// key, verified against its manifest).
type RestoreRequest struct {
	BackupID      *uuid.UUID `json:"backup_id"`
	DestinationID *uuid.UUID `json:"destination_id"`
	Key           *string    `json:"key"`
}

func (s *Server) restoreDatabase(c *fiber.Ctx, req RestoreRequest) (store.Restore, error) {
	return s.svc.Restores.RestoreDatabase(c.UserContext(), principal(c), resolved(c).Database,
		service.DatabaseRestore{BackupID: req.BackupID, DestinationID: req.DestinationID, Key: req.Key})
}

// VolumeRestoreRequest restores a volume backup into its application.
type VolumeRestoreRequest struct {
	// BackupID is a succeeded volume backup of this application.
	BackupID *uuid.UUID `json:"backup_id"`
}

func (s *Server) restoreApplicationVolumes(c *fiber.Ctx, req VolumeRestoreRequest) (store.Restore, error) {
	return s.svc.Restores.RestoreApplication(c.UserContext(), principal(c), resolved(c).Application, req.BackupID)
}

// listLimit reads ?limit= of the unpaged lists (backups, restores):
// store.MaxPageSize when absent.
func listLimit(c *fiber.Ctx) (int, error) {
	if c.Query("limit") == "" {
		return store.MaxPageSize, nil
	}
	pg, err := pageParams(c)
	if err != nil {
		return 0, err
	}
	return pg.Limit, nil
}

// statusQuery reads ?status=, which must be one of allowed ("" when absent).
func statusQuery(c *fiber.Ctx, allowed []string) (string, error) {
	st := strings.Clone(c.Query("status"))
	if st != "" && !slices.Contains(allowed, st) {
		return "", badRequest("status", "%q is not one of %s", st, strings.Join(allowed, ", "))
	}
	return st, nil
}

// requireBackupPlugin checks id names a backup plugin: an installed one
// when the server knows its plugins.
func (s *Server) requireBackupPlugin(ctx context.Context, id string) error {
	if id == "" {
		return invalid("plugin_id", "is required (an installed backup plugin such as backup.s3)")
	}
	if !strings.HasPrefix(id, "backup.") || len(id) > 80 {
		return invalid("plugin_id", "%q is not a backup plugin id (backup.<name>)", id)
	}
	if s.opts.Plugins == nil {
		return nil
	}
	ps, err := s.opts.Plugins.ListPlugins(ctx)
	if err != nil {
		return err
	}
	var installed []string
	for _, p := range ps {
		if p.Kind == "backup" {
			if p.ID == id {
				return nil
			}
			installed = append(installed, p.ID)
		}
	}
	if len(installed) == 0 {
		return invalid("plugin_id", "%q is not an installed backup plugin (none is installed)", id)
	}
	return invalid("plugin_id", "%q is not an installed backup plugin (installed: %s)", id, strings.Join(installed, ", "))
}
