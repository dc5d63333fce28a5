package api

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/accesslog"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
)

// Request analytics (core/accesslog): an application's traffic from the
// proxy's access log.

var requestStatsQuery = []QueryParam{
	{"from", "start of the range, RFC 3339 (default: an hour before to)", "string"},
	{"to", "end of the range, RFC 3339 (default: now)", "string"},
	{"step", "width of each point, whole minutes, e.g. 5m (default: about 60 points)", "string"},
	{"domain", "only this domain's requests", "string"},
}

var latestRequestsQuery = []QueryParam{
	{"status", "a status class (5xx) or code (404)", "string"},
	{"method", "only this HTTP method", "string"},
	{"host", "only this host", "string"},
	{"path", "only paths starting with this", "string"},
	{"limit", "at most this many, 1 to 1000 (default 100)", "integer"},
}

// requestStats answers GET /applications/:id/requests/stats.
func (s *Server) requestStats(c *fiber.Ctx) (accesslog.Series, error) {
	app := resolved(c).Application
	now := time.Now().UTC()
	to, err := timeQuery(c, "to", now)
	if err != nil {
		return accesslog.Series{}, err
	}
	from, err := timeQuery(c, "from", to.Add(-time.Hour))
	if err != nil {
		return accesslog.Series{}, err
	}
	if !from.Before(to) {
		return accesslog.Series{}, invalid("from", "must be before to")
	}
	if to.Sub(from) > accesslog.MaxRange {
		return accesslog.Series{}, invalid("from", "the range must be at most %s", accesslog.MaxRange)
	}
	from, to = accesslog.AlignRange(from, to)
	step := accesslog.AutoStep(to.Sub(from))
	if v := c.Query("step"); v != "" {
		if step, err = time.ParseDuration(v); err != nil {
			return accesslog.Series{}, invalid("step", "%q is not a duration such as 5m", v)
		}
		if err := accesslog.CheckStep(step, from, to); err != nil {
			return accesslog.Series{}, invalid("step", "%s", err)
		}
	}
	domain := strings.ToLower(c.Query("domain"))
	if len(domain) > 253 {
		return accesslog.Series{}, invalid("domain", "must be at most 253 characters")
	}
	rows, err := s.store.RequestStats(c.UserContext(), app.ID, from, to, domain)
	if err != nil {
		return accesslog.Series{}, err
	}
	return accesslog.BuildSeries(rows, from, to, step), nil
}

// timeQuery reads an RFC 3339 time parameter, def when absent.
func timeQuery(c *fiber.Ctx, name string, def time.Time) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, invalid(name, "%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", v)
	}
	return t.UTC(), nil
}

// latestRequests answers GET /applications/:id/requests.
func (s *Server) latestRequests(c *fiber.Ctx) (List[store.RequestRecord], error) {
	app := resolved(c).Application
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return List[store.RequestRecord]{}, invalid("limit", "must be between 1 and %d", accesslog.MaxLatest)
		}
		limit = n
	}
	f, err := accesslog.LatestFilter(c.Query("status"), c.Query("method"), c.Query("host"), c.Query("path"), limit)
	if fe := (*accesslog.FieldError)(nil); errors.As(err, &fe) {
		return List[store.RequestRecord]{}, invalid(fe.Field, "%s", fe.Message)
	}
	items, err := s.store.LatestRequests(c.UserContext(), app.ID, f)
	if items == nil {
		items = []store.RequestRecord{}
	}
	return List[store.RequestRecord]{Items: items}, err
}
