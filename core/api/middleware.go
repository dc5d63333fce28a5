package api

import (
	"fmt"
	"github.com/berth-dev/berth/core/problem"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
)

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "berth_session"

// CSRFHeader carries the CSRF token on unsafe requests made with a session.
const CSRFHeader = "X-CSRF-Token"

const principalKey = "berth.principal"
const routeKey = "berth.route"

// authenticate resolves the caller from an API key (Authorization: Bearer)
// or a session cookie; session requests that change state must carry the
// session's CSRF token.
func (s *Server) authenticate(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "bearer") || token == "" {
			return errUnauthenticated
		}
		p, err := s.store.AuthenticateAPIKey(ctx, strings.TrimSpace(token))
		if err != nil {
			return authError(err)
		}
		c.Locals(principalKey, &p)
		return c.Next()
	}
	token := c.Cookies(SessionCookie)
	if token == "" {
		return errUnauthenticated
	}
	p, err := s.store.AuthenticateSession(ctx, token)
	if err != nil {
		return authError(err)
	}
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
	default:
		if !s.csrf.Valid(token, c.Get(CSRFHeader)) {
			return errCSRF
		}
	}
	c.Locals(principalKey, &p)
	return c.Next()
}

func authError(err error) error {
	if isNotFound(err) {
		return errUnauthenticated
	}
	return err
}

// principal returns the authenticated caller (set by authenticate).
func principal(c *fiber.Ctx) *store.Principal {
	p, _ := c.Locals(principalKey).(*store.Principal)
	return p
}

func recoverMiddleware(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic serving request", "method", c.Method(), "path", c.Path(), "panic", r, "stack", string(debug.Stack()))
				err = &Error{Status: fiber.StatusInternalServerError, Code: "internal", Message: "internal error; see the server log"}
			}
		}()
		return c.Next()
	}
}

func securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "same-origin")
	return c.Next()
}

// routeLabel records the matched route pattern for metrics.
func routeLabel(path string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(routeKey, path)
		return c.Next()
	}
}

var (
	requestMetricsMu sync.Mutex
	requestCounters  = map[string]*metrics.Counter{}
	requestDurations = map[string]*metrics.Histogram{}
)

// metricsMiddleware counts requests and their durations per route and status.
func metricsMiddleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		if e, ok := err.(*Error); ok {
			status = e.Status
		} else if fe, ok := err.(*fiber.Error); ok {
			status = fe.Code
		} else {
			status = problem.Classify(err).Status()
		}
	}
	route, _ := c.Locals(routeKey).(string)
	if route == "" {
		route = "unmatched"
	}
	key := c.Method() + " " + route + " " + strconv.Itoa(status)
	requestMetricsMu.Lock()
	counter, ok := requestCounters[key]
	if !ok {
		counter = metrics.NewCounter(fmt.Sprintf(`berth_http_requests_total{method=%q,route=%q,status="%d"}`, c.Method(), route, status))
		requestCounters[key] = counter
	}
	hkey := c.Method() + " " + route
	hist, ok := requestDurations[hkey]
	if !ok {
		hist = metrics.NewHistogram(fmt.Sprintf(`berth_http_request_duration_seconds{method=%q,route=%q}`, c.Method(), route))
		requestDurations[hkey] = hist
	}
	requestMetricsMu.Unlock()
	counter.Inc()
	hist.UpdateDuration(start)
	return err
}
