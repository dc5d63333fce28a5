package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
)

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

func (s *Server) listDatabases(c *fiber.Ctx) (List[store.Database], error) {
	pg, err := pageParams(c)
	if err != nil {
		return List[store.Database]{}, err
	}
	f := store.DatabaseFilter{Orgs: orgIDs(principal(c))}
	if f.Project, err = queryID(c, "project_id"); err != nil {
		return List[store.Database]{}, err
	}
	if f.Environment, err = queryID(c, "environment_id"); err != nil {
		return List[store.Database]{}, err
	}
	dbs, more, err := s.store.ListDatabases(c.UserContext(), f, pg)
	return listOf(dbs, more, func(d store.Database) uuid.UUID { return d.ID }), err
}

func (s *Server) createDatabase(c *fiber.Ctx, req DatabaseRequest) (store.Database, error) {
	in := service.DatabaseInput{}
	in.Name, in.Engine, in.Version, in.Image = deref(req.Name), database.Engine(deref(req.Engine)), deref(req.Version), deref(req.Image)
	if req.ExternalPort != nil {
		in.ExternalPort = *req.ExternalPort
	}
	if req.CPULimit != nil {
		in.CPULimit = *req.CPULimit
	}
	if req.MemoryLimitMB != nil {
		in.MemoryLimitMB = *req.MemoryLimitMB
	}
	return s.svc.Databases.Create(c.UserContext(), principal(c), resolved(c).Environment, in)
}

// deref is *v, or "" for nil.
func deref(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

func (s *Server) getDatabase(c *fiber.Ctx) (store.Database, error) { return resolved(c).Database, nil }

func (s *Server) updateDatabase(c *fiber.Ctx, req DatabaseRequest) (store.Database, error) {
	return s.svc.Databases.Update(c.UserContext(), principal(c), resolved(c).Database, service.DatabaseChange{
		Name: req.Name, Engine: req.Engine, Version: req.Version, Image: req.Image, ExternalPort: req.ExternalPort,
		CPULimit: req.CPULimit, MemoryLimitMB: req.MemoryLimitMB})
}

func (s *Server) deleteDatabase(c *fiber.Ctx) (NoContent, error) {
	deleteVolume, err := queryBool(c, "delete_volume")
	if err != nil {
		return NoContent{}, err
	}
	return NoContent{}, s.svc.Databases.Delete(c.UserContext(), principal(c), resolved(c).Database, deleteVolume)
}

// databaseAction sets the desired state (when state is set), deploys and
// answers the database as it is now.
func (s *Server) databaseAction(state string) func(c *fiber.Ctx) (store.Database, error) {
	return func(c *fiber.Ctx) (store.Database, error) {
		return s.svc.Databases.Apply(c.UserContext(), principal(c), resolved(c).Database, state)
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

func (s *Server) databaseConnection(c *fiber.Ctx) (ConnectionInfo, error) {
	d := resolved(c).Database // members and above: credentials, like variable values, are not for viewers
	eng, ok := database.Lookup(d.Engine)
	if !ok {
		return ConnectionInfo{}, invalid("engine", "%q is not a known engine", d.Engine)
	}
	return ConnectionInfo{Host: d.ServiceName, Port: eng.Port, User: d.Credentials.User,
		Password: d.Credentials.Password, Database: d.Credentials.Database,
		URL: eng.URL(d.Credentials, d.ServiceName, eng.Port), ExternalPort: d.ExternalPort}, nil
}
