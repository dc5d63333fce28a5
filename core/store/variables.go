package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Scope says which level a variable belongs to.
type Scope string

// Variable scopes.
const (
	ScopeProject     Scope = "project"
	ScopeEnvironment Scope = "environment"
	ScopeApplication Scope = "application"
)

func (s Scope) column() (string, error) {
	switch s {
	case ScopeProject:
		return "project_id", nil
	case ScopeEnvironment:
		return "environment_id", nil
	case ScopeApplication:
		return "application_id", nil
	}
	return "", fmt.Errorf("store: unknown variable scope %q", s)
}

// Variable is one environment variable; Value is decrypted on read.
type Variable struct {
	Key       string    `json:"key"`
	Value     string    `json:"value"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// valueContext binds a sealed value to its scope and key, so a ciphertext
// moved to another row does not decrypt.
func valueContext(scope Scope, owner uuid.UUID, key string) string {
	return "variable:" + string(scope) + ":" + owner.String() + ":" + key
}

// ListVariables returns every variable of one owner, sorted by key.
func (s *Store) ListVariables(ctx context.Context, scope Scope, owner uuid.UUID) ([]Variable, error) {
	col, err := scope.column()
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT key, value_enc, created_at, updated_at FROM variables WHERE `+col+` = $1 ORDER BY key`, owner)
	if err != nil {
		return nil, mapErr(err, "variables")
	}
	vars, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Variable, error) {
		var v Variable
		var enc []byte
		if err := r.Scan(&v.Key, &enc, &v.CreatedAt, &v.UpdatedAt); err != nil {
			return v, err
		}
		v.Value, err = s.box.OpenString(valueContext(scope, owner, v.Key), enc)
		if err != nil {
			return v, fmt.Errorf("variable %s: %w", v.Key, err)
		}
		return v, nil
	})
	return vars, mapErr(err, "variables")
}

// VariableMap returns one owner's variables as a map.
func (s *Store) VariableMap(ctx context.Context, scope Scope, owner uuid.UUID) (map[string]string, error) {
	vars, err := s.ListVariables(ctx, scope, owner)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(vars))
	for _, v := range vars {
		m[v.Key] = v.Value
	}
	return m, nil
}

// SetVariable creates or replaces one variable.
func (s *Store) SetVariable(ctx context.Context, scope Scope, owner uuid.UUID, key, value string) (Variable, error) {
	col, err := scope.column()
	if err != nil {
		return Variable{}, err
	}
	v := Variable{Key: key, Value: value}
	err = s.pool.QueryRow(ctx, `INSERT INTO variables (id, `+col+`, key, value_enc) VALUES ($1, $2, $3, $4)
		ON CONFLICT (`+col+`, key) WHERE `+col+` IS NOT NULL DO UPDATE SET value_enc = EXCLUDED.value_enc, updated_at = now()
		RETURNING created_at, updated_at`, newID(), owner, key, s.box.SealString(valueContext(scope, owner, key), value)).
		Scan(&v.CreatedAt, &v.UpdatedAt)
	return v, mapErr(err, "variable")
}

// ReplaceVariables sets an owner's variables to exactly vars, atomically.
func (s *Store) ReplaceVariables(ctx context.Context, scope Scope, owner uuid.UUID, vars map[string]string) error {
	col, err := scope.column()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM variables WHERE `+col+` = $1`, owner); err != nil {
			return err
		}
		for k, v := range vars {
			if _, err := tx.Exec(ctx, `INSERT INTO variables (id, `+col+`, key, value_enc) VALUES ($1, $2, $3, $4)`,
				newID(), owner, k, s.box.SealString(valueContext(scope, owner, k), v)); err != nil {
				return err
			}
		}
		return nil
	})
	return mapErr(err, "variables")
}

// DeleteVariable removes one variable.
func (s *Store) DeleteVariable(ctx context.Context, scope Scope, owner uuid.UUID, key string) error {
	col, err := scope.column()
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM variables WHERE `+col+` = $1 AND key = $2`, owner, key)
	if err != nil {
		return mapErr(err, "variable")
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("variable %s: %w", key, ErrNotFound)
	}
	return nil
}
