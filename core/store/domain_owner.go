package store

import (
	"context"

	"github.com/google/uuid"
)

// DomainApplication returns the application serving host (compared
// case-insensitively; the oldest domain record wins), or ErrNotFound.
func (s *Store) DomainApplication(ctx context.Context, host string) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT application_id FROM domains WHERE lower(host) = lower($1) ORDER BY id LIMIT 1`, host).Scan(&id)
	return id, mapErr(err, "domain")
}
