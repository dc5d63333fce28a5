package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// snapshotContext binds a sealed release snapshot to its deployment, so a
// ciphertext copied to another row does not open.
func snapshotContext(id uuid.UUID) string { return "deployment:snapshot:" + id.String() }

// SetDeploymentSnapshot records the release snapshot of deployment id (the
// encoded core/snapshot.Snapshot), sealed at rest; a later call replaces it.
func (s *Store) SetDeploymentSnapshot(ctx context.Context, id uuid.UUID, snapshot []byte) error {
	tag, err := s.pool.Exec(ctx, `UPDATE deployments SET snapshot_enc = $2 WHERE id = $1`,
		id, s.box.Seal(snapshotContext(id), snapshot))
	if err != nil {
		return mapErr(err, "deployment")
	}
	if tag.RowsAffected() == 0 {
		return mapErr(pgx.ErrNoRows, "deployment")
	}
	return nil
}

// DeploymentSnapshot returns the opened release snapshot of deployment
// id; ok is false when the deployment recorded none (it was made before
// berth recorded snapshots, or never reached its release step). A missing
// deployment is ErrNotFound.
func (s *Store) DeploymentSnapshot(ctx context.Context, id uuid.UUID) (snapshot []byte, ok bool, err error) {
	var sealed []byte
	if err := s.pool.QueryRow(ctx, `SELECT snapshot_enc FROM deployments WHERE id = $1`, id).Scan(&sealed); err != nil {
		return nil, false, mapErr(err, "deployment")
	}
	if sealed == nil {
		return nil, false, nil
	}
	data, err := s.box.Open(snapshotContext(id), sealed)
	if err != nil {
		return nil, false, fmt.Errorf("deployment %s snapshot: %w", id, err)
	}
	return data, true, nil
}

// PreviousRelease returns the newest successful release of d's
// application older than d (the one d replaced); ok is false when there
// is none.
func (s *Store) PreviousRelease(ctx context.Context, d Deployment) (prev Deployment, ok bool, err error) {
	prev, err = scanDeployment(s.pool.QueryRow(ctx, `SELECT `+deployCols+deployFrom+`WHERE d.application_id = $1
		AND d.status = 'succeeded' AND d.image <> '' AND d.id < $2 ORDER BY d.id DESC LIMIT 1`, d.ApplicationID, d.ID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Deployment{}, false, nil
	}
	if err != nil {
		return Deployment{}, false, mapErr(err, "deployment")
	}
	return prev, true, nil
}
