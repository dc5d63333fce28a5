package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/schedule"
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
type BackupObject struct {
	Key       string            `json:"key"`
	SizeBytes int64             `json:"size_bytes"`
	Modified  time.Time         `json:"modified"`
	Metadata  map[string]string `json:"metadata"`
	// BackupID is the recorded backup whose object this is; null for an
	// object found only on the destination (restore it by destination_id
	// and key).
	BackupID *uuid.UUID `json:"backup_id"`
}

// BackupObjectList lists objects on a destination, sorted by key.
type BackupObjectList struct {
	Items []BackupObject `json:"items"`
}

func (s *Server) loadDestination(c *fiber.Ctx, min store.Role) (store.BackupDestination, error) {
	id, err := pathID(c, "id", "backup destination")
	if err != nil {
		return store.BackupDestination{}, err
	}
	d, err := s.store.GetBackupDestination(c.UserContext(), id)
	if err != nil {
		return d, notFoundAs(err, "backup destination")
	}
	return d, authorize(c, d.OrganizationID, min, "backup destination")
}

func (s *Server) loadOrganizationID(c *fiber.Ctx, min store.Role) (uuid.UUID, error) {
	id, err := pathID(c, "id", "organization")
	if err != nil {
		return id, err
	}
	return id, authorize(c, id, min, "organization")
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

// checkDestination asks the host-access guard about the host directories a
// destination's settings name (properties the plugin's schema marks
// x-berth-host-path, e.g. backup.local's directory).
func (s *Server) checkDestination(c *fiber.Ctx, org uuid.UUID, plugin string, before, after json.RawMessage) error {
	schema, err := s.pluginSchema(c.UserContext(), plugin)
	if err != nil {
		return err
	}
	had, err := hostaccess.DestinationUses(schema, before)
	if err != nil {
		return err
	}
	uses, err := hostaccess.DestinationUses(schema, after)
	if err != nil {
		return invalid("settings", "%v", err)
	}
	return s.checkHostAccess(c, org, had, uses)
}

// mergeSettings applies a settings patch: null removes a key.
func mergeSettings(saved json.RawMessage, patch map[string]json.RawMessage) (json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(saved) > 0 {
		if err := json.Unmarshal(saved, &out); err != nil {
			return nil, fmt.Errorf("saved settings: %w", err)
		}
	}
	for k, v := range patch {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	data, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	if len(data) > 64<<10 {
		return nil, invalid("settings", "must be at most 64 KiB")
	}
	return data, nil
}

func (s *Server) listDestinations(c *fiber.Ctx) error {
	org, err := s.loadOrganizationID(c, store.RoleViewer)
	if err != nil {
		return err
	}
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	ds, more, err := s.store.ListBackupDestinations(c.UserContext(), []uuid.UUID{org}, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(ds, more, func(d store.BackupDestination) uuid.UUID { return d.ID }))
}

func (s *Server) createDestination(c *fiber.Ctx) error {
	org, err := s.loadOrganizationID(c, store.RoleAdmin)
	if err != nil {
		return err
	}
	var req DestinationRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	var name, plugin string
	if req.Name != nil {
		name = strings.TrimSpace(*req.Name)
	}
	if err := validateText("name", name, 1, 100); err != nil {
		return err
	}
	if req.PluginID != nil {
		plugin = strings.TrimSpace(*req.PluginID)
	}
	if err := s.requireBackupPlugin(c.UserContext(), plugin); err != nil {
		return err
	}
	var patch map[string]json.RawMessage
	if req.Settings != nil {
		patch = *req.Settings
	}
	settings, err := mergeSettings(nil, patch)
	if err != nil {
		return err
	}
	if err := s.destinationSettingsCheck(c, plugin, nil, settings, patch); err != nil {
		return err
	}
	if err := s.checkDestination(c, org, plugin, nil, settings); err != nil {
		return err
	}
	d, err := s.store.CreateBackupDestination(c.UserContext(), org, name, plugin, settings)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

func (s *Server) getDestination(c *fiber.Ctx) error {
	d, err := s.loadDestination(c, store.RoleViewer)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) updateDestination(c *fiber.Ctx) error {
	d, err := s.loadDestination(c, store.RoleAdmin)
	if err != nil {
		return err
	}
	var req DestinationRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.PluginID != nil && strings.TrimSpace(*req.PluginID) != d.PluginID {
		return invalid("plugin_id", "cannot be changed; create another destination")
	}
	name := d.Name
	if req.Name != nil {
		name = strings.TrimSpace(*req.Name)
		if err := validateText("name", name, 1, 100); err != nil {
			return err
		}
	}
	settings := d.Settings
	if req.Settings != nil {
		if settings, err = mergeSettings(d.Settings, *req.Settings); err != nil {
			return err
		}
		if err := s.destinationSettingsCheck(c, d.PluginID, d.Settings, settings, *req.Settings); err != nil {
			return err
		}
	}
	if err := s.checkDestination(c, d.OrganizationID, d.PluginID, d.Settings, settings); err != nil {
		return err
	}
	d, err = s.store.UpdateBackupDestination(c.UserContext(), d.ID, name, settings)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) deleteDestination(c *fiber.Ctx) error {
	d, err := s.loadDestination(c, store.RoleAdmin)
	if err != nil {
		return err
	}
	if err := s.store.DeleteBackupDestination(c.UserContext(), d.ID); err != nil {
		return notFoundAs(err, "backup destination")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) testDestination(c *fiber.Ctx) error {
	d, err := s.loadDestination(c, store.RoleMember)
	if err != nil {
		return err
	}
	ops, err := s.dbOps()
	if err != nil {
		return err
	}
	describe, err := s.recheckDestination(c, d)
	if err != nil {
		return err
	}
	msg, err := ops.TestDestination(c.UserContext(), d)
	if err != nil {
		return c.JSON(DestinationTest{OK: false, Message: describe(err)})
	}
	return c.JSON(DestinationTest{OK: true, Message: msg})
}

func (s *Server) listDestinationObjects(c *fiber.Ctx) error {
	d, err := s.loadDestination(c, store.RoleMember)
	if err != nil {
		return err
	}
	prefix := strings.Clone(c.Query("prefix"))
	if len(prefix) > 1024 || strings.ContainsRune(prefix, 0) {
		return badRequest("prefix", "must be at most 1024 bytes without NUL characters")
	}
	unrecorded := false
	switch v := c.Query("unrecorded"); v {
	case "", "false", "0":
	case "true", "1":
		unrecorded = true
	default:
		return badRequest("unrecorded", "must be true or false, got %q", v)
	}
	ops, err := s.dbOps()
	if err != nil {
		return err
	}
	describe, err := s.recheckDestination(c, d)
	if err != nil {
		return err
	}
	objs, err := ops.ListObjects(c.UserContext(), d, prefix)
	if err != nil {
		return outboundFailed("destination_failed", "backup destination "+d.Name, err, describe)
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	recorded, err := s.store.RecordedBackupKeys(c.UserContext(), d.ID, keys)
	if err != nil {
		return err
	}
	out := BackupObjectList{Items: make([]BackupObject, 0, len(objs))}
	for _, o := range objs {
		if id, ok := recorded[o.Key]; ok {
			if unrecorded {
				continue
			}
			o.BackupID = &id
		}
		out.Items = append(out.Items, o)
	}
	return c.JSON(out)
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

// validatePolicy checks a complete policy of a database (forDatabase) or
// an application, and that its destination is in org.
func (s *Server) validatePolicy(ctx context.Context, org, dest uuid.UUID, p store.BackupPolicySpec, forDatabase bool) error {
	if p.Schedule == "" {
		return invalid("schedule", "is required (a cron expression such as \"0 3 * * *\" or @daily)")
	}
	if strings.HasPrefix(p.Schedule, "TZ=") || strings.HasPrefix(p.Schedule, "CRON_TZ=") {
		return invalid("schedule", "must not carry a time zone; use time_zone")
	}
	if p.TimeZone == "" || strings.EqualFold(p.TimeZone, "local") {
		return invalid("time_zone", "must be an IANA time zone such as UTC or Europe/Paris")
	}
	if _, err := time.LoadLocation(p.TimeZone); err != nil {
		return invalid("time_zone", "%q is not an IANA time zone such as UTC or Europe/Paris", p.TimeZone)
	}
	if _, err := schedule.Parse(p.Schedule, p.TimeZone); err != nil {
		return invalid("schedule", "%v", err)
	}
	if len(p.Prefix) > 200 || strings.Contains(p.Prefix, "..") || strings.ContainsAny(p.Prefix, "\\\x00\n") {
		return invalid("prefix", "must be a relative path of at most 200 characters without ..")
	}
	if p.KeepLatest < 0 || p.KeepLatest > 10000 {
		return invalid("keep_latest", "must be %s (0 keeps all)", fmtRange(0, 10000))
	}
	if p.Retries < 0 || p.Retries > 10 {
		return invalid("retries", "must be %s", fmtRange(0, 10))
	}
	if forDatabase && p.StopService {
		return invalid("stop_service", "applies to application volume backups only")
	}
	return s.destinationIn(ctx, org, dest)
}

// destinationIn checks dest is a backup destination of org.
func (s *Server) destinationIn(ctx context.Context, org, dest uuid.UUID) error {
	if dest == uuid.Nil {
		return invalid("destination_id", "is required")
	}
	d, err := s.store.GetBackupDestination(ctx, dest)
	if isNotFound(err) || (err == nil && d.OrganizationID != org) {
		return invalid("destination_id", "no backup destination %s in this organization", dest)
	}
	return err
}

// backupOwner is the database or application named by :id, for policy,
// backup and restore routes on either.
type backupOwner struct {
	database, application *uuid.UUID
	org                   uuid.UUID
}

// ownerLoader loads a backupOwner with at least a role.
type ownerLoader func(c *fiber.Ctx, min store.Role) (backupOwner, error)

func (s *Server) databaseOwner(c *fiber.Ctx, min store.Role) (backupOwner, error) {
	d, err := s.loadDatabase(c, "id", min)
	return backupOwner{database: &d.ID, org: d.OrganizationID}, err
}

func (s *Server) applicationOwner(c *fiber.Ctx, min store.Role) (backupOwner, error) {
	a, err := s.loadApplication(c, "id", min)
	return backupOwner{application: &a.ID, org: a.OrganizationID}, err
}

func (s *Server) createPolicy(owner ownerLoader) fiber.Handler {
	return func(c *fiber.Ctx) error {
		o, err := owner(c, store.RoleMember)
		if err != nil {
			return err
		}
		var req PolicyRequest
		if err := decodeBody(c, &req); err != nil {
			return err
		}
		var dest uuid.UUID
		spec := store.BackupPolicySpec{TimeZone: "UTC", KeepLatest: 7, Retries: 2, Enabled: true}
		req.apply(&dest, &spec)
		if err := s.validatePolicy(c.UserContext(), o.org, dest, spec, o.database != nil); err != nil {
			return err
		}
		p, err := s.store.CreateBackupPolicy(c.UserContext(), o.database, o.application, dest, spec)
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

func (s *Server) listPolicies(owner ownerLoader) fiber.Handler {
	return func(c *fiber.Ctx) error {
		o, err := owner(c, store.RoleViewer)
		if err != nil {
			return err
		}
		pg, err := pageParams(c)
		if err != nil {
			return err
		}
		f := store.PolicyFilter{Orgs: []uuid.UUID{o.org}}
		if o.database != nil {
			f.Database = *o.database
		} else {
			f.Application = *o.application
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
	if err := s.validatePolicy(c.UserContext(), p.OrganizationID, dest, spec, p.DatabaseID != nil); err != nil {
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

// Backups.

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
		if b.ID != uuid.Nil { // recorded but not queued: do not leave it queued forever
			_ = s.store.FinishBackup(context.WithoutCancel(c.UserContext()), b.ID, store.BackupFailed, "", 0, "", "could not be queued: "+err.Error())
		}
		return fmt.Errorf("back up now: %w", err)
	}
	return c.Status(fiber.StatusAccepted).JSON(b)
}

// backupOrg finds the organization a backup belongs to through what it
// still references (any of them may have been deleted since).
func (s *Server) backupOrg(ctx context.Context, b store.Backup) (uuid.UUID, error) {
	if b.DestinationID != nil {
		d, err := s.store.GetBackupDestination(ctx, *b.DestinationID)
		if err == nil {
			return d.OrganizationID, nil
		} else if !isNotFound(err) {
			return uuid.Nil, err
		}
	}
	if b.DatabaseID != nil {
		d, err := s.store.GetDatabase(ctx, *b.DatabaseID)
		if err == nil {
			return d.OrganizationID, nil
		} else if !isNotFound(err) {
			return uuid.Nil, err
		}
	}
	if b.ApplicationID != nil {
		a, err := s.store.GetApplication(ctx, *b.ApplicationID)
		if err == nil {
			return a.OrganizationID, nil
		} else if !isNotFound(err) {
			return uuid.Nil, err
		}
	}
	return uuid.Nil, fmt.Errorf("backup %s: %w", b.ID, store.ErrNotFound)
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
	org, err := s.backupOrg(c.UserContext(), b)
	if err != nil {
		return notFoundAs(err, "backup")
	}
	if err := authorize(c, org, store.RoleViewer, "backup"); err != nil {
		return err
	}
	return c.JSON(b)
}

var backupStatuses = []string{store.BackupQueued, store.BackupRunning, store.BackupSucceeded, store.BackupFailed, store.BackupMissed}

// listBackups lists backups of the database, application (owner) or
// policy (owner nil) named by :id, newest first.
func (s *Server) listBackups(owner ownerLoader) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var f store.BackupFilter
		if owner == nil {
			p, err := s.loadPolicy(c, store.RoleViewer)
			if err != nil {
				return err
			}
			f.Policy = p.ID
		} else {
			o, err := owner(c, store.RoleViewer)
			if err != nil {
				return err
			}
			if o.database != nil {
				f.Database = *o.database
			} else {
				f.Application = *o.application
			}
		}
		limit, err := listLimit(c)
		if err != nil {
			return err
		}
		if f.Status, err = statusQuery(c, backupStatuses); err != nil {
			return err
		}
		items, err := s.store.ListBackups(c.UserContext(), f, limit)
		if err != nil {
			return err
		}
		if items == nil {
			items = []store.Backup{}
		}
		return c.JSON(List[store.Backup]{Items: items})
	}
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

// restorableBackup loads a recorded backup of org that can be restored
// into what kind names (database or volume).
func (s *Server) restorableBackup(ctx context.Context, id, org uuid.UUID, kind string) (store.Backup, error) {
	b, err := s.store.GetBackup(ctx, id)
	if isNotFound(err) {
		return b, invalid("backup_id", "no backup %s", id)
	} else if err != nil {
		return b, err
	}
	bOrg, err := s.backupOrg(ctx, b)
	if isNotFound(err) || (err == nil && bOrg != org) {
		return b, invalid("backup_id", "no backup %s in this organization", id)
	} else if err != nil {
		return b, err
	}
	switch {
	case b.Kind != kind:
		return b, invalid("backup_id", "is a %s backup, not a %s backup", b.Kind, kind)
	case b.DeletedAt != nil:
		return b, invalid("backup_id", "backup %s was deleted by retention: nothing to restore", b.ID)
	case b.Status != store.BackupSucceeded:
		return b, invalid("backup_id", "backup %s is %s: nothing to restore", b.ID, b.Status)
	case b.DestinationID == nil:
		return b, invalid("backup_id", "backup %s: its destination was deleted", b.ID)
	}
	return b, nil
}

// sameFamily reports whether a backup of engine a restores into engine b
// (MySQL and MariaDB dumps are interchangeable).
func sameFamily(a, b database.Engine) bool {
	fam := func(e database.Engine) database.Engine {
		if e == database.MariaDB {
			return database.MySQL
		}
		return e
	}
	return fam(a) == fam(b)
}

func (s *Server) restoreDatabase(c *fiber.Ctx) error {
	target, err := s.loadDatabase(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req RestoreRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	switch {
	case req.BackupID != nil && (req.DestinationID != nil || req.Key != nil):
		return invalid("backup_id", "give either backup_id, or destination_id and key, not both")
	case req.BackupID != nil:
		b, err := s.restorableBackup(ctx, *req.BackupID, target.OrganizationID, "database")
		if err != nil {
			return err
		}
		if b.DatabaseID != nil {
			src, err := s.store.GetDatabase(ctx, *b.DatabaseID)
			if err == nil && !sameFamily(src.Engine, target.Engine) {
				return invalid("backup_id", "is a %s backup; database %s runs %s", src.Engine, target.Name, target.Engine)
			} else if err != nil && !isNotFound(err) {
				return err
			}
		}
	case req.DestinationID != nil:
		if err := s.destinationIn(ctx, target.OrganizationID, *req.DestinationID); err != nil {
			return err
		}
		if req.Key == nil || *req.Key == "" || len(*req.Key) > 1024 || strings.ContainsRune(*req.Key, 0) ||
			strings.HasPrefix(*req.Key, "/") || strings.Contains(*req.Key, "..") {
			return invalid("key", "is required with destination_id: an object key listed on the destination (relative, without .., at most 1024 bytes)")
		}
	default:
		if req.Key != nil {
			return invalid("destination_id", "is required with key")
		}
		return invalid("backup_id", "is required (or destination_id and key)")
	}
	ops, err := s.dbOps()
	if err != nil {
		return err
	}
	nr := store.NewRestore{OrganizationID: target.OrganizationID, Kind: "database", DatabaseID: &target.ID,
		BackupID: req.BackupID, DestinationID: req.DestinationID, TargetName: target.Name, CreatedBy: callerID(c)}
	if req.Key != nil {
		nr.Key = *req.Key
	}
	r, err := ops.StartRestore(ctx, nr)
	if err != nil {
		return fmt.Errorf("queue the restore: %w", err)
	}
	return c.Status(fiber.StatusAccepted).JSON(r)
}

// callerID is the authenticated user's id, if any.
func callerID(c *fiber.Ctx) *uuid.UUID {
	if p := principal(c); p != nil && p.User.ID != uuid.Nil {
		id := p.User.ID
		return &id
	}
	return nil
}

// VolumeRestoreRequest restores a volume backup into its application.
type VolumeRestoreRequest struct {
	// BackupID is a succeeded volume backup of this application.
	BackupID *uuid.UUID `json:"backup_id"`
}

func (s *Server) restoreApplicationVolumes(c *fiber.Ctx) error {
	app, err := s.loadApplication(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req VolumeRestoreRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.BackupID == nil {
		return invalid("backup_id", "is required (a volume backup of this application)")
	}
	b, err := s.restorableBackup(c.UserContext(), *req.BackupID, app.OrganizationID, "volume")
	if err != nil {
		return err
	}
	if b.ApplicationID == nil || *b.ApplicationID != app.ID {
		return invalid("backup_id", "backup %s is not a backup of application %s's volumes", b.ID, app.Name)
	}
	ops, err := s.dbOps()
	if err != nil {
		return err
	}
	r, err := ops.StartRestore(c.UserContext(), store.NewRestore{OrganizationID: app.OrganizationID, Kind: "volume",
		ApplicationID: &app.ID, BackupID: &b.ID, DestinationID: b.DestinationID, Key: b.Key, TargetName: app.Name,
		CreatedBy: callerID(c)})
	if err != nil {
		return fmt.Errorf("queue the restore: %w", err)
	}
	return c.Status(fiber.StatusAccepted).JSON(r)
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
