package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// updateUserSQL changes the fields of a UserUpdate ($2-$4) of user $1.
const updateUserSQL = `UPDATE users SET
	name = coalesce($2, name), email = coalesce(lower($3), email), password_hash = coalesce($4, password_hash), updated_at = now()
	WHERE id = $1 RETURNING ` + userCols

// Revocation says which of a user's credentials a change of password ends.
type Revocation struct {
	// KeepSession is the session that made the change, which stays signed
	// in; every other session of the user ends (uuid.Nil: all of them).
	KeepSession uuid.UUID
	// APIKeys also deletes the user's API keys, except KeepAPIKey (the key
	// that made the change, if one did).
	APIKeys    bool
	KeepAPIKey uuid.UUID
}

// Revoked counts the credentials a change ended.
type Revoked struct {
	Sessions int64 `json:"sessions"`
	APIKeys  int64 `json:"api_keys"`
}

// UpdateUserRevoking is UpdateUser that, in the same transaction, ends the
// user's credentials as rv says: what a change of password does, so a
// stolen session (or key) does not outlive the password it came from.
func (s *Store) UpdateUserRevoking(ctx context.Context, id uuid.UUID, in UserUpdate, rv Revocation) (User, Revoked, error) {
	var u User
	var out Revoked
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, updateUserSQL, id, in.Name, in.Email, in.PasswordHash))
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, id, rv.KeepSession)
		if err != nil {
			return err
		}
		out.Sessions = tag.RowsAffected()
		if rv.APIKeys {
			tag, err := tx.Exec(ctx, `DELETE FROM api_keys WHERE user_id = $1 AND id <> $2`, id, rv.KeepAPIKey)
			if err != nil {
				return err
			}
			out.APIKeys = tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return User{}, Revoked{}, mapErr(err, "user")
	}
	return u, out, nil
}
