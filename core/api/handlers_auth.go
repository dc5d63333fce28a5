package api

import (
	"errors"
	"strconv"
	"time"

	"github.com/berth-dev/berth/core/ratelimit"
	"github.com/berth-dev/berth/core/service"
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
			return service.ErrAlreadySetUp
		}
		return &Error{Status: fiber.StatusForbidden, Code: "invalid_setup_token", Field: "token",
			Message: "token: does not match the setup token printed by `berth server`"}
	}
	pass.Succeeded() // the token is right: what follows is ordinary validation
	u, err := s.svc.Accounts.Setup(c.UserContext(), service.Setup{Email: req.Email, Name: req.Name,
		Password: req.Password, Organization: req.Organization})
	if err != nil {
		return err
	}
	s.opts.Setup.Consume()
	s.log.Info("first administrator created", "email", u.Email)
	token, err := s.svc.Accounts.StartSession(c.UserContext(), u.ID, s.opts.SessionTTL)
	if err != nil {
		return err
	}
	return s.startSession(c, token, fiber.StatusCreated)
}

func (s *Server) login(c *fiber.Ctx) error {
	var req LoginRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	in := service.Credentials{Email: req.Email, Password: req.Password}
	if err := in.Validate(); err != nil {
		return err
	}
	// Throttled before the password is checked: bcrypt is the CPU an
	// attacker would spend.
	pass, err := s.opts.SignIn.Begin(req.Email, ClientIP(c))
	if err != nil {
		return throttled(c, err)
	}
	_, token, err := s.svc.Accounts.SignIn(c.UserContext(), in, s.opts.SessionTTL)
	if errors.Is(err, service.ErrBadCredentials) {
		return err
	}
	pass.Succeeded() // the password was right, or the failure is not the caller's
	if err != nil {
		return err
	}
	return s.startSession(c, token, fiber.StatusOK)
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

// startSession sets the cookie of the session token just started and
// answers with the session.
func (s *Server) startSession(c *fiber.Ctx, token string, status int) error {
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
	if err := s.svc.Accounts.SignOut(c.UserContext(), principal(c)); err != nil {
		return err
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

func (s *Server) updateMe(c *fiber.Ctx, req UpdateMeRequest) (store.User, error) {
	p := principal(c)
	in := service.ProfileChange{Name: req.Name, Email: req.Email, Password: req.Password,
		CurrentPassword: req.CurrentPassword, RevokeAPIKeys: req.RevokeAPIKeys}
	if req.Password == nil {
		out, err := s.svc.Accounts.UpdateProfile(c.UserContext(), p, in)
		return out.User, err
	}
	if err := in.Validate(); err != nil {
		return p.User, err
	}
	// The current password is a guess like a sign-in: same throttle.
	pass, err := s.opts.SignIn.Begin(p.User.Email, ClientIP(c))
	if err != nil {
		return p.User, throttled(c, err)
	}
	out, err := s.svc.Accounts.UpdateProfile(c.UserContext(), p, in)
	if !errors.Is(err, service.ErrWrongPassword) {
		pass.Succeeded()
	}
	return out.User, err
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

func (s *Server) createAPIKey(c *fiber.Ctx, req CreateAPIKeyRequest) (CreatedAPIKey, error) {
	k, token, err := s.svc.Accounts.CreateAPIKey(c.UserContext(), principal(c),
		service.NewAPIKey{Name: req.Name, ExpiresInDays: req.ExpiresInDays})
	return CreatedAPIKey{APIKey: k, Token: token}, err
}

func (s *Server) deleteAPIKey(c *fiber.Ctx) (NoContent, error) {
	id, err := pathID(c, "id", "API key")
	if err != nil {
		return NoContent{}, err
	}
	return NoContent{}, s.svc.Accounts.RevokeAPIKey(c.UserContext(), principal(c), id)
}
