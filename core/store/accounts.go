package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Role is a user's role in an organization, from most to least powerful.
type Role string

// Roles. Owners and admins manage members and keys; members change and deploy
// projects; viewers only read.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// Rank orders roles: a higher rank includes every lower one.
func (r Role) Rank() int {
	switch r {
	case RoleOwner:
		return 4
	case RoleAdmin:
		return 3
	case RoleMember:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// Organization owns projects and has members.
type Organization struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// User is a person who signs in to berth.
type User struct {
	ID           uuid.UUID `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	PasswordHash string    `json:"-"`
	// InstanceAdmin marks an administrator of the whole berth instance: the
	// only users who may use host-level powers (see docs/security.md).
	InstanceAdmin bool      `json:"instance_admin"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Membership ties a user to an organization with a role.
type Membership struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	UserID         uuid.UUID `json:"user_id"`
	Role           Role      `json:"role"`
	CreatedAt      time.Time `json:"created_at"`
}

// Principal is an authenticated user with the roles they hold.
type Principal struct {
	User  User
	Roles map[uuid.UUID]Role
	// APIKeyID is set when the request authenticated with an API key.
	APIKeyID uuid.UUID
	// SessionID is set when the request authenticated with a browser session.
	SessionID uuid.UUID
}

// HashToken returns the digest under which API keys and session tokens are
// stored; the tokens themselves are never written to the database.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// CountUsers returns how many users exist (0 means setup has not run).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, mapErr(err, "count users")
}

// SetupInput describes the first administrator and their organization.
type SetupInput struct {
	Email, Name, PasswordHash, Organization string
}

// ErrAlreadySetUp is returned by Setup once any user exists.
var ErrAlreadySetUp = fmt.Errorf("berth is already set up")

// Setup creates the first organization and its owner atomically. It fails
// with ErrAlreadySetUp when a user exists, even under concurrent calls.
func (s *Store) Setup(ctx context.Context, in SetupInput) (User, Organization, error) {
	var u User
	var o Organization
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE users IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrAlreadySetUp
		}
		var err error
		if o, err = createOrganization(ctx, tx, in.Organization); err != nil {
			return err
		}
		if u, err = createUser(ctx, tx, in.Email, in.Name, in.PasswordHash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET instance_admin = true WHERE id = $1`, u.ID); err != nil {
			return err
		}
		u.InstanceAdmin = true
		return addMember(ctx, tx, o.ID, u.ID, RoleOwner)
	})
	if err == ErrAlreadySetUp {
		return User{}, Organization{}, err
	}
	return u, o, mapErr(err, "setup")
}

func createOrganization(ctx context.Context, q querier, name string) (Organization, error) {
	o := Organization{ID: newID(), Name: name}
	err := q.QueryRow(ctx, `INSERT INTO organizations (id, name) VALUES ($1, $2) RETURNING created_at, updated_at`,
		o.ID, o.Name).Scan(&o.CreatedAt, &o.UpdatedAt)
	return o, err
}

func createUser(ctx context.Context, q querier, email, name, hash string) (User, error) {
	u := User{ID: newID(), Email: strings.ToLower(email), Name: name, PasswordHash: hash}
	err := q.QueryRow(ctx, `INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)
		RETURNING created_at, updated_at`, u.ID, u.Email, u.Name, u.PasswordHash).Scan(&u.CreatedAt, &u.UpdatedAt)
	return u, err
}

func addMember(ctx context.Context, q querier, org, user uuid.UUID, role Role) error {
	_, err := q.Exec(ctx, `INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, $3)
		ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role`, org, user, role)
	return err
}

// CreateOrganization creates an organization owned by owner.
func (s *Store) CreateOrganization(ctx context.Context, name string, owner uuid.UUID) (Organization, error) {
	var o Organization
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if o, err = createOrganization(ctx, tx, name); err != nil {
			return err
		}
		return addMember(ctx, tx, o.ID, owner, RoleOwner)
	})
	return o, mapErr(err, "organization")
}

const orgCols = `id, name, created_at, updated_at`

func scanOrg(r pgx.Row) (Organization, error) {
	var o Organization
	err := r.Scan(&o.ID, &o.Name, &o.CreatedAt, &o.UpdatedAt)
	return o, err
}

// GetOrganization returns one organization.
func (s *Store) GetOrganization(ctx context.Context, id uuid.UUID) (Organization, error) {
	o, err := scanOrg(s.pool.QueryRow(ctx, `SELECT `+orgCols+` FROM organizations WHERE id = $1`, id))
	return o, mapErr(err, "organization")
}

// ListOrganizations returns the organizations a user belongs to.
func (s *Store) ListOrganizations(ctx context.Context, user uuid.UUID, p Page) ([]Organization, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+orgCols+` FROM organizations
		WHERE id IN (SELECT organization_id FROM memberships WHERE user_id = $1) AND id > $2 ORDER BY id LIMIT $3`,
		scanOrg, user)
	return items, more, mapErr(err, "organizations")
}

// RenameOrganization changes an organization's name.
func (s *Store) RenameOrganization(ctx context.Context, id uuid.UUID, name string) (Organization, error) {
	o, err := scanOrg(s.pool.QueryRow(ctx, `UPDATE organizations SET name = $2, updated_at = now() WHERE id = $1
		RETURNING `+orgCols, id, name))
	return o, mapErr(err, "organization")
}

// DeleteOrganization deletes an organization and everything it owns.
func (s *Store) DeleteOrganization(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "organizations", id, "organization")
}

// deleteByID deletes one row and reports ErrNotFound when there was none.
func deleteByID(ctx context.Context, q querier, table string, id uuid.UUID, what string) error {
	tag, err := q.Exec(ctx, `DELETE FROM `+table+` WHERE id = $1`, id)
	if err != nil {
		return mapErr(err, what)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

const userCols = `id, email, name, password_hash, instance_admin, created_at, updated_at`

func scanUser(r pgx.Row) (User, error) {
	var u User
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.InstanceAdmin, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

// CreateUser creates a user and makes them a member of org with role.
func (s *Store) CreateUser(ctx context.Context, org uuid.UUID, email, name, passwordHash string, role Role) (User, error) {
	var u User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if u, err = createUser(ctx, tx, email, name, passwordHash); err != nil {
			return err
		}
		return addMember(ctx, tx, org, u.ID, role)
	})
	return u, mapErr(err, "user")
}

// GetUser returns one user.
func (s *Store) GetUser(ctx context.Context, id uuid.UUID) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	return u, mapErr(err, "user")
}

// GetUserByEmail returns the user with that email (case-insensitive).
func (s *Store) GetUserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE lower(email) = lower($1)`, email))
	return u, mapErr(err, "user")
}

// OrgMember is a user with their role in one organization.
type OrgMember struct {
	User
	Role Role `json:"role"`
}

// ListMembers returns the users of an organization with their roles.
func (s *Store) ListMembers(ctx context.Context, org uuid.UUID, p Page) ([]OrgMember, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT u.id, u.email, u.name, u.password_hash, u.instance_admin, u.created_at, u.updated_at, m.role
		FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.organization_id = $1 AND u.id > $2 ORDER BY u.id LIMIT $3`,
		func(r pgx.Row) (OrgMember, error) {
			var m OrgMember
			err := r.Scan(&m.ID, &m.Email, &m.Name, &m.PasswordHash, &m.InstanceAdmin, &m.CreatedAt, &m.UpdatedAt, &m.Role)
			return m, err
		}, org)
	return items, more, mapErr(err, "members")
}

// UserUpdate holds the user fields to change; nil leaves a field alone.
type UserUpdate struct {
	Name         *string
	Email        *string
	PasswordHash *string
}

// UpdateUser changes a user's profile or password.
func (s *Store) UpdateUser(ctx context.Context, id uuid.UUID, in UserUpdate) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, updateUserSQL, id, in.Name, in.Email, in.PasswordHash))
	return u, mapErr(err, "user")
}

// SetRole sets a user's role in an organization.
func (s *Store) SetRole(ctx context.Context, org, user uuid.UUID, role Role) error {
	return mapErr(addMember(ctx, s.pool, org, user, role), "membership")
}

// DeleteUser deletes a user with their keys and sessions.
func (s *Store) DeleteUser(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "users", id, "user")
}

// CountOwners returns how many owners an organization has, so the last one
// cannot be removed.
func (s *Store) CountOwners(ctx context.Context, org uuid.UUID) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM memberships WHERE organization_id = $1 AND role = 'owner'`, org).Scan(&n)
	return n, mapErr(err, "memberships")
}

// rolesOf loads a user's memberships.
func (s *Store) rolesOf(ctx context.Context, user uuid.UUID) (map[uuid.UUID]Role, error) {
	rows, err := s.pool.Query(ctx, `SELECT organization_id, role FROM memberships WHERE user_id = $1`, user)
	if err != nil {
		return nil, err
	}
	roles := map[uuid.UUID]Role{}
	var org uuid.UUID
	var role Role
	_, err = pgx.ForEachRow(rows, []any{&org, &role}, func() error {
		roles[org] = role
		return nil
	})
	return roles, err
}

// APIKey is a long-lived bearer credential of a user. The token is shown
// once at creation; only its hash is stored.
type APIKey struct {
	ID         uuid.UUID  `json:"id"`
	UserID     uuid.UUID  `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
}

const apiKeyCols = `id, user_id, name, prefix, created_at, last_used_at, expires_at`

func scanAPIKey(r pgx.Row) (APIKey, error) {
	var k APIKey
	err := r.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.CreatedAt, &k.LastUsedAt, &k.ExpiresAt)
	return k, err
}

// CreateAPIKey stores a new key for user; token is the secret shown once.
func (s *Store) CreateAPIKey(ctx context.Context, user uuid.UUID, name, token string, expires *time.Time) (APIKey, error) {
	prefix := token
	if len(prefix) > 12 {
		prefix = prefix[:12]
	}
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `INSERT INTO api_keys (id, user_id, name, prefix, token_hash, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+apiKeyCols, newID(), user, name, prefix, HashToken(token), expires))
	return k, mapErr(err, "api key")
}

// ListAPIKeys returns a user's keys.
func (s *Store) ListAPIKeys(ctx context.Context, user uuid.UUID, p Page) ([]APIKey, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+apiKeyCols+` FROM api_keys
		WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3`, scanAPIKey, user)
	return items, more, mapErr(err, "api keys")
}

// DeleteAPIKey revokes one of user's keys.
func (s *Store) DeleteAPIKey(ctx context.Context, user, id uuid.UUID) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_keys WHERE id = $1 AND user_id = $2`, id, user)
	if err != nil {
		return mapErr(err, "api key")
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("api key: %w", ErrNotFound)
	}
	return nil
}

// AuthenticateAPIKey returns the principal owning a valid, unexpired key.
func (s *Store) AuthenticateAPIKey(ctx context.Context, token string) (Principal, error) {
	var p Principal
	var lastUsed *time.Time
	err := s.pool.QueryRow(ctx, `SELECT k.id, k.last_used_at, u.id, u.email, u.name, u.password_hash, u.instance_admin, u.created_at, u.updated_at
		FROM api_keys k JOIN users u ON u.id = k.user_id
		WHERE k.token_hash = $1 AND (k.expires_at IS NULL OR k.expires_at > now())`, HashToken(token)).
		Scan(&p.APIKeyID, &lastUsed, &p.User.ID, &p.User.Email, &p.User.Name, &p.User.PasswordHash, &p.User.InstanceAdmin, &p.User.CreatedAt, &p.User.UpdatedAt)
	if err != nil {
		return Principal{}, mapErr(err, "api key")
	}
	if lastUsed == nil || time.Since(*lastUsed) > time.Minute { // bounded write amplification
		if _, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = now() WHERE id = $1`, p.APIKeyID); err != nil {
			return Principal{}, mapErr(err, "api key")
		}
	}
	if p.Roles, err = s.rolesOf(ctx, p.User.ID); err != nil {
		return Principal{}, mapErr(err, "memberships")
	}
	return p, nil
}

// CreateSession stores a browser session for user; token is the cookie value.
func (s *Store) CreateSession(ctx context.Context, user uuid.UUID, token string, ttl time.Duration) (uuid.UUID, error) {
	id := newID()
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
		id, user, HashToken(token), time.Now().Add(ttl))
	return id, mapErr(err, "session")
}

// AuthenticateSession returns the principal of a valid session token.
func (s *Store) AuthenticateSession(ctx context.Context, token string) (Principal, error) {
	var p Principal
	err := s.pool.QueryRow(ctx, `SELECT s.id, u.id, u.email, u.name, u.password_hash, u.instance_admin, u.created_at, u.updated_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > now()`, HashToken(token)).
		Scan(&p.SessionID, &p.User.ID, &p.User.Email, &p.User.Name, &p.User.PasswordHash, &p.User.InstanceAdmin, &p.User.CreatedAt, &p.User.UpdatedAt)
	if err != nil {
		return Principal{}, mapErr(err, "session")
	}
	if p.Roles, err = s.rolesOf(ctx, p.User.ID); err != nil {
		return Principal{}, mapErr(err, "memberships")
	}
	return p, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "sessions", id, "session")
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= now()`)
	return tag.RowsAffected(), mapErr(err, "sessions")
}

// GetMember returns a user with their role in org.
func (s *Store) GetMember(ctx context.Context, org, user uuid.UUID) (OrgMember, error) {
	var m OrgMember
	err := s.pool.QueryRow(ctx, `SELECT u.id, u.email, u.name, u.password_hash, u.instance_admin, u.created_at, u.updated_at, m.role
		FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.organization_id = $1 AND u.id = $2`, org, user).
		Scan(&m.ID, &m.Email, &m.Name, &m.PasswordHash, &m.InstanceAdmin, &m.CreatedAt, &m.UpdatedAt, &m.Role)
	return m, mapErr(err, "member")
}

// RemoveMember removes a user from an organization; a user left without any
// organization is deleted with their keys and sessions.
func (s *Store) RemoveMember(ctx context.Context, org, user uuid.UUID) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2`, org, user)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		_, err = tx.Exec(ctx, `DELETE FROM users WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = $1)`, user)
		return err
	})
	return mapErr(err, "member")
}

// CountProjects returns how many projects an organization owns.
func (s *Store) CountProjects(ctx context.Context, org uuid.UUID) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM projects WHERE organization_id = $1`, org).Scan(&n)
	return n, mapErr(err, "projects")
}

// CountEnvironments returns how many environments a project has.
func (s *Store) CountEnvironments(ctx context.Context, project uuid.UUID) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM environments WHERE project_id = $1`, project).Scan(&n)
	return n, mapErr(err, "environments")
}
