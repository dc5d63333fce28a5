// Package dashboard is berth's web dashboard, served by the berth binary
// itself: server-rendered pages (html/template, parsed once at start) with a
// small hand-written stylesheet and script, all embedded with go:embed. No
// Node toolchain builds it and no separate server runs it.
//
// The dashboard shares the API's session cookie (api.SessionCookie), its
// session storage (store.CreateSession / AuthenticateSession) and its CSRF
// scheme (auth.CSRF, an HMAC of the session token), so a page's script can
// call the REST API with the X-CSRF-Token header it finds in the page.
//
// Every route is declared once in a table (routes.go) with the resource it
// acts on and the role it needs; one request pipeline (this file) enforces
// the session, the CSRF token of every POST and that role, so a handler only
// runs once all three hold.
package dashboard

import (
	"errors"
	"fmt"
	"github.com/berth-dev/berth/core/service"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/ratelimit"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/teardown"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// Options configures the dashboard. The session, CSRF and setup settings
// must be the ones given to the API (api.Options) so both accept the same
// sessions.
type Options struct {
	// Store holds sessions, users and every resource the pages show.
	Store *store.Store
	// Setup is the one-time setup token holder; nil once berth is set up.
	Setup *auth.SetupToken
	// CSRFKey signs CSRF tokens: the same key as api.Options.CSRFKey.
	CSRFKey []byte
	// SessionTTL is the lifetime of sessions started by the sign-in page.
	SessionTTL time.Duration
	// SecureCookies sets the Secure flag on the cookies the dashboard sets.
	SecureCookies bool
	// Deployer runs deployments; nil shows deployments as unavailable.
	Deployer api.Deployer
	// Logs says whether the server streams deployment logs live; when nil
	// the deployment page polls the stored log instead of following it.
	Logs api.LogStreams
	// Plugins lists installed plugins (plugins page, build types); may be nil.
	Plugins api.PluginLister
	// PluginSettings applies plugin settings; nil refuses to save them.
	PluginSettings api.PluginConfigurer
	// Teardown deletes projects with everything berth runs for them (the
	// same one the API uses); nil uses one without Swarm, which deletes
	// only what never ran there.
	Teardown service.Teardown
	// GitProviders reaches git provider plugins to test connections; may be nil.
	GitProviders GitProviders
	// PublicURL is berth's public address, the base of webhook URLs.
	PublicURL string
	// Logger receives server errors behind the pages; nil uses slog.Default.
	Logger *slog.Logger
	// Outbound checks the addresses tenants aim requests at; nil uses
	// api.NewOutboundGuard(Store).
	Outbound *netguard.Guard
	// SignIn throttles the sign-in and setup forms: the API's Guard
	// (api.Options.SignIn), so both count the same failures. Nil uses a
	// Guard of its own with the default policy.
	SignIn *ratelimit.Guard
	// HostAccess decides who may use host-level powers: the same guard as
	// api.Options.HostAccess; nil uses one on Store.
	HostAccess *hostaccess.Guard
	// Metrics is the running metrics sampler (core/metrics), for the
	// live refresh interval of the charts; nil refreshes every 15 s.
	Metrics MetricsSource
	// Services is the service layer every change goes through: the same
	// one as api.Options.Services. Nil builds one on Store, HostAccess and
	// Teardown.
	Services *service.Services
	// RuntimeLogs (issue 17, logs) reads applications' and databases'
	// logs: the API's (api.Options.RuntimeLogs); nil shows none.
	RuntimeLogs api.RuntimeLogs
}

// Dashboard serves the web pages. Create it with New and attach it to the
// API's Fiber application with Register.
type Dashboard struct {
	svc    *service.Services
	opts   Options
	store  *store.Store
	log    *slog.Logger
	csrf   *auth.CSRF
	pages  *pages
	guard  *netguard.Guard
	assets *assets
	routes []route
}

// New parses the templates and prepares the assets; it panics if the
// embedded templates are malformed (a build defect caught by any test).
func New(opts Options) *Dashboard {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 7 * 24 * time.Hour
	}
	if opts.HostAccess == nil {
		opts.HostAccess = hostaccess.NewGuard(opts.Store, nil)
	}
	if opts.Teardown == nil {
		opts.Teardown = teardown.New(teardown.Deps{Store: opts.Store, Logger: opts.Logger})
	}
	if opts.SignIn == nil {
		opts.SignIn = ratelimit.NewGuard(ratelimit.DefaultGuardPolicy(), nil)
	}
	if opts.Services == nil {
		opts.Services = service.New(service.Deps{Store: opts.Store, HostAccess: opts.HostAccess, Teardown: opts.Teardown, Deployer: opts.Deployer, Outbound: opts.Outbound, Logger: opts.Logger})
	}
	d := &Dashboard{svc: opts.Services, opts: opts, store: opts.Store, log: opts.Logger, csrf: auth.NewCSRF(opts.CSRFKey), guard: opts.Outbound}
	if d.guard == nil {
		d.guard = api.NewOutboundGuard(opts.Store)
	}
	d.assets = loadAssets()
	d.pages = mustParsePages(d.assets)
	d.routes = d.table()
	return d
}

// Register adds the dashboard's routes to r, followed by an HTML "not
// found" page for every other path outside /api/, so register it last. On
// the API's application the API's routes and its /api/v1 catch-all come
// first, so the dashboard never shadows the API.
func (d *Dashboard) Register(r fiber.Router) {
	for _, rt := range d.routes {
		r.Add(rt.method, rt.path, d.handle(rt))
	}
	r.Use(d.notFound)
}

// request is one dashboard request as handlers see it: the caller and the
// resource the route names, already authenticated, CSRF-checked and
// authorized.
type request struct {
	c    *fiber.Ctx
	d    *Dashboard
	p    *store.Principal // nil on public routes without a session
	csrf string           // the token this page's forms carry

	project    store.Project
	env        store.Environment
	app        store.Application
	domain     store.Domain
	deployment store.Deployment
	database   store.Database
	org        store.Organization
	dest       store.BackupDestination
	conn       store.GitConnection
	policy     store.BackupPolicy
}

// handle runs one route: headers, session, CSRF, resource and role, then
// the handler; every error is rendered as an HTML page here.
func (d *Dashboard) handle(rt route) fiber.Handler {
	return func(c *fiber.Ctx) (err error) {
		r := &request{c: c, d: d}
		setPageHeaders(c)
		if rt.asset {
			return rt.handler(r)
		}
		defer func() {
			if v := recover(); v != nil {
				d.log.Error("panic serving page", "method", c.Method(), "path", c.Path(), "panic", v, "stack", string(debug.Stack()))
				err = d.renderError(r, fmt.Errorf("panic: %v", v))
			}
		}()
		if err := d.authenticate(r, rt); err != nil {
			return d.renderError(r, err)
		}
		if rt.instanceAdmin && (r.p == nil || !r.p.User.InstanceAdmin) {
			return d.renderError(r, errNotInstanceAdmin)
		}
		if rt.resource != service.NoResource {
			if err := d.loadResource(r, rt); err != nil {
				return d.renderError(r, err)
			}
		}
		if err := rt.handler(r); err != nil {
			return d.renderError(r, err)
		}
		return nil
	}
}

// setPageHeaders forbids inline scripts and framing: scripts and styles
// come only from the dashboard's own files.
func setPageHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", contentSecurityPolicy)
	c.Set("X-Frame-Options", "DENY")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
}

const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// Errors the pipeline renders as pages.
var (
	errSignIn    = &pageError{status: fiber.StatusUnauthorized, title: "Sign in required", msg: "Your session has ended. Sign in again, then repeat the action."}
	errCSRF      = &pageError{status: fiber.StatusForbidden, title: "Form expired", msg: "This form's CSRF token is missing or invalid. Go back, reload the page and submit again."}
	errForbidden = &pageError{status: fiber.StatusForbidden, title: "Not allowed", msg: "Your role in this organization does not allow this action."}
	// errNotInstanceAdmin refuses instanceAdmin routes to everyone else.
	errNotInstanceAdmin = &pageError{status: fiber.StatusForbidden, title: "Not allowed", msg: "Only administrators of this berth instance can do this."}
)

// pageError is an error shown as a page with a status.
type pageError struct {
	status     int
	title, msg string
}

func (e *pageError) Error() string { return e.title + ": " + e.msg }

func notFound(what string) *pageError {
	return &pageError{status: fiber.StatusNotFound, title: "Not found", msg: "This " + what + " does not exist, or you are not a member of its organization."}
}

// presessionCookie holds a random nonce that binds the CSRF token of the
// sign-in and setup forms, which are submitted before any session exists.
const presessionCookie = "berth_presession"

// csrfField is the form field carrying the CSRF token.
const csrfField = "csrf_token"

// authenticate resolves the session and checks the CSRF token of POSTs.
// Signed-out GETs of private pages are redirected to the sign-in page;
// signed-out POSTs are refused.
func (d *Dashboard) authenticate(r *request, rt route) error {
	c := r.c
	post := c.Method() == fiber.MethodPost
	token := c.Cookies(api.SessionCookie)
	if token != "" {
		p, err := d.store.AuthenticateSession(c.UserContext(), token)
		switch {
		case err == nil:
			r.p = &p
			r.csrf = d.csrf.Token(token)
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("authenticate session: %w", err)
		}
	}
	if rt.public {
		nonce := c.Cookies(presessionCookie)
		if post && (nonce == "" || !d.csrf.Valid(nonce, c.FormValue(csrfField))) {
			return errCSRF
		}
		if nonce == "" {
			nonce = auth.NewToken("pre_")
			c.Cookie(&fiber.Cookie{Name: presessionCookie, Value: nonce, Path: "/", HTTPOnly: true,
				Secure: d.opts.SecureCookies, SameSite: fiber.CookieSameSiteStrictMode})
		}
		r.csrf = d.csrf.Token(nonce) // public forms are bound to the nonce, not a session
		return nil
	}
	if r.p == nil {
		if post {
			return errSignIn
		}
		return &redirect{to: "/login?next=" + url.QueryEscape(c.OriginalURL())}
	}
	if post && !d.csrf.Valid(token, c.FormValue(csrfField)) {
		return errCSRF
	}
	return nil
}

// redirect is a 303 See Other returned as an error by the pipeline.
type redirect struct{ to string }

func (e *redirect) Error() string { return "redirect to " + e.to }

// loadResource loads the resource named by :id and checks the caller's
// role in its organization through the service layer: non-members get a
// 404 (ids of other tenants leak nothing), members below the route's role a
// 403.
func (d *Dashboard) loadResource(r *request, rt route) error {
	id, err := uuid.Parse(r.c.Params("id"))
	if err != nil {
		return notFound(rt.resource.String())
	}
	res, err := d.svc.Resolve(r.c.UserContext(), r.p, rt.resource, id, rt.min)
	if err != nil {
		return err
	}
	r.project, r.env, r.app, r.domain, r.deployment = res.Project, res.Environment, res.Application, res.Domain, res.Deployment
	r.database, r.org, r.dest, r.conn, r.policy = res.Database, res.Organization, res.Destination, res.Connection, res.Policy
	return nil
}

// authorize checks the caller holds at least min in org.
func (r *request) authorize(org uuid.UUID, min store.Role, what string) error {
	role, ok := r.p.Roles[org]
	if !ok {
		return notFound(what)
	}
	if role.Rank() < min.Rank() {
		return errForbidden
	}
	return nil
}

// checkHostAccess asks the host-access guard whether the caller may make a
// change of a record of org whose settings use after, where the record used
// before (nil for a new record); a refusal is a *hostaccess.ForbiddenError, shown on the
// field it names.
func (r *request) checkHostAccess(org uuid.UUID, before, after []hostaccess.Use) error {
	return r.d.opts.HostAccess.CheckChange(r.c.UserContext(), r.p, org, before, after)
}

// can reports whether the caller holds at least min in org (for showing or
// hiding controls; the routes enforce it).
func (r *request) can(org uuid.UUID, min store.Role) bool {
	return r.p != nil && r.p.Roles[org].Rank() >= min.Rank()
}

// notFound renders the HTML 404 page for unknown paths outside the API.
func (d *Dashboard) notFound(c *fiber.Ctx) error {
	if strings.HasPrefix(c.Path(), "/api/") {
		return fiber.NewError(fiber.StatusNotFound, "no route "+c.Method()+" "+c.Path())
	}
	setPageHeaders(c)
	r := &request{c: c, d: d}
	return d.renderError(r, &pageError{status: fiber.StatusNotFound, title: "Page not found", msg: "There is no page at " + c.Path() + "."})
}

// setFlash stores a one-time message shown by the next page.
func (r *request) setFlash(msg string) {
	r.c.Cookie(&fiber.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", HTTPOnly: true,
		Secure: r.d.opts.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode, MaxAge: 60})
}

// takeFlash returns and clears the one-time message.
func (r *request) takeFlash() string {
	v := r.c.Cookies(flashCookie)
	if v == "" {
		return ""
	}
	r.c.Cookie(&fiber.Cookie{Name: flashCookie, Value: "", Path: "/", HTTPOnly: true,
		Secure: r.d.opts.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode, MaxAge: -1, Expires: time.Unix(0, 0)})
	msg, err := url.QueryUnescape(v)
	if err != nil || len(msg) > 300 {
		return ""
	}
	return msg
}

const flashCookie = "berth_flash"

// seeOther redirects after a successful form, with a message for the next page.
func (r *request) seeOther(to, flash string) error {
	if flash != "" {
		r.setFlash(flash)
	}
	return r.c.Redirect(to, fiber.StatusSeeOther)
}
