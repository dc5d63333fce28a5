package dashboard

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/ratelimit"
	"github.com/berth-dev/berth/core/service"
	"github.com/gofiber/fiber/v2"
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
	u, err := d.svc.Accounts.Setup(ctx, service.Setup{Email: email, Name: name, Password: password, Organization: org})
	if errors.Is(err, service.ErrAlreadySetUp) {
		return r.seeOther("/login", "berth is already set up: sign in.")
	}
	if isInputError(err) {
		return fail(inputStatus(err), err)
	}
	if err != nil {
		return err
	}
	d.opts.Setup.Consume()
	d.log.Info("first administrator created from the dashboard", "email", u.Email)
	session, err := d.svc.Accounts.StartSession(ctx, u.ID, d.opts.SessionTTL)
	if err != nil {
		return err
	}
	d.setSession(r, session)
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
	in := service.Credentials{Email: email, Password: password}
	if err := in.Validate(); err != nil {
		return fail(err)
	}
	// Throttled before the password is checked: bcrypt is the CPU an
	// attacker would spend.
	pass, err := d.opts.SignIn.Begin(email, api.ClientIP(r.c))
	if err != nil {
		status = throttled(r, err)
		return fail(err)
	}
	_, token, err := d.svc.Accounts.SignIn(r.c.UserContext(), in, d.opts.SessionTTL)
	if errors.Is(err, service.ErrBadCredentials) {
		return fail(nil)
	}
	pass.Succeeded() // the password was right, or the failure is not the caller's
	if err != nil {
		return err
	}
	d.setSession(r, token)
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

// setSession sets the API's session cookie of a session just started,
// so the same session authenticates pages and API calls.
func (d *Dashboard) setSession(r *request, token string) {
	r.c.Cookie(&fiber.Cookie{Name: api.SessionCookie, Value: token, Path: "/", HTTPOnly: true, Secure: d.opts.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(d.opts.SessionTTL)})
	r.c.Cookie(&fiber.Cookie{Name: presessionCookie, Value: "", Path: "/", HTTPOnly: true, Secure: d.opts.SecureCookies,
		SameSite: fiber.CookieSameSiteStrictMode, MaxAge: -1, Expires: time.Unix(0, 0)})
}

func (d *Dashboard) logout(r *request) error {
	if err := d.svc.Accounts.SignOut(r.c.UserContext(), r.p); err != nil {
		return err
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

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
