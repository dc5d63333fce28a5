package api

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/store"
)

// DatabaseOps runs database services, backups and restores for the API
// (core/app implements it with core/dbservice, core/backup and the backup
// queue).
type DatabaseOps interface {
	// Deploy applies db's settings and desired state (one replica when
	// running, none when stopped) and waits until it converged.
	Deploy(ctx context.Context, db store.Database) error
	// Delete removes db's service, and its volume when deleteVolume is set.
	Delete(ctx context.Context, db store.Database, deleteVolume bool) error
	// TestDestination checks a destination's settings with its plugin; the
	// string is the plugin's message.
	TestDestination(ctx context.Context, dest store.BackupDestination) (string, error)
	// ListObjects lists the backup objects (manifests excluded) on dest
	// under prefix.
	ListObjects(ctx context.Context, dest store.BackupDestination, prefix string) ([]BackupObject, error)
	// BackupNow records and enqueues an on-demand backup.
	BackupNow(ctx context.Context, nb store.NewBackup, retries int) (store.Backup, error)
	// StartRestore records a queued restore and its job in one
	// transaction; the restore runs in the background (poll
	// GET /restores/{id}).
	StartRestore(ctx context.Context, in store.NewRestore) (store.Restore, error)
	// CancelRestore cancels a queued restore or asks a running one to stop;
	// an error wrapping ErrRestoreEnded means it had already ended.
	CancelRestore(ctx context.Context, r store.Restore) (store.Restore, error)
}

// ErrRestoreEnded marks a cancel of a restore that already ended (a 409).
var ErrRestoreEnded = errors.New("restore already ended")

var errNoDatabases = &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable",
	Message: "databases and backups are not available on this server (no Docker)"}

func (s *Server) dbOps() (DatabaseOps, error) {
	if s.opts.Databases == nil {
		return nil, errNoDatabases
	}
	return s.opts.Databases, nil
}

// clusterFailed reports a Docker or plugin operation that failed as a 502
// with its message (API errors and cancellations pass through).
func clusterFailed(code, prefix string, err error) error {
	if isAnswer(err) || errors.Is(err, context.Canceled) {
		return err
	}
	return &Error{Status: fiber.StatusBadGateway, Code: code, Message: prefix + err.Error()}
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
	// image's contract (environment, data directory, tools).
	Image *string `json:"image"`
	// ExternalPort publishes the database on this host port (host mode); 0: internal only.
	ExternalPort *int `json:"external_port"`
	// CPULimit is in CPUs; 0 means no limit.
	CPULimit *float64 `json:"cpu_limit"`
	// MemoryLimitMB is in MiB; 0 means no limit.
	MemoryLimitMB *int `json:"memory_limit_mb"`
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

// tagPattern is a Docker image tag.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func engineNames() string {
	var names []string
	for _, e := range database.Engines() {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}

// validateDatabase checks a complete database spec.
func validateDatabase(d store.DatabaseSpec) error {
	if err := validateSlug("name", d.Name, 40); err != nil {
		return err
	}
	if !d.Engine.Valid() {
		return invalid("engine", "%q is not one of %s", d.Engine, engineNames())
	}
	if d.Version != "" && !tagPattern.MatchString(d.Version) {
		return invalid("version", "%q is not a valid image tag", d.Version)
	}
	if d.Image != "" {
		if err := validateImage(d.Image); err != nil {
			return err
		}
	}
	if d.ExternalPort < 0 || d.ExternalPort > 65535 {
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

// portInUse turns the store's unique external port conflict into a 422.
func portInUse(err error, port int) error {
	var c *store.ConflictError
	if errors.As(err, &c) && c.Field == "external_port" {
		return invalid("external_port", "port %d is already published by another database", port)
	}
	return err
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
	if err := s.checkHostAccess(c, env.OrganizationID, nil, hostaccess.DatabaseUses(spec)); err != nil {
		return err
	}
	if eng, _ := database.Lookup(spec.Engine); spec.Version == "" && spec.Image == "" {
		spec.Version = eng.Version
	}
	creds, err := database.NewCredentials(spec.Engine, spec.Name)
	if err != nil {
		return err
	}
	db, err := s.store.CreateDatabase(c.UserContext(), env.ID, spec, creds)
	if err != nil {
		return portInUse(err, spec.ExternalPort)
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
		return invalid("name", "cannot be changed (it names the service and the volume)")
	}
	if req.Engine != nil && database.Engine(strings.TrimSpace(*req.Engine)) != d.Engine {
		return invalid("engine", "cannot be changed; create a new database and restore a backup into it")
	}
	spec := d.Spec()
	req.apply(&spec)
	if err := validateDatabase(spec); err != nil {
		return err
	}
	if err := s.checkHostAccess(c, d.OrganizationID, hostaccess.DatabaseUses(d.Spec()), hostaccess.DatabaseUses(spec)); err != nil {
		return err
	}
	d, err = s.store.UpdateDatabase(c.UserContext(), d.ID, spec)
	if err != nil {
		return portInUse(err, spec.ExternalPort)
	}
	return c.JSON(d)
}

func (s *Server) deleteDatabase(c *fiber.Ctx) error {
	// Admins only, like the dashboard: the service goes, and with
	// delete_volume the data is gone for good.
	d, err := s.loadDatabase(c, "id", store.RoleAdmin)
	if err != nil {
		return err
	}
	deleteVolume, err := queryBool(c, "delete_volume")
	if err != nil {
		return err
	}
	ops, err := s.dbOps()
	if err != nil {
		return err
	}
	if err := ops.Delete(c.UserContext(), d, deleteVolume); err != nil {
		return clusterFailed("database_failed", "", err)
	}
	if err := s.store.DeleteDatabase(c.UserContext(), d.ID); err != nil {
		return notFoundAs(err, "database")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// databaseAction sets the desired state (when state is set), deploys and
// answers the database as it is now.
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
		if state != "" && d.DesiredState != state {
			if err := s.store.SetDatabaseState(c.UserContext(), d.ID, state); err != nil {
				return notFoundAs(err, "database")
			}
			d.DesiredState = state
		}
		if err := ops.Deploy(c.UserContext(), d); err != nil {
			return clusterFailed("database_failed", "", err)
		}
		d, err = s.store.GetDatabase(c.UserContext(), d.ID)
		if err != nil {
			return notFoundAs(err, "database")
		}
		return c.JSON(d)
	}
}

// ConnectionInfo is how to reach a database; it carries its credentials
// (members and above only).
type ConnectionInfo struct {
	// Host is the internal hostname on the environment's network.
	Host     string `json:"host"`
	Port     int    `json:"port"`
	User     string `json:"user"`
	Password string `json:"password"`
	Database string `json:"database"`
	// URL is the internal connection URL.
	URL string `json:"url"`
	// ExternalPort is the host port the database is published on, 0 if none.
	ExternalPort int `json:"external_port"`
}

func (s *Server) databaseConnection(c *fiber.Ctx) error {
	d, err := s.loadDatabase(c, "id", store.RoleMember) // credentials: like variable values, not for viewers
	if err != nil {
		return err
	}
	eng, ok := database.Lookup(d.Engine)
	if !ok {
		return invalid("engine", "%q is not a known engine", d.Engine)
	}
	return c.JSON(ConnectionInfo{Host: d.ServiceName, Port: eng.Port, User: d.Credentials.User,
		Password: d.Credentials.Password, Database: d.Credentials.Database,
		URL: eng.URL(d.Credentials, d.ServiceName, eng.Port), ExternalPort: d.ExternalPort})
}
