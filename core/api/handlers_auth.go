package api

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/ratelimit"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// SetupStatus says whether the first administrator must still be created.
type SetupStatus struct {
	Needed bool `json:"needed"`
}

// SetupRequest creates the first administrator.
type SetupRequest struct {
	// Token is the one-time setup token printed by `berth server` at start.
	Token        string `json:"token"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	Password     string `json:"password"`
	Organization string `json:"organization"`
}

// LoginRequest signs a user in.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// OrganizationRole is one of the caller's organizations with their role.
type OrganizationRole struct {
	ID   uuid.UUID  `json:"id"`
	Name string     `json:"name"`
	Role store.Role `json:"role"`
}

// SessionResponse describes the signed-in user.
type SessionResponse struct {
	User          store.User         `json:"user"`
	Organizations []OrganizationRole `json:"organizations"`
	// CSRFToken must be sent as X-CSRF-Token on unsafe requests that
	// authenticate with the session cookie. Empty for API keys.
	CSRFToken string `json:"csrf_token,omitempty"`
}

// UpdateMeRequest changes the caller's own profile; a new password needs the
// current one and ends every other session of the caller (the one making
// the request stays signed in).
type UpdateMeRequest struct {
	Name            *string `json:"name"`
	Email           *string `json:"email"`
	Password        *string `json:"password"`
	CurrentPassword string  `json:"current_password"`
	// RevokeAPIKeys, with a new password, also deletes the caller's API
	// keys (except the one making the request, if any).
	RevokeAPIKeys bool `json:"revoke_api_keys"`
}

// CreateAPIKeyRequest names a new API key.
type CreateAPIKeyRequest struct {
	Name string `json:"name"`
	// ExpiresInDays is optional; 0 means the key does not expire.
	ExpiresInDays int `json:"expires_in_days"`
}

// CreatedAPIKey is returned once, with the secret token.
type CreatedAPIKey struct {
	store.APIKey
	Token string `json:"token"`
}

func (s *Server) setupStatus(c *fiber.Ctx) error {
	n, err := s.store.CountUsers(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(SetupStatus{Needed: n == 0})
}

func (s *Server) setup(c *fiber.Ctx) error {
	var req SetupRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Token == "" {
		return invalid("token", "the setup token printed by `berth server` is required")
	}
	pass, err := s.opts.SignIn.Begin(req.Email, ClientIP(c))
	if err != nil {
		return throttled(c, err)
	}
	if s.opts.Setup == nil || !s.opts.Setup.Check(req.Token) {
		n, err := s.store.CountUsers(c.UserContext())
		if err == nil && n > 0 {
			return conflict("", "berth is already set up; sign in instead")
		}
		return &Error{Status: fiber.StatusForbidden, Code: "invalid_setup_token", Field: "token",
			Message: "token: does not match the setup token printed by `berth server`"}
	}
	pass.Succeeded() // the token is right: what follows is ordinary validation
	if err := validateEmail(req.Email); err != nil {
		return err
	}
	if err := validateText("name", req.Name, 1, 100); err != nil {
		return err
	}
	if req.Organization == "" {
		req.Organization = "Default"
	}
	if err := validateText("organization", req.Organization, 1, 100); err != nil {
		return err
	}
	if err := auth.ValidatePassword(req.Password); err != nil {
		return invalid("password", "%v", err)
	}
	hash, err := auth.HashPassword(req.Password)
	if err != nil {
		return err
	}
	u, _, err := s.store.Setup(c.UserContext(), store.SetupInput{Email: req.Email, Name: req.Name,
		PasswordHash: hash, Organization: req.Organization})
	if errors.Is(err, store.ErrAlreadySetUp) {
		return conflict("", "berth is already set up; sign in instead")
	}
	if err != nil {
		return err
	}
	s.opts.Setup.Consume()
	s.log.Info("first administrator created", "email", u.Email)
	return s.startSession(c, u, fiber.StatusCreated)
}

func (s *Server) login(c *fiber.Ctx) error {
	var req LoginRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Email == "" {
		return invalid("email", "is required")
	}
	if req.Password == "" {
		return invalid("password", "is required")
	}
	// Throttled before the password is checked: bcrypt is the CPU an
	// attacker would spend.
	pass, err := s.opts.SignIn.Begin(req.Email, ClientIP(c))
	if err != nil {
		return throttled(c, err)
	}
	u, err := s.store.GetUserByEmail(c.UserContext(), req.Email)
	if err != nil && !isNotFound(err) {
		pass.Succeeded() // not the caller's failure
		return err
	}
	if !auth.CheckPassword(u.PasswordHash, req.Password) {
		return &Error{Status: fiber.StatusUnauthorized, Code: "invalid_credentials", Message: "email or password is wrong"}
	}
	pass.Succeeded()
	return s.startSession(c, u, fiber.StatusOK)
}

// throttled answers a refused sign-in or setup attempt: 429 with
// Retry-After and the reason; other errors pass through.
func throttled(c *fiber.Ctx, err error) error {
	var d *ratelimit.Denied
	if !errors.As(err, &d) {
		return err
	}
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(d.Seconds()))
	e := &Error{Status: fiber.StatusTooManyRequests, Code: "too_many_attempts", Message: d.Error()}
	if d.Scope == ratelimit.ScopeAccount {
		e.Field = "email"
	}
	return e
}

func (s *Server) startSession(c *fiber.Ctx, u store.User, status int) error {
	token := auth.NewToken(auth.SessionPrefix)
	if _, err := s.store.CreateSession(c.UserContext(), u.ID, token, s.opts.SessionTTL); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: token, Path: "/", HTTPOnly: true, Secure: s.opts.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(s.opts.SessionTTL)})
	p, err := s.store.AuthenticateSession(c.UserContext(), token)
	if err != nil {
		return err
	}
	resp, err := s.sessionResponse(c, &p)
	if err != nil {
		return err
	}
	resp.CSRFToken = s.csrf.Token(token)
	return c.Status(status).JSON(resp)
}

func (s *Server) sessionResponse(c *fiber.Ctx, p *store.Principal) (SessionResponse, error) {
	resp := SessionResponse{User: p.User, Organizations: []OrganizationRole{}}
	orgs, _, err := s.store.ListOrganizations(c.UserContext(), p.User.ID, store.Page{Limit: store.MaxPageSize})
	if err != nil {
		return resp, err
	}
	for _, o := range orgs {
		resp.Organizations = append(resp.Organizations, OrganizationRole{ID: o.ID, Name: o.Name, Role: p.Roles[o.ID]})
	}
	return resp, nil
}

func (s *Server) logout(c *fiber.Ctx) error {
	p := principal(c)
	if p.SessionID != uuid.Nil {
		if err := s.store.DeleteSession(c.UserContext(), p.SessionID); err != nil && !isNotFound(err) {
			return err
		}
	}
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: "", Path: "/", HTTPOnly: true, Secure: s.opts.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Unix(0, 0), MaxAge: -1})
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) session(c *fiber.Ctx) error {
	p := principal(c)
	resp, err := s.sessionResponse(c, p)
	if err != nil {
		return err
	}
	if p.SessionID != uuid.Nil {
		resp.CSRFToken = s.csrf.Token(c.Cookies(SessionCookie))
	}
	return c.JSON(resp)
}

func (s *Server) updateMe(c *fiber.Ctx) error {
	p := principal(c)
	var req UpdateMeRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	var upd store.UserUpdate
	if req.Name != nil {
		if err := validateText("name", *req.Name, 1, 100); err != nil {
			return err
		}
		upd.Name = req.Name
	}
	if req.Email != nil {
		if err := validateEmail(*req.Email); err != nil {
			return err
		}
		upd.Email = req.Email
	}
	if req.Password != nil {
		// The current password is a guess like a sign-in: same throttle.
		pass, err := s.opts.SignIn.Begin(p.User.Email, ClientIP(c))
		if err != nil {
			return throttled(c, err)
		}
		if !auth.CheckPassword(p.User.PasswordHash, req.CurrentPassword) {
			return invalid("current_password", "is wrong")
		}
		pass.Succeeded()
		if err := auth.ValidatePassword(*req.Password); err != nil {
			return invalid("password", "%v", err)
		}
		hash, err := auth.HashPassword(*req.Password)
		if err != nil {
			return err
		}
		upd.PasswordHash = &hash
	} else if req.RevokeAPIKeys {
		return invalid("revoke_api_keys", "applies only with a new password")
	}
	if upd.PasswordHash == nil {
		u, err := s.store.UpdateUser(c.UserContext(), p.User.ID, upd)
		if err != nil {
			return err
		}
		return c.JSON(u)
	}
	u, revoked, err := s.store.UpdateUserRevoking(c.UserContext(), p.User.ID, upd, store.Revocation{
		KeepSession: p.SessionID, APIKeys: req.RevokeAPIKeys, KeepAPIKey: p.APIKeyID})
	if err != nil {
		return err
	}
	s.log.Info("password changed", "user", u.ID, "sessions_ended", revoked.Sessions, "api_keys_revoked", revoked.APIKeys)
	return c.JSON(u)
}

func (s *Server) listAPIKeys(c *fiber.Ctx) error {
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	keys, more, err := s.store.ListAPIKeys(c.UserContext(), principal(c).User.ID, pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(keys, more, func(k store.APIKey) uuid.UUID { return k.ID }))
}

func (s *Server) createAPIKey(c *fiber.Ctx) error {
	var req CreateAPIKeyRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if err := validateText("name", req.Name, 1, 100); err != nil {
		return err
	}
	var expires *time.Time
	if req.ExpiresInDays != 0 {
		if req.ExpiresInDays < 1 || req.ExpiresInDays > 3650 {
			return invalid("expires_in_days", "must be %s (or 0 for no expiry)", fmtRange(1, 3650))
		}
		t := time.Now().Add(time.Duration(req.ExpiresInDays) * 24 * time.Hour)
		expires = &t
	}
	token := auth.NewToken(auth.APIKeyPrefix)
	k, err := s.store.CreateAPIKey(c.UserContext(), principal(c).User.ID, strings.TrimSpace(req.Name), token, expires)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(CreatedAPIKey{APIKey: k, Token: token})
}

func (s *Server) deleteAPIKey(c *fiber.Ctx) error {
	id, err := pathID(c, "id", "api key")
	if err != nil {
		return err
	}
	if err := s.store.DeleteAPIKey(c.UserContext(), principal(c).User.ID, id); err != nil {
		return notFoundAs(err, "api key")
	}
	return c.SendStatus(fiber.StatusNoContent)
}
