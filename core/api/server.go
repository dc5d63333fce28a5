// Package api is berth's REST API on Fiber, mounted at /api/v1.
//
// Every route is declared once in a table (routes.go) with its method, path,
// access, request and response types; the same table registers the Fiber
// handlers and generates the OpenAPI 3.1 document, so the two cannot drift.
// Handlers return errors; errors.go renders them in one place.
package api

import (
	"context"
	"encoding/json"
	"github.com/berth-dev/berth/core/service"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/ratelimit"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/teardown"
	"github.com/gofiber/fiber/v2"
)

// Version is the API version in the path prefix.
const Version = "v1"

// Prefix is where the API is mounted.
const Prefix = "/api/" + Version

// PluginLister lists installed plugins for GET /api/v1/plugins.
type PluginLister interface {
	ListPlugins(ctx context.Context) ([]PluginInfo, error)
}

// Options configures the API server.
type Options struct {
	Store  *store.Store
	Logger *slog.Logger
	// Setup is the one-time setup token holder; nil once berth is set up.
	Setup *auth.SetupToken
	// CSRFKey signs CSRF tokens (derived from the secret key).
	CSRFKey []byte
	// SessionTTL is the lifetime of browser sessions.
	SessionTTL time.Duration
	// SecureCookies sets the Secure flag on the session cookie.
	SecureCookies bool
	// Plugins lists plugins; nil reports none.
	Plugins PluginLister
	// Version is berth's build version, reported by /healthz.
	Version string
	// Deployer runs deployments; nil answers 503 on deployment actions.
	// Notifiers gives notification channels their plugins when Services
	// is nil (tests); berth's own service layer has them.
	Notifiers service.NotifierPlugins
	Deployer  Deployer
	// Logs streams deployment logs live; nil serves stored lines only.
	Logs LogStreams
	// PluginSettings configures plugins; nil answers 503 on settings changes.
	PluginSettings PluginConfigurer
	// Webhooks handles incoming webhooks; nil answers 503.
	Webhooks Webhooks
	// GitProviders reaches git provider plugins for connections; nil
	// answers 503.
	GitProviders GitProviders
	// PublicURL is berth's address, for webhook URLs.
	PublicURL string
	// Outbound checks the addresses tenants aim requests at; nil uses
	// NewOutboundGuard(Store).
	Outbound *netguard.Guard
	// SignIn throttles sign-in and setup attempts per account and client
	// address; share it with the dashboard so both count the same
	// failures. Nil uses a Guard of its own with the default policy.
	SignIn *ratelimit.Guard
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// names the client (see ClientIP). Nil: the header is ignored and the
	// client is the connection's peer address.
	TrustedProxies *TrustedProxies
	// Teardown deletes projects and environments with their Swarm
	// objects; nil uses one without Swarm, which deletes only what never
	// ran there.
	Teardown service.Teardown
	// HostAccess decides who may use host-level powers (bind mounts, low or
	// reserved host ports, placement, local repositories, host directories,
	// organization creation). core/app shares one with the dashboard and
	// webhooks; nil uses one on Store that reserves no extra ports.
	HostAccess *hostaccess.Guard
	// RuntimeLogs (issue 17, logs) reads applications' and databases' logs
	// from Docker; nil answers 503 on their log routes.
	RuntimeLogs RuntimeLogs
	// Services is the service layer every change goes through; nil builds
	// one on Store, HostAccess and Teardown (without database services:
	// their actions answer 503, records can still be managed).
	Services *service.Services
	// Metrics is the running metrics sampler (core/metrics): the
	// Prometheus export of its latest round and its interval. Nil: stored
	// series are still served, /metrics has only berth's own figures.
	Metrics MetricsSource
}

// Server is the HTTP API.
type Server struct {
	svc    *service.Services
	opts   Options
	store  *store.Store
	log    *slog.Logger
	csrf   *auth.CSRF
	app    *fiber.App
	routes []Route
	guard  *netguard.Guard

	openAPIDoc []byte
}

// New builds the API server and registers every route.
func New(opts Options) *Server {
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
		opts.Services = service.New(service.Deps{Store: opts.Store, HostAccess: opts.HostAccess, Teardown: opts.Teardown, Deployer: opts.Deployer, Outbound: opts.Outbound, Logger: opts.Logger,
			Notifiers: opts.Notifiers})
	}
	s := &Server{svc: opts.Services, opts: opts, store: opts.Store, log: opts.Logger, csrf: auth.NewCSRF(opts.CSRFKey), guard: opts.Outbound}
	if s.guard == nil {
		s.guard = NewOutboundGuard(opts.Store)
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "berth",
		DisableStartupMessage: true,
		ErrorHandler:          errorHandler(opts.Logger),
		BodyLimit:             4 << 20,
		ReadTimeout:           30 * time.Second,
		IdleTimeout:           2 * time.Minute,
		ReadBufferSize:        16 << 10, // room for cookies and bearer tokens
		// Fiber reuses request buffers: handlers copy what they keep.
	})
	s.app.Use(recoverMiddleware(s.log), clientIPMiddleware(opts.TrustedProxies), securityHeaders, metricsMiddleware)
	for _, r := range append(append(append(s.table(), s.variableRoutes()...), s.webhookRoutes()...), s.connectionRoutes()...) {
		s.register(r)
	}
	s.openAPIDoc, _ = json.Marshal(s.OpenAPI()) // static per process; built once
	// Unknown API paths answer JSON; everything else falls through to the
	// dashboard, registered after the API.
	s.app.Use("/api", func(c *fiber.Ctx) error {
		return &Error{Status: fiber.StatusNotFound, Code: "not_found", Message: "no route " + c.Method() + " " + c.Path()}
	})
	return s
}

// App returns the Fiber application (to listen, or to call App().Test in tests).
func (s *Server) App() *fiber.App { return s.app }

// Routes returns the declared routes.
func (s *Server) Routes() []Route { return s.routes }

// Listen serves on addr until Shutdown.
func (s *Server) Listen(addr string) error { return s.app.Listen(addr) }

// Shutdown stops accepting connections and waits for in-flight requests.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

func (s *Server) register(r Route) {
	if r.Do.handler != nil {
		if r.Handler != nil || r.Body != nil || r.Response != nil {
			panic("api: route " + r.Method + " " + r.Path + " sets Do and also Handler, Body or Response")
		}
		r.Body, r.Response = r.Do.body, r.Do.response
		status, do := r.Status, r.Do.handler
		if status == 0 {
			status = fiber.StatusOK
		}
		r.Handler = func(c *fiber.Ctx) error { return do(c, status) }
	}
	s.routes = append(s.routes, r)
	handlers := []fiber.Handler{routeLabel(r.Path)}
	if !r.Public && !r.Webhook {
		handlers = append(handlers, s.authenticate)
	}
	if r.Resource != service.NoResource {
		handlers = append(handlers, s.resolve(r))
	}
	handlers = append(handlers, r.Handler)
	s.app.Add(r.Method, r.Path, handlers...)
}

// resolvedKey holds the route's resource in the request's locals.
const resolvedKey = "berth.resolved"

// resolve loads the resource the route's :id names and checks the
// caller's role on it (see Route.Resource).
func (s *Server) resolve(r Route) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c, "id", r.Resource.String())
		if err != nil {
			return err
		}
		res, err := s.svc.Resolve(c.UserContext(), principal(c), r.Resource, id, r.Access.Role)
		if err != nil {
			return err
		}
		c.Locals(resolvedKey, &res)
		return c.Next()
	}
}

// resolved returns what the route's Resource declaration loaded.
func resolved(c *fiber.Ctx) *service.Resolved {
	res, _ := c.Locals(resolvedKey).(*service.Resolved)
	if res == nil {
		panic("api: route " + c.Route().Path + " reads a resource it does not declare")
	}
	return res
}
