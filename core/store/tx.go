package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Tx is the store bound to one PostgreSQL transaction: every repository
// method called on it runs in that transaction (a method that opens its own
// transaction gets a savepoint), so a record and the durable job that acts
// on it (River's InsertTx with Pgx) commit together or not at all.
type Tx struct {
	*Store
	tx pgx.Tx
}

// Pgx returns the underlying transaction, for River's InsertTx.
func (t *Tx) Pgx() pgx.Tx { return t.tx }

// WithTx runs fn in one transaction and commits it when fn returns nil; an
// error (or a panic) rolls everything fn wrote back. Called on a Tx, it
// nests as a savepoint.
func (s *Store) WithTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if err := fn(&Tx{Store: &Store{pool: tx, root: s.root, box: s.box}, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Bound returns the store running its queries in tx, a transaction the
// caller owns (commits or rolls back), e.g. one handed over by a package
// that writes with pgx directly.
func (s *Store) Bound(tx pgx.Tx) *Store { return &Store{pool: tx, root: s.root, box: s.box} }
