package api

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
)

// DatabaseOps runs database services and backups for the API.
type DatabaseOps interface {
	// Deploy applies db's settings and desired state and waits for it.
	Deploy(ctx context.Context, db store.Database) error
	// Delete removes db's service, and its volume when deleteVolume is set.
	Delete(ctx context.Context, db store.Database, deleteVolume bool) error
	// TestDestination checks a destination's settings with its plugin.
	TestDestination(ctx context.Context, dest store.BackupDestination) (string, error)
	// BackupNow records and enqueues an on-demand backup.
	BackupNow(ctx context.Context, nb store.NewBackup, retries int) (store.Backup, error)
	// Restore verifies a backup and restores it into a database.
	Restore(ctx context.Context, req RestoreRequest, target store.Database) error
}

var errNoDatabases = &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable",
	Message: "database services are not available on this server (no Docker)"}

func (s *Server) dbOps() (DatabaseOps, error) {
	if s.opts.Databases == nil {
		return nil, errNoDatabases
	}
	return s.opts.Databases, nil
}

// DatabaseRequest creates or changes a database. On PATCH, omitted fields
// keep their value; name and engine cannot change.
type DatabaseRequest struct {
	Name *string `json:"name"`
	// Engine is postgres, mysql, mariadb, mongodb or redis.
	Engine *string `json:"engine"`
	// Version is the image tag (default per engine: postgres 16, mysql 8.4,
	// mariadb 11, mongodb 7, redis 7).
	Version *string `json:"version"`
	// Image overrides the engine's image; it must honour the official
	// image's contract.
	Image *string `json:"image"`
	// ExternalPort publishes the database on this host port (host mode); 0: internal only.
	ExternalPort  *int     `json:"external_port"`
	CPULimit      *float64 `json:"cpu_limit"`
	MemoryLimitMB *int     `json:"memory_limit_mb"`
}

func (r DatabaseRequest) apply(spec *store.DatabaseSpec) {
	if r.Name != nil {
		spec.Name = strings.TrimSpace(*r.Name)
	}
	if r.Engine != nil {
		spec.Engine = database.Engine(strings.TrimSpace(*r.Engine))
	}
	if r.Version != nil {
		spec.Version = strings.TrimSpace(*r.Version)
	}
	if r.Image != nil {
		spec.Image = strings.TrimSpace(*r.Image)
	}
	if r.ExternalPort != nil {
		spec.ExternalPort = *r.ExternalPort
	}
	if r.CPULimit != nil {
		spec.CPULimit = *r.CPULimit
	}
	if r.MemoryLimitMB != nil {
		spec.MemoryLimitMB = *r.MemoryLimitMB
	}
}

func validateDatabase(d store.DatabaseSpec) error {
	if err := validateSlug("name", d.Name, 40); err != nil {
		return err
	}
	if !d.Engine.Valid() {
		return invalid("engine", "%q is not one of postgres, mysql, mariadb, mongodb, redis", d.Engine)
	}
	if d.Version != "" && (len(d.Version) > 128 || strings.ContainsAny(d.Version, " /:@\t\n\x00")) {
		return invalid("version", "%q is not a valid image tag", d.Version)
	}
	if d.Image != "" {
		if err := validateImage(d.Image); err != nil {
			return err
		}
	}
	if d.ExternalPort != 0 && (d.ExternalPort < 1 || d.ExternalPort > 65535) {
		return invalid("external_port", "must be 0 (internal only) or %s", fmtRange(1, 65535))
	}
	if d.CPULimit < 0 || d.CPULimit > 256 {
		return invalid("cpu_limit", "must be from 0 to 256 CPUs")
	}
	if d.MemoryLimitMB != 0 && (d.MemoryLimitMB < 6 || d.MemoryLimitMB > 1<<20) {
		return invalid("memory_limit_mb", "must be 0 (no limit) or %s MiB", fmtRange(6, 1<<20))
	}
	return nil
}

func (s *Server) loadDatabase(c *fiber.Ctx, param string, min store.Role) (store.Database, error) {
	id, err := pathID(c, param, "database")
	if err != nil {
		return store.Database{}, err
	}
	d, err := s.store.GetDatabase(c.UserContext(), id)
	if err != nil {
		return d, notFoundAs(err, "database")
	}
	return d, authorize(c, d.OrganizationID, min, "database")
}

func (s *Server) listDatabases(c *fiber.Ctx) error {
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	f := store.DatabaseFilter{Orgs: orgIDs(principal(c))}
	if f.Project, err = queryID(c, "project_id"); err != nil {
		return err
	}
	if f.Environment, err = queryID(c, "environment_id"); err != nil {
		return err
	}
	dbs, more, err := s.store.ListDatabases(c.UserContext(), f, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(dbs, more, func(d store.Database) uuid.UUID { return d.ID }))
}

func (s *Server) createDatabase(c *fiber.Ctx) error {
	env, err := s.loadEnvironment(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req DatabaseRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	var spec store.DatabaseSpec
	req.apply(&spec)
	if err := validateDatabase(spec); err != nil {
		return err
	}
	creds, err := database.NewCredentials(spec.Engine, spec.Name)
	if err != nil {
		return err
	}
	db, err := s.store.CreateDatabase(c.UserContext(), env.ID, spec, creds)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(db)
}

func (s *Server) getDatabase(c *fiber.Ctx) error {
	d, err := s.loadDatabase(c, "id", store.RoleViewer)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) updateDatabase(c *fiber.Ctx) error {
	d, err := s.loadDatabase(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	var req DatabaseRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Name != nil && strings.TrimSpace(*req.Name) != d.Name {
		return invalid("name", "cannot be changed")
	}
	if req.Engine != nil && database.Engine(*req.Engine) != d.Engine {
		return invalid("engine", "cannot be changed")
	}
	spec := d.Spec()
	req.apply(&spec)
	if err := validateDatabase(spec); err != nil {
		return err
	}
	d, err = s.store.UpdateDatabase(c.UserContext(), d.ID, spec)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) deleteDatabase(c *fiber.Ctx) error {
	d, err := s.loadDatabase(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	deleteVolume := false
	switch v := c.Query("delete_volume"); v {
	case "", "false":
	case "true":
		deleteVolume = true
	default:
		return badRequest("delete_volume", "must be true or false, got %q", v)
	}
	if deleteVolume {
		if err := authorize(c, d.OrganizationID, store.RoleAdmin, "database"); err != nil {
			return err
		}
	}
	if ops, err := s.dbOps(); err == nil {
		if err := ops.Delete(c.UserContext(), d, deleteVolume); err != nil {
			return err
		}
	}
	if err := s.store.DeleteDatabase(c.UserContext(), d.ID); err != nil {
		return notFoundAs(err, "database")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// databaseAction sets the desired state (when state is set) and deploys.
func (s *Server) databaseAction(state string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		d, err := s.loadDatabase(c, "id", store.RoleMember)
		if err != nil {
			return err
		}
		ops, err := s.dbOps()
		if err != nil {
			return err
		}
		if state != "" {
			if err := s.store.SetDatabaseState(c.UserContext(), d.ID, state); err != nil {
				return err
			}
			d.DesiredState = state
		}
		if err := ops.Deploy(c.UserContext(), d); err != nil {
			return err
		}
		d, err = s.store.GetDatabase(c.UserContext(), d.ID)
		if err != nil {
			return err
		}
		return c.JSON(d)
	}
}

// ConnectionInfo is how to reach a database; it carries its credentials.
type ConnectionInfo struct {
	// Host is the internal hostname on the environment's network.
	Host     string `json:"host"`
	Port     int    `json:"port"`
	URL      string `json:"url"`
	User     string `json:"user,omitempty"`
	Password string `json:"password"`
	Database string `json:"database,omitempty"`
	// ExternalPort is the host port the database is published on, if any.
	ExternalPort int `json:"external_port,omitempty"`
}

func (s *Server) databaseConnection(c *fiber.Ctx) error {
	d, err := s.loadDatabase(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	eng, _ := database.Lookup(d.Engine)
	return c.JSON(ConnectionInfo{Host: d.ServiceName, Port: eng.Port, URL: eng.URL(d.Credentials, d.ServiceName, eng.Port),
		User: d.Credentials.User, Password: d.Credentials.Password, Database: d.Credentials.Database, ExternalPort: d.ExternalPort})
}

// DestinationRequest creates or changes a backup destination.
type DestinationRequest struct {
	Name *string `json:"name"`
	// PluginID is a backup plugin, e.g. backup.s3 or backup.local (fixed at creation).
	PluginID *string `json:"plugin_id"`
	// Settings are the plugin's settings (write-only: credentials).
	Settings *json.RawMessage `json:"settings"`
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

func validateDestination(name, pluginID string, settings json.RawMessage) error {
	if err := validateSlug("name", name, 40); err != nil {
		return err
	}
	if !strings.HasPrefix(pluginID, "backup.") || len(pluginID) > 80 {
		return invalid("plugin_id", "%q is not a backup plugin id (backup.<name>)", pluginID)
	}
	if len(settings) > 64<<10 || !strings.HasPrefix(strings.TrimSpace(string(settings)), "{") {
		return invalid("settings", "must be a JSON object of at most 64 KiB")
	}
	return nil
}

func (s *Server) listDestinations(c *fiber.Ctx) error {
	id, err := pathID(c, "id", "organization")
	if err != nil {
		return err
	}
	if err := authorize(c, id, store.RoleViewer, "organization"); err != nil {
		return err
	}
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	items, more, err := s.store.ListBackupDestinations(c.UserContext(), []uuid.UUID{id}, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(items, more, func(d store.BackupDestination) uuid.UUID { return d.ID }))
}

func (s *Server) createDestination(c *fiber.Ctx) error {
	org, err := pathID(c, "id", "organization")
	if err != nil {
		return err
	}
	if err := authorize(c, org, store.RoleAdmin, "organization"); err != nil {
		return err
	}
	var req DestinationRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	var name, plugin string
	settings := json.RawMessage("{}")
	if req.Name != nil {
		name = strings.TrimSpace(*req.Name)
	}
	if req.PluginID != nil {
		plugin = strings.TrimSpace(*req.PluginID)
	}
	if req.Settings != nil {
		settings = *req.Settings
	}
	if err := validateDestination(name, plugin, settings); err != nil {
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
	if req.PluginID != nil && *req.PluginID != d.PluginID {
		return invalid("plugin_id", "cannot be changed")
	}
	if req.Name != nil {
		d.Name = strings.TrimSpace(*req.Name)
	}
	if req.Settings != nil {
		d.Settings = *req.Settings
	}
	if err := validateDestination(d.Name, d.PluginID, d.Settings); err != nil {
		return err
	}
	d, err = s.store.UpdateBackupDestination(c.UserContext(), d.ID, d.Name, d.Settings)
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

// TestResult is the outcome of a destination test.
type TestResult struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
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
	msg, err := ops.TestDestination(c.UserContext(), d)
	if err != nil {
		return c.JSON(TestResult{OK: false, Message: err.Error()})
	}
	return c.JSON(TestResult{OK: true, Message: msg})
}
