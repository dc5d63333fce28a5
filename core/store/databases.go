package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/berth-dev/berth/core/database"
)

// Database is a managed database service in an environment.
type Database struct {
	ID             uuid.UUID       `json:"id"`
	EnvironmentID  uuid.UUID       `json:"environment_id"`
	ProjectID      uuid.UUID       `json:"project_id"`
	OrganizationID uuid.UUID       `json:"organization_id"`
	Name           string          `json:"name"`
	Engine         database.Engine `json:"engine"`
	Version        string          `json:"version"`
	Image          string          `json:"image"`
	// ServiceName is the Swarm service and the internal hostname on the
	// environment's network.
	ServiceName string `json:"service_name"`
	VolumeName  string `json:"volume_name"`
	// Credentials are sealed at rest and never listed.
	Credentials   database.Credentials `json:"-"`
	ExternalPort  int                  `json:"external_port"`
	CPULimit      float64              `json:"cpu_limit"`
	MemoryLimitMB int                  `json:"memory_limit_mb"`
	// DesiredState is running or stopped.
	DesiredState string    `json:"desired_state"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Desired states of a database.
const (
	DatabaseRunning = "running"
	DatabaseStopped = "stopped"
)

// DatabaseSpec holds the user-settable fields of a database.
type DatabaseSpec struct {
	Name          string
	Engine        database.Engine
	Version       string
	Image         string
	ExternalPort  int
	CPULimit      float64
	MemoryLimitMB int
}

// Spec returns the user-settable fields of d.
func (d Database) Spec() DatabaseSpec {
	return DatabaseSpec{Name: d.Name, Engine: d.Engine, Version: d.Version, Image: d.Image,
		ExternalPort: d.ExternalPort, CPULimit: d.CPULimit, MemoryLimitMB: d.MemoryLimitMB}
}

// databaseCredentialsContext binds sealed credentials to their column.
const databaseCredentialsContext = "database:credentials"

const dbCols = `d.id, d.environment_id, e.project_id, p.organization_id, d.name, d.engine, d.version, d.image,
	d.service_name, d.volume_name, d.credentials_enc, d.external_port, d.cpu_limit, d.memory_limit_mb, d.desired_state,
	d.created_at, d.updated_at`
const dbFrom = ` FROM databases d JOIN environments e ON e.id = d.environment_id JOIN projects p ON p.id = e.project_id `

func (s *Store) scanDatabase(r pgx.Row) (Database, error) {
	var d Database
	var sealed []byte
	err := r.Scan(&d.ID, &d.EnvironmentID, &d.ProjectID, &d.OrganizationID, &d.Name, &d.Engine, &d.Version, &d.Image,
		&d.ServiceName, &d.VolumeName, &sealed, &d.ExternalPort, &d.CPULimit, &d.MemoryLimitMB, &d.DesiredState,
		&d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		return d, err
	}
	data, err := s.box.Open(databaseCredentialsContext, sealed)
	if err != nil {
		return d, fmt.Errorf("database credentials: %w", err)
	}
	if err := json.Unmarshal(data, &d.Credentials); err != nil {
		return d, fmt.Errorf("database credentials: %w", err)
	}
	return d, nil
}

// CreateDatabase adds a database to an environment with the given
// credentials (sealed at rest). Its service and volume names derive from its
// name and id.
func (s *Store) CreateDatabase(ctx context.Context, env uuid.UUID, in DatabaseSpec, creds database.Credentials) (Database, error) {
	id := newID()
	data, err := json.Marshal(creds)
	if err != nil {
		return Database{}, err
	}
	service := ServiceName(in.Name, id)
	_, err = s.pool.Exec(ctx, `INSERT INTO databases (id, environment_id, name, engine, version, image, service_name,
		volume_name, credentials_enc, external_port, cpu_limit, memory_limit_mb)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		id, env, in.Name, in.Engine, in.Version, in.Image, service, service+"-data",
		s.box.Seal(databaseCredentialsContext, data), in.ExternalPort, in.CPULimit, in.MemoryLimitMB)
	if err != nil {
		return Database{}, mapErr(err, "database")
	}
	return s.GetDatabase(ctx, id)
}

// GetDatabase returns one database.
func (s *Store) GetDatabase(ctx context.Context, id uuid.UUID) (Database, error) {
	d, err := s.scanDatabase(s.pool.QueryRow(ctx, `SELECT `+dbCols+dbFrom+`WHERE d.id = $1`, id))
	return d, mapErr(err, "database")
}

// DatabaseFilter narrows ListDatabases; zero fields match everything within
// Orgs.
type DatabaseFilter struct {
	Orgs        []uuid.UUID
	Project     uuid.UUID
	Environment uuid.UUID
}

// ListDatabases returns databases visible in the filter's organizations.
func (s *Store) ListDatabases(ctx context.Context, f DatabaseFilter, p Page) ([]Database, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+dbCols+dbFrom+`
		WHERE p.organization_id = ANY($1) AND ($2 = '00000000-0000-0000-0000-000000000000'::uuid OR e.project_id = $2)
		AND ($3 = '00000000-0000-0000-0000-000000000000'::uuid OR d.environment_id = $3)
		AND d.id > $4 ORDER BY d.id LIMIT $5`, s.scanDatabase, f.Orgs, f.Project, f.Environment)
	return items, more, mapErr(err, "databases")
}

// UpdateDatabase replaces a database's settings (name and engine excluded:
// they are fixed at creation).
func (s *Store) UpdateDatabase(ctx context.Context, id uuid.UUID, in DatabaseSpec) (Database, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE databases SET version = $2, image = $3, external_port = $4, cpu_limit = $5,
		memory_limit_mb = $6, updated_at = now() WHERE id = $1`,
		id, in.Version, in.Image, in.ExternalPort, in.CPULimit, in.MemoryLimitMB)
	if err != nil {
		return Database{}, mapErr(err, "database")
	}
	if tag.RowsAffected() == 0 {
		return Database{}, mapErr(pgx.ErrNoRows, "database")
	}
	return s.GetDatabase(ctx, id)
}

// SetDatabaseState records the desired state (running or stopped).
func (s *Store) SetDatabaseState(ctx context.Context, id uuid.UUID, state string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE databases SET desired_state = $2, updated_at = now() WHERE id = $1`, id, state)
	if err != nil {
		return mapErr(err, "database")
	}
	if tag.RowsAffected() == 0 {
		return mapErr(pgx.ErrNoRows, "database")
	}
	return nil
}

// DeleteDatabase deletes a database row with its backup policies; its
// backups' records stay, detached.
func (s *Store) DeleteDatabase(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "databases", id, "database")
}

// StoppedDatabases returns every database whose desired state is stopped,
// for start-up reconciliation (a backup may have started one and died).
func (s *Store) StoppedDatabases(ctx context.Context) ([]Database, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+dbCols+dbFrom+` WHERE d.desired_state = $1 ORDER BY d.id`, DatabaseStopped)
	if err != nil {
		return nil, mapErr(err, "databases")
	}
	dbs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Database, error) { return s.scanDatabase(r) })
	return dbs, mapErr(err, "databases")
}
