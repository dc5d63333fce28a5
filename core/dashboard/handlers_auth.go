package dashboard

import (
	"errors"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/ratelimit"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

var setupFields = []string{"token", "email", "name", "organization"}

// setupPage shows the first-administrator form while no user exists.
func (d *Dashboard) setupPage(r *request) error {
	n, err := d.store.CountUsers(r.c.UserContext())
	if err != nil {
		return err
	}
	if n > 0 {
		return r.c.Redirect("/login", fiber.StatusSeeOther)
	}
	return r.render(fiber.StatusOK, "setup", &view{Title: "Set up berth", Layout: "auth"})
}

func (d *Dashboard) setupSubmit(r *request) error {
	ctx := r.c.UserContext()
	n, err := d.store.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return r.seeOther("/login", "berth is already set up: sign in.")
	}
	fail := func(status int, err error) error {
		return r.render(status, "setup", &view{Title: "Set up berth", Layout: "auth",
			forms: map[string]*form{"setup": formWith(r, err, setupFields...)}})
	}
	token := strings.TrimSpace(r.c.FormValue("token"))
	email := strings.TrimSpace(r.c.FormValue("email"))
	name := strings.TrimSpace(r.c.FormValue("name"))
	org := strings.TrimSpace(r.c.FormValue("organization"))
	password := r.c.FormValue("password")
	if org == "" {
		org = "Default"
	}
	switch {
	case token == "":
		return fail(fiber.StatusUnprocessableEntity, invalid("token", "is required: berth printed it when it started (and wrote it to the setup-token file in its data directory)"))
	}
	pass, err := d.opts.SignIn.Begin(email, api.ClientIP(r.c))
	if err != nil {
		return fail(throttled(r, err), err)
	}
	if d.opts.Setup == nil || !d.opts.Setup.Check(token) {
		return fail(fiber.StatusForbidden, invalid("token", "does not match the setup token printed by `berth server`"))
	}
	pass.Succeeded() // the token is right: what follows is ordinary validation
	if err := firstError(validateEmail(email), validateText("name", name, 1, 100),
		validateText("organization", org, 1, 100), validatePassword("password", password)); err != nil {
		return fail(fiber.StatusUnprocessableEntity, err)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u, _, err := d.store.Setup(ctx, store.SetupInput{Email: email, Name: name, PasswordHash: hash, Organization: org})
	if errors.Is(err, store.ErrAlreadySetUp) {
		return r.seeOther("/login", "berth is already set up: sign in.")
	}
	if err != nil {
		if isInputError(err) {
			return fail(fiber.StatusConflict, err)
		}
		return err
	}
	d.opts.Setup.Consume()
	d.log.Info("first administrator created from the dashboard", "email", u.Email)
	if err := d.startSession(r, u.ID); err != nil {
		return err
	}
	return r.seeOther("/", "Welcome to berth. Create your first project.")
}

func (d *Dashboard) loginPage(r *request) error {
	if r.p != nil {
		return r.c.Redirect(localPath(r.c.Query("next")), fiber.StatusSeeOther)
	}
	n, err := d.store.CountUsers(r.c.UserContext())
	if err != nil {
		return err
	}
	if n == 0 {
		return r.c.Redirect("/setup", fiber.StatusSeeOther)
	}
	f := &form{Values: map[string]string{"next": localPath(r.c.Query("next"))}}
	return r.render(fiber.StatusOK, "login", &view{Title: "Sign in", Layout: "auth", forms: map[string]*form{"login": f}})
}

func (d *Dashboard) loginSubmit(r *request) error {
	email := strings.TrimSpace(r.c.FormValue("email"))
	password := r.c.FormValue("password")
	status := fiber.StatusUnauthorized
	fail := func(err error) error {
		f := formWith(r, err, "email", "next")
		if err == nil {
			f.Message = "Email or password is wrong."
		}
		return r.render(status, "login", &view{Title: "Sign in", Layout: "auth", forms: map[string]*form{"login": f}})
	}
	switch {
	case email == "":
		return fail(invalid("email", "is required"))
	case password == "":
		return fail(invalid("password", "is required"))
	}
	// Throttled before the password is checked: bcrypt is the CPU an
	// attacker would spend.
	pass, err := d.opts.SignIn.Begin(email, api.ClientIP(r.c))
	if err != nil {
		status = throttled(r, err)
		return fail(err)
	}
	u, err := d.store.GetUserByEmail(r.c.UserContext(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		pass.Succeeded() // not the caller's failure
		return err
	}
	if !auth.CheckPassword(u.PasswordHash, password) { // an unknown email takes as long
		return fail(nil)
	}
	pass.Succeeded()
	if err := d.startSession(r, u.ID); err != nil {
		return err
	}
	return r.c.Redirect(localPath(r.c.FormValue("next")), fiber.StatusSeeOther)
}

// throttled sets Retry-After for a refused sign-in or setup attempt and
// returns the status to render the form with: 429, or 500 for an error
// that is not a refusal.
func throttled(r *request, err error) int {
	var denied *ratelimit.Denied
	if !errors.As(err, &denied) {
		return fiber.StatusInternalServerError
	}
	r.c.Set(fiber.HeaderRetryAfter, strconv.Itoa(denied.Seconds()))
	return fiber.StatusTooManyRequests
}

// startSession stores a new session and sets the API's session cookie, so
// the same session authenticates pages and API calls.
func (d *Dashboard) startSession(r *request, user uuid.UUID) error {
	token := auth.NewToken(auth.SessionPrefix)
	if _, err := d.store.CreateSession(r.c.UserContext(), user, token, d.opts.SessionTTL); err != nil {
		return err
	}
	r.c.Cookie(&fiber.Cookie{Name: api.SessionCookie, Value: token, Path: "/", HTTPOnly: true, Secure: d.opts.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(d.opts.SessionTTL)})
	r.c.Cookie(&fiber.Cookie{Name: presessionCookie, Value: "", Path: "/", HTTPOnly: true, Secure: d.opts.SecureCookies,
		SameSite: fiber.CookieSameSiteStrictMode, MaxAge: -1, Expires: time.Unix(0, 0)})
	return nil
}

func (d *Dashboard) logout(r *request) error {
	if r.p.SessionID != uuid.Nil {
		if err := d.store.DeleteSession(r.c.UserContext(), r.p.SessionID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	r.c.Cookie(&fiber.Cookie{Name: api.SessionCookie, Value: "", Path: "/", HTTPOnly: true, Secure: d.opts.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Unix(0, 0), MaxAge: -1})
	return r.seeOther("/login", "You are signed out.")
}

// localPath returns next when it is a path on this server, else "/", so the
// sign-in page cannot be used to redirect people elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") || strings.HasPrefix(next, "/login") {
		return "/"
	}
	return next
}

func validateEmail(v string) error {
	if v == "" {
		return invalid("email", "is required")
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 {
		return invalid("email", "%q is not a valid email address", v)
	}
	return nil
}

func validatePassword(field, v string) error {
	if err := auth.ValidatePassword(v); err != nil {
		return invalid(field, "%v", err)
	}
	return nil
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
