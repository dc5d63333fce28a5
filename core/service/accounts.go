package service

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/validate"
	"github.com/google/uuid"
)

// Accounts sets berth up, signs people in and out, changes their own
// profile and password and manages their API keys. Throttling password
// guesses and setting cookies stay with the front doors: each calls its
// throttle's Begin before an operation that checks a password and treats
// ErrBadCredentials and ErrWrongPassword as the failed guess.
type Accounts struct{ s *Services }

// ErrAlreadySetUp refuses setup once a user exists.
var ErrAlreadySetUp = &problem.Error{Kind: problem.Conflict, Message: "berth is already set up; sign in instead", Err: store.ErrAlreadySetUp}

// ErrBadCredentials is a sign-in with an unknown email or a wrong password.
var ErrBadCredentials = &problem.Error{Kind: problem.Unauthenticated, Code: "invalid_credentials", Message: "email or password is wrong"}

// ErrWrongPassword is a password change whose current password is wrong.
var ErrWrongPassword = problem.InvalidField("current_password", "is wrong")

// Setup is the input of Accounts.Setup: the first administrator and their
// organization.
type Setup struct {
	Email, Name, Password string
	// Organization defaults to "Default".
	Organization string
}

// Validate checks the fields of the first administrator.
func (in Setup) Validate() error {
	return validate.First(validate.Email("email", in.Email), validate.Text("name", in.Name, 1, 100),
		validate.Text("organization", in.organization(), 1, 100), Password("password", in.Password))
}

func (in Setup) organization() string {
	if strings.TrimSpace(in.Organization) == "" {
		return "Default"
	}
	return in.Organization
}

// Setup creates the first user, an instance administrator owning the
// first organization. The front door has checked the one-time setup token;
// once any user exists this is ErrAlreadySetUp.
func (as *Accounts) Setup(ctx context.Context, in Setup) (store.User, error) {
	if err := in.Validate(); err != nil {
		return store.User{}, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return store.User{}, err
	}
	u, _, err := as.s.deps.Store.Setup(ctx, store.SetupInput{Email: in.Email, Name: strings.TrimSpace(in.Name),
		PasswordHash: hash, Organization: strings.TrimSpace(in.organization())})
	if errors.Is(err, store.ErrAlreadySetUp) {
		return u, ErrAlreadySetUp
	}
	return u, err
}

// Credentials are what a person signs in with.
type Credentials struct {
	Email, Password string
}

// Validate checks both are given.
func (in Credentials) Validate() error {
	if in.Email == "" {
		return problem.InvalidField("email", "is required")
	}
	if in.Password == "" {
		return problem.InvalidField("password", "is required")
	}
	return nil
}

// SignIn checks credentials and starts a session of ttl, returning the
// user and the session token. A wrong email or password is
// ErrBadCredentials, checked as slowly as a right one.
func (as *Accounts) SignIn(ctx context.Context, in Credentials, ttl time.Duration) (store.User, string, error) {
	if err := in.Validate(); err != nil {
		return store.User{}, "", err
	}
	u, err := as.s.deps.Store.GetUserByEmail(ctx, in.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return u, "", err
	}
	if !auth.CheckPassword(u.PasswordHash, in.Password) { // an unknown email takes as long
		return store.User{}, "", ErrBadCredentials
	}
	token, err := as.StartSession(ctx, u.ID, ttl)
	return u, token, err
}

// StartSession stores a new session of user for ttl and returns its token
// (for a user just set up or signed in).
func (as *Accounts) StartSession(ctx context.Context, user uuid.UUID, ttl time.Duration) (string, error) {
	token := auth.NewToken(auth.SessionPrefix)
	if _, err := as.s.deps.Store.CreateSession(ctx, user, token, ttl); err != nil {
		return "", err
	}
	return token, nil
}

// SignOut ends the caller's session (nothing for API keys).
func (as *Accounts) SignOut(ctx context.Context, p *store.Principal) error {
	if p == nil || p.SessionID == uuid.Nil {
		return nil
	}
	if err := as.s.deps.Store.DeleteSession(ctx, p.SessionID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// ProfileChange changes the caller's own account; nil fields stay. A new
// password needs the current one.
type ProfileChange struct {
	Name, Email, Password *string
	CurrentPassword       string
	// RevokeAPIKeys, with a new password, also deletes the caller's API
	// keys (but the one making the request).
	RevokeAPIKeys bool
}

// Validate checks the fields present.
func (in ProfileChange) Validate() error {
	if in.Name != nil {
		if err := validate.Text("name", *in.Name, 1, 100); err != nil {
			return err
		}
	}
	if in.Email != nil {
		if err := validate.Email("email", *in.Email); err != nil {
			return err
		}
	}
	if in.Password == nil {
		if in.RevokeAPIKeys {
			return problem.InvalidField("revoke_api_keys", "applies only with a new password")
		}
		return nil
	}
	if in.CurrentPassword == "" {
		return problem.InvalidField("current_password", "is required")
	}
	return Password("password", *in.Password)
}

// ProfileChanged is what UpdateProfile did.
type ProfileChanged struct {
	User store.User
	// Revoked counts the sessions ended and API keys revoked by a new password.
	Revoked store.Revoked
}

// UpdateProfile changes the caller's name, email or password. A new
// password (after the current one is checked: ErrWrongPassword) ends every
// other session of the caller and, when asked, revokes their API keys, in
// one transaction.
func (as *Accounts) UpdateProfile(ctx context.Context, p *store.Principal, in ProfileChange) (ProfileChanged, error) {
	if p == nil || p == System {
		return ProfileChanged{}, &problem.Error{Kind: problem.Unauthenticated, Message: "authentication required"}
	}
	if err := in.Validate(); err != nil {
		return ProfileChanged{User: p.User}, err
	}
	upd := store.UserUpdate{Email: in.Email}
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		upd.Name = &name
	}
	st := as.s.deps.Store
	if in.Password == nil {
		u, err := st.UpdateUser(ctx, p.User.ID, upd)
		return ProfileChanged{User: u}, err
	}
	if !auth.CheckPassword(p.User.PasswordHash, in.CurrentPassword) {
		return ProfileChanged{User: p.User}, ErrWrongPassword
	}
	hash, err := auth.HashPassword(*in.Password)
	if err != nil {
		return ProfileChanged{User: p.User}, err
	}
	upd.PasswordHash = &hash
	u, revoked, err := st.UpdateUserRevoking(ctx, p.User.ID, upd, store.Revocation{
		KeepSession: p.SessionID, APIKeys: in.RevokeAPIKeys, KeepAPIKey: p.APIKeyID})
	if err != nil {
		return ProfileChanged{User: p.User}, err
	}
	as.s.deps.Logger.Info("password changed", "user", u.ID, "sessions_ended", revoked.Sessions, "api_keys_revoked", revoked.APIKeys)
	return ProfileChanged{User: u, Revoked: revoked}, nil
}

// NewAPIKey is the input of Accounts.CreateAPIKey.
type NewAPIKey struct {
	Name string
	// ExpiresInDays is 1 to 3650, or 0 for a key that does not expire.
	ExpiresInDays int
}

// MaxAPIKeyDays is the longest lifetime of an API key.
const MaxAPIKeyDays = 3650

// Validate checks the name and the lifetime.
func (in NewAPIKey) Validate() error {
	if err := validate.Text("name", in.Name, 1, 100); err != nil {
		return err
	}
	if in.ExpiresInDays < 0 || in.ExpiresInDays > MaxAPIKeyDays {
		return problem.InvalidField("expires_in_days", "must be from 1 to %d days (or 0 for no expiry)", MaxAPIKeyDays)
	}
	return nil
}

// CreateAPIKey creates an API key of the caller and returns it with its
// token, which is shown once and never stored.
func (as *Accounts) CreateAPIKey(ctx context.Context, p *store.Principal, in NewAPIKey) (store.APIKey, string, error) {
	if p == nil || p == System {
		return store.APIKey{}, "", &problem.Error{Kind: problem.Unauthenticated, Message: "authentication required"}
	}
	if err := in.Validate(); err != nil {
		return store.APIKey{}, "", err
	}
	var expires *time.Time
	if in.ExpiresInDays > 0 {
		t := time.Now().Add(time.Duration(in.ExpiresInDays) * 24 * time.Hour)
		expires = &t
	}
	token := auth.NewToken(auth.APIKeyPrefix)
	k, err := as.s.deps.Store.CreateAPIKey(ctx, p.User.ID, strings.TrimSpace(in.Name), token, expires)
	if err != nil {
		return k, "", err
	}
	return k, token, nil
}

// RevokeAPIKey deletes one of the caller's API keys; another user's key is
// not found.
func (as *Accounts) RevokeAPIKey(ctx context.Context, p *store.Principal, id uuid.UUID) error {
	if p == nil || p == System {
		return &problem.Error{Kind: problem.Unauthenticated, Message: "authentication required"}
	}
	return missingAs(as.s.deps.Store.DeleteAPIKey(ctx, p.User.ID, id), "API key")
}
