package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Maintenance is an application's maintenance mode.
type Maintenance struct {
	// Enabled routes every domain of the application to the page server.
	Enabled bool
	// Page is the HTML answered; empty means the default page.
	Page string
	// RetryAfter is the Retry-After in seconds.
	RetryAfter int
	// Service is the Swarm service of the page server the routes point at
	// while Enabled; empty otherwise.
	Service string
}

// GetMaintenance returns an application's maintenance mode.
func (s *Store) GetMaintenance(ctx context.Context, app uuid.UUID) (Maintenance, error) {
	var m Maintenance
	err := s.pool.QueryRow(ctx, `SELECT maintenance_enabled, maintenance_page, maintenance_retry_after, maintenance_service
		FROM applications WHERE id = $1`, app).Scan(&m.Enabled, &m.Page, &m.RetryAfter, &m.Service)
	return m, mapErr(err, "application")
}

// SetMaintenance replaces an application's maintenance mode.
func (s *Store) SetMaintenance(ctx context.Context, app uuid.UUID, m Maintenance) error {
	tag, err := s.pool.Exec(ctx, `UPDATE applications SET maintenance_enabled = $2, maintenance_page = $3,
		maintenance_retry_after = $4, maintenance_service = $5, updated_at = now() WHERE id = $1`,
		app, m.Enabled, m.Page, m.RetryAfter, m.Service)
	if err != nil {
		return mapErr(err, "application")
	}
	if tag.RowsAffected() == 0 {
		return mapErr(pgx.ErrNoRows, "application")
	}
	return nil
}

// CountInMaintenance returns how many applications are in maintenance mode.
func (s *Store) CountInMaintenance(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM applications WHERE maintenance_enabled`).Scan(&n)
	return n, mapErr(err, "applications")
}

// LockMaintenance takes a transaction-scoped advisory lock that orders
// entering maintenance (which starts the page server before writing) and
// removing the page server once no application uses it. Call it on a Tx.
func (s *Store) LockMaintenance(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('berth.maintenance'))`)
	return mapErr(err, "maintenance lock")
}
