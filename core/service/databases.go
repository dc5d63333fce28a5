package service

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/validate"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// DataOps is what databases, backups and restores need outside the store:
// Docker Swarm services, backup plugins and the restore runner. core/app
// implements it with core/dbservice, core/backup and core/restore.
type DataOps interface {
	// Deploy applies db's settings and desired state (one replica when
	// running, none when stopped) and waits until it converged.
	Deploy(ctx context.Context, db store.Database) error
	// Delete removes db's service, and its volume when deleteVolume is set.
	Delete(ctx context.Context, db store.Database, deleteVolume bool) error
	// TestDestination checks a destination's settings with its plugin; the
	// string is the plugin's message.
	TestDestination(ctx context.Context, dest store.BackupDestination) (string, error)
	// ListObjects lists the backup objects (manifests excluded) on dest
	// under prefix, sorted by key.
	ListObjects(ctx context.Context, dest store.BackupDestination, prefix string) ([]BackupObject, error)
	// StartRestore records a queued restore and its job in one
	// transaction; the restore runs in the background.
	StartRestore(ctx context.Context, in store.NewRestore) (store.Restore, error)
	// CancelRestore cancels a queued restore or asks a running one to
	// stop; an error wrapping ErrRestoreEnded means it had already ended.
	CancelRestore(ctx context.Context, r store.Restore) (store.Restore, error)
}

// Jobs inserts durable jobs in the caller's transaction (*queue.Queue).
type Jobs interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, bool, error)
}

// DataDeps are the dependencies of Databases, Backups and Restores beyond
// the store: both may be nil on a server without Docker or job queue, and
// the operations that need them then answer 503.
type DataDeps struct {
	Ops  DataOps
	Jobs Jobs
}

// ErrRestoreEnded marks a cancel of a restore that already ended.
var ErrRestoreEnded = errors.New("restore already ended")

// errNoData answers operations that need Docker on a server without it.
var errNoData = problem.Down("databases and backups are not available on this server (no Docker)", nil)

func (s *Services) dataOps() (DataOps, error) {
	if s.deps.Data.Ops == nil {
		return nil, errNoData
	}
	return s.deps.Data.Ops, nil
}

// Databases creates, changes, runs and deletes managed databases. Members
// create, change, deploy, start and stop them; admins delete them (the
// service goes, and with its volume the data), like applications.
type Databases struct{ s *Services }

// Available reports whether database services can run here (Docker).
func (ds *Databases) Available() bool { return ds.s.deps.Data.Ops != nil }

// Require returns the 503 problem of a server where database services
// cannot run, nil where they can.
func (ds *Databases) Require() error {
	_, err := ds.s.dataOps()
	return err
}

// DatabaseInput is a database's settings as a front door submits them.
type DatabaseInput struct{ store.DatabaseSpec }

// tagPattern is a Docker image tag.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func engineNames() string {
	var names []string
	for _, e := range database.Engines() {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}

// Validate checks a complete database spec: the one rule for the name,
// engine, image tag, image, port and limits.
func (in DatabaseInput) Validate() error {
	d := in.DatabaseSpec
	if err := validate.Slug("name", d.Name, 40); err != nil {
		return err
	}
	if !d.Engine.Valid() {
		return problem.InvalidField("engine", "%q is not one of %s", d.Engine, engineNames())
	}
	if d.Version != "" && !tagPattern.MatchString(d.Version) {
		return problem.InvalidField("version", "%q is not a valid image tag", d.Version)
	}
	if d.Image != "" {
		if err := validate.Image("image", d.Image); err != nil {
			return err
		}
	}
	switch {
	case d.ExternalPort < 0 || d.ExternalPort > 65535:
		return problem.InvalidField("external_port", "must be 0 (internal only) or from 1 to 65535")
	case d.CPULimit < 0 || d.CPULimit > 256:
		return problem.InvalidField("cpu_limit", "must be from 0 to 256 CPUs")
	case d.MemoryLimitMB != 0 && (d.MemoryLimitMB < 6 || d.MemoryLimitMB > 1<<20):
		return problem.InvalidField("memory_limit_mb", "must be 0 (no limit) or from 6 to 1048576 MiB")
	}
	return nil
}

// trimmed returns the spec with its text fields trimmed.
func (in DatabaseInput) trimmed() DatabaseInput {
	in.Name = strings.TrimSpace(in.Name)
	in.Engine = database.Engine(strings.TrimSpace(string(in.Engine)))
	in.Version = strings.TrimSpace(in.Version)
	in.Image = strings.TrimSpace(in.Image)
	return in
}

// DatabaseChange changes a database; nil fields stay. Name and engine
// cannot change (given, they must equal the current ones).
type DatabaseChange struct {
	Name          *string
	Engine        *string
	Version       *string
	Image         *string
	ExternalPort  *int
	CPULimit      *float64
	MemoryLimitMB *int
}

// apply returns db's settings with the change applied.
func (in DatabaseChange) apply(db store.Database) (DatabaseInput, error) {
	if in.Name != nil && strings.TrimSpace(*in.Name) != db.Name {
		return DatabaseInput{}, problem.InvalidField("name", "cannot be changed (it names the service and the volume)")
	}
	if in.Engine != nil && database.Engine(strings.TrimSpace(*in.Engine)) != db.Engine {
		return DatabaseInput{}, problem.InvalidField("engine", "cannot be changed; create a new database and restore a backup into it")
	}
	spec := db.Spec()
	if in.Version != nil {
		spec.Version = *in.Version
	}
	if in.Image != nil {
		spec.Image = *in.Image
	}
	if in.ExternalPort != nil {
		spec.ExternalPort = *in.ExternalPort
	}
	if in.CPULimit != nil {
		spec.CPULimit = *in.CPULimit
	}
	if in.MemoryLimitMB != nil {
		spec.MemoryLimitMB = *in.MemoryLimitMB
	}
	return DatabaseInput{spec}.trimmed(), nil
}

// portInUse turns the store's unique external port conflict into an
// invalid external_port (422, the API's answer since databases exist).
func portInUse(err error, port int) error {
	var c *store.ConflictError
	if errors.As(err, &c) && c.Field == "external_port" {
		return problem.InvalidField("external_port", "port %d is already published by another database", port)
	}
	return err
}

// Create adds a database to env with fresh credentials (members and
// above). It is not deployed.
func (ds *Databases) Create(ctx context.Context, p *store.Principal, env store.Environment, in DatabaseInput) (store.Database, error) {
	if err := Authorize(p, env.OrganizationID, store.RoleMember, "environment"); err != nil {
		return store.Database{}, err
	}
	in = in.trimmed()
	if err := in.Validate(); err != nil {
		return store.Database{}, err
	}
	spec := in.DatabaseSpec
	if err := ds.s.deps.HostAccess.CheckChange(ctx, p, env.OrganizationID, nil, hostaccess.DatabaseUses(spec)); err != nil {
		return store.Database{}, err
	}
	if eng, _ := database.Lookup(spec.Engine); spec.Version == "" && spec.Image == "" {
		spec.Version = eng.Version
	}
	creds, err := database.NewCredentials(spec.Engine, spec.Name)
	if err != nil {
		return store.Database{}, fmt.Errorf("database credentials: %w", err)
	}
	db, err := ds.s.deps.Store.CreateDatabase(ctx, env.ID, spec, creds)
	return db, portInUse(err, spec.ExternalPort)
}

// Update changes a database's version, image, port or limits (members
// and above); deploy to apply.
func (ds *Databases) Update(ctx context.Context, p *store.Principal, db store.Database, in DatabaseChange) (store.Database, error) {
	if err := Authorize(p, db.OrganizationID, store.RoleMember, "database"); err != nil {
		return db, err
	}
	next, err := in.apply(db)
	if err != nil {
		return db, err
	}
	if err := next.Validate(); err != nil {
		return db, err
	}
	if err := ds.s.deps.HostAccess.CheckChange(ctx, p, db.OrganizationID, hostaccess.DatabaseUses(db.Spec()), hostaccess.DatabaseUses(next.DatabaseSpec)); err != nil {
		return db, err
	}
	out, err := ds.s.deps.Store.UpdateDatabase(ctx, db.ID, next.DatabaseSpec)
	if err != nil {
		return db, portInUse(err, next.ExternalPort)
	}
	return out, nil
}

// Delete removes the database's service (and its volume with
// deleteVolume), then its record with its backup policies (admins and
// above). Without Docker nothing is deleted (503): the service may run.
func (ds *Databases) Delete(ctx context.Context, p *store.Principal, db store.Database, deleteVolume bool) error {
	if err := Authorize(p, db.OrganizationID, store.RoleAdmin, "database"); err != nil {
		return err
	}
	ops, err := ds.s.dataOps()
	if err != nil {
		return err
	}
	if err := ops.Delete(ctx, db, deleteVolume); err != nil {
		return clusterFailed(err)
	}
	if err := ds.s.deps.Store.DeleteDatabase(ctx, db.ID); err != nil {
		return notFoundAs(err, "database")
	}
	return nil
}

// Apply sets the desired state (store.DatabaseRunning or
// store.DatabaseStopped; "" keeps it), deploys the database and waits
// until it converged (members and above). It returns the database as it
// is now.
func (ds *Databases) Apply(ctx context.Context, p *store.Principal, db store.Database, state string) (store.Database, error) {
	if err := Authorize(p, db.OrganizationID, store.RoleMember, "database"); err != nil {
		return db, err
	}
	switch state {
	case "", store.DatabaseRunning, store.DatabaseStopped:
	default:
		return db, problem.InvalidField("state", "%q is not running or stopped", state)
	}
	ops, err := ds.s.dataOps()
	if err != nil {
		return db, err
	}
	st := ds.s.deps.Store
	if state != "" && db.DesiredState != state {
		if err := st.SetDatabaseState(ctx, db.ID, state); err != nil {
			return db, notFoundAs(err, "database")
		}
		db.DesiredState = state
	}
	if err := ops.Deploy(ctx, db); err != nil {
		return db, clusterFailed(err)
	}
	out, err := st.GetDatabase(ctx, db.ID)
	return out, notFoundAs(err, "database")
}

// clusterFailed reports a Docker or plugin operation that failed as a 502
// with its message (problems and cancellations pass through).
func clusterFailed(err error) error {
	var pe *problem.Error
	if errors.As(err, &pe) || errors.Is(err, context.Canceled) {
		return err
	}
	return problem.Upstream("database_failed", err.Error(), err)
}

// notFoundAs maps the store's not-found to problem.Missing(what).
func notFoundAs(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return problem.Missing(what)
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
