// Package store keeps berth's state in PostgreSQL through pgx.
//
// One file per aggregate holds its model and queries. Secrets (variable
// values, private keys) are sealed with secrets.Box before they are written
// and never stored in plaintext. Errors are typed (ErrNotFound, *ConflictError)
// so the API layer can map them to HTTP statuses.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/secrets"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a row does not exist (or is not visible).
var ErrNotFound = errors.New("not found")

// ConflictError reports a unique constraint violation on a named field.
type ConflictError struct {
	// Field is the API field that must be unique, e.g. "name" or "host".
	Field string
	// Message explains the conflict.
	Message string
}

// Error returns the message.
func (e *ConflictError) Error() string { return e.Message }

// Store is the PostgreSQL-backed repository of every aggregate.
type Store struct {
	// pool runs the queries: the connection pool, or one transaction in a
	// Store bound by WithTx.
	pool dbtx
	// root is the connection pool itself.
	root *pgxpool.Pool
	box  *secrets.Box
}

// dbtx is satisfied by the pool and by transactions (where Begin makes a
// savepoint), so every repository method runs unchanged inside WithTx.
type dbtx interface {
	querier
	Begin(ctx context.Context) (pgx.Tx, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// Open connects to PostgreSQL at url. The pool is deliberately small: berth's
// control plane issues short queries and must idle in little memory.
func Open(ctx context.Context, url string, box *secrets.Box) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 8
	}
	cfg.MinConns = 1
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = time.Minute
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: ping database: %w", err)
	}
	return &Store{pool: pool, root: pool, box: box}, nil
}

// Close releases every connection.
func (s *Store) Close() { s.root.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.root.Ping(ctx) }

// Pool exposes the connection pool to packages that share the database
// (the job queue).
func (s *Store) Pool() *pgxpool.Pool { return s.root }

// Page selects a slice of a list ordered by id (ids are UUIDv7, so this is
// creation order). After is the last id of the previous page.
type Page struct {
	Limit int
	After uuid.UUID
}

// DefaultPageSize and MaxPageSize bound list queries.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

func (p Page) limit() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageSize
	case p.Limit > MaxPageSize:
		return MaxPageSize
	}
	return p.Limit
}

// newID returns a time-ordered UUIDv7.
func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// collectPage runs a list query whose last two parameters are after and
// limit+1, and reports whether more rows exist.
func collectPage[T any](ctx context.Context, q querier, p Page, sql string, scan func(pgx.Row) (T, error), args ...any) ([]T, bool, error) {
	lim := p.limit()
	args = append(args, p.After, lim+1)
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, false, err
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if err != nil {
		return nil, false, err
	}
	more := len(items) > lim
	if more {
		items = items[:lim]
	}
	return items, more, nil
}

// querier is satisfied by the pool and by transactions.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// mapErr turns pgx errors into the store's typed errors.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			if field, ok := uniqueFields[pgErr.ConstraintName]; ok {
				return &ConflictError{Field: field, Message: fmt.Sprintf("%s: %s already exists", field, what)}
			}
			return &ConflictError{Field: "", Message: what + " already exists"}
		case "23503": // foreign_key_violation
			return fmt.Errorf("%s: a referenced record does not exist: %w", what, ErrNotFound)
		case "22P02": // invalid_text_representation (bad uuid)
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// uniqueFields maps unique constraints to the API field they guard.
var uniqueFields = map[string]string{
	"users_email_key":                                "email",
	"projects_organization_id_name_key":              "name",
	"environments_project_id_name_key":               "name",
	"applications_environment_id_name_key":           "name",
	"applications_service_name_key":                  "name",
	"domains_host_path_prefix_key":                   "host",
	"variables_project_key":                          "key",
	"variables_environment_key":                      "key",
	"variables_application_key":                      "key",
	"git_connections_organization_id_name_key":       "name",
	"applications_webhook_id_key":                    "webhook_id",
	"applications_preview_key":                       "preview_number",
	"databases_environment_id_name_key":              "name",
	"databases_service_name_key":                     "name",
	"databases_external_port_key":                    "external_port",
	"backup_destinations_organization_id_name_key":   "name",
	"notification_channels_organization_id_name_key": "name",
}
