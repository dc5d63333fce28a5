package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RequestStat is the traffic one application received on one domain during
// one minute, from the proxy's access log (core/accesslog).
type RequestStat struct {
	// ApplicationID is the application the requests were routed to.
	ApplicationID uuid.UUID `json:"application_id"`
	// Host is the domain the requests were for.
	Host string `json:"host"`
	// Minute is the start of the minute (UTC, truncated).
	Minute time.Time `json:"minute"`
	// Requests counts every request.
	Requests int64 `json:"requests"`
	// Status counts the requests by status class: [0] 1xx ... [4] 5xx.
	Status [5]int64 `json:"status"`
	// DurationMsSum adds up the requests' durations in milliseconds.
	DurationMsSum float64 `json:"duration_ms_sum"`
	// Latency counts the requests per latency bucket (bounds in
	// core/accesslog; the last bucket is unbounded).
	Latency []int64 `json:"latency"`
}

// RequestRecord is one request in an application's latest requests.
type RequestRecord struct {
	// ApplicationID is the application the request was routed to.
	ApplicationID uuid.UUID `json:"-"`
	// At is when the request started.
	At time.Time `json:"at"`
	// Method is the HTTP method.
	Method string `json:"method"`
	// Host is the requested host.
	Host string `json:"host"`
	// Path is the requested path without its query string.
	Path string `json:"path"`
	// Status is the status code sent to the client.
	Status int `json:"status"`
	// DurationMs is how long the proxy took to answer, in milliseconds.
	DurationMs float64 `json:"duration_ms"`
	// Client is the client's address.
	Client string `json:"client"`
}

// RequestFlush is what a reader of the access log stores at once: the
// figures of the lines it read through Through, and that position.
type RequestFlush struct {
	// Source names the access log (the proxy container's name).
	Source string
	// Through is the timestamp of the last line accounted for.
	Through time.Time
	// Stats are added to the stored per-minute rows.
	Stats []RequestStat
	// Requests are appended to the latest requests.
	Requests []RequestRecord
	// KeepPerApp is how many latest requests each application keeps.
	KeepPerApp int
}

// FlushRequests adds f's figures to the stored ones and moves the cursor of
// f.Source to f.Through, in one transaction: after a crash the lines after
// the stored cursor are read again, and no line is counted twice. Figures
// of applications deleted meanwhile are dropped.
func (s *Store) FlushRequests(ctx context.Context, f RequestFlush) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := tx.addRequestStats(ctx, f.Stats); err != nil {
			return err
		}
		if err := tx.appendRequests(ctx, f.Requests, f.KeepPerApp); err != nil {
			return err
		}
		_, err := tx.pool.Exec(ctx, `INSERT INTO request_log_cursor (source, last_at_ns) VALUES ($1, $2)
			ON CONFLICT (source) DO UPDATE SET last_at_ns = greatest(request_log_cursor.last_at_ns, excluded.last_at_ns)`,
			f.Source, f.Through.UnixNano())
		return mapErr(err, "request log cursor")
	})
}

// addRequestStats upserts stats with one statement.
func (s *Store) addRequestStats(ctx context.Context, stats []RequestStat) error {
	if len(stats) == 0 {
		return nil
	}
	n := len(stats)
	apps, hosts, minutes := make([]uuid.UUID, n), make([]string, n), make([]time.Time, n)
	reqs, sums, hists := make([]int64, n), make([]float64, n), make([]string, n)
	var classes [5][]int64
	for i := range classes {
		classes[i] = make([]int64, n)
	}
	for i, st := range stats {
		apps[i], hosts[i], minutes[i], reqs[i], sums[i] = st.ApplicationID, st.Host, st.Minute, st.Requests, st.DurationMsSum
		for c := range classes {
			classes[c][i] = st.Status[c]
		}
		hists[i] = int64ArrayLiteral(st.Latency)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO request_stats AS r (application_id, host, minute, requests,
			status_1xx, status_2xx, status_3xx, status_4xx, status_5xx, duration_ms_sum, latency_buckets)
		SELECT t.app, t.host, t.minute, t.requests, t.s1, t.s2, t.s3, t.s4, t.s5, t.sum, t.hist::bigint[]
		FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[],
			$7::bigint[], $8::bigint[], $9::bigint[], $10::float8[], $11::text[])
			AS t(app, host, minute, requests, s1, s2, s3, s4, s5, sum, hist)
		JOIN applications a ON a.id = t.app
		ON CONFLICT (application_id, minute, host) DO UPDATE SET
			requests = r.requests + excluded.requests,
			status_1xx = r.status_1xx + excluded.status_1xx, status_2xx = r.status_2xx + excluded.status_2xx,
			status_3xx = r.status_3xx + excluded.status_3xx, status_4xx = r.status_4xx + excluded.status_4xx,
			status_5xx = r.status_5xx + excluded.status_5xx,
			duration_ms_sum = r.duration_ms_sum + excluded.duration_ms_sum,
			latency_buckets = ARRAY(SELECT coalesce(u.a, 0) + coalesce(u.b, 0)
				FROM unnest(r.latency_buckets, excluded.latency_buckets) WITH ORDINALITY AS u(a, b, i) ORDER BY u.i)`,
		apps, hosts, minutes, reqs, classes[0], classes[1], classes[2], classes[3], classes[4], sums, hists)
	return mapErr(err, "request stats")
}

// int64ArrayLiteral renders v as a PostgreSQL array literal, {1,2,3}.
func int64ArrayLiteral(v []int64) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(x, 10))
	}
	b.WriteByte('}')
	return b.String()
}

// appendRequests inserts recs with one statement, then trims the latest
// requests of the applications concerned to the newest keep.
func (s *Store) appendRequests(ctx context.Context, recs []RequestRecord, keep int) error {
	if len(recs) == 0 {
		return nil
	}
	n := len(recs)
	apps, ats, methods, hosts, paths := make([]uuid.UUID, n), make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n)
	statuses, durs, clients := make([]int32, n), make([]float64, n), make([]string, n)
	seen := map[uuid.UUID]bool{}
	var touched []uuid.UUID
	for i, r := range recs {
		apps[i], ats[i], methods[i], hosts[i], paths[i] = r.ApplicationID, r.At, r.Method, r.Host, r.Path
		statuses[i], durs[i], clients[i] = int32(r.Status), r.DurationMs, r.Client
		if !seen[r.ApplicationID] {
			seen[r.ApplicationID] = true
			touched = append(touched, r.ApplicationID)
		}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO request_log (application_id, at, method, host, path, status, duration_ms, client)
		SELECT t.app, t.at, t.method, t.host, t.path, t.status, t.dur, t.client
		FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::int[], $7::float8[], $8::text[])
			WITH ORDINALITY AS t(app, at, method, host, path, status, dur, client, i)
		JOIN applications a ON a.id = t.app
		ORDER BY t.i`, apps, ats, methods, hosts, paths, statuses, durs, clients)
	if err != nil {
		return mapErr(err, "request log")
	}
	if keep <= 0 {
		keep = 1
	}
	_, err = s.pool.Exec(ctx, `DELETE FROM request_log r USING (
			SELECT a.app, (SELECT l.id FROM request_log l WHERE l.application_id = a.app
				ORDER BY l.id DESC OFFSET $2 LIMIT 1) AS drop_from
			FROM unnest($1::uuid[]) AS a(app)) k
		WHERE r.application_id = k.app AND r.id <= k.drop_from`, touched, keep)
	return mapErr(err, "request log")
}

// RequestCursor returns the timestamp of the last access log line of
// source whose figures are stored; zero when none is.
func (s *Store) RequestCursor(ctx context.Context, source string) (time.Time, error) {
	var ns int64
	err := s.pool.QueryRow(ctx, `SELECT last_at_ns FROM request_log_cursor WHERE source = $1`, source).Scan(&ns)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, mapErr(err, "request log cursor")
	}
	return time.Unix(0, ns).UTC(), nil
}

// RequestStats returns app's per-minute rows with from <= minute < to, by
// minute; host, when not empty, keeps that domain's only.
func (s *Store) RequestStats(ctx context.Context, app uuid.UUID, from, to time.Time, host string) ([]RequestStat, error) {
	rows, err := s.pool.Query(ctx, `SELECT application_id, host, minute, requests, status_1xx, status_2xx, status_3xx,
			status_4xx, status_5xx, duration_ms_sum, latency_buckets
		FROM request_stats WHERE application_id = $1 AND minute >= $2 AND minute < $3 AND ($4 = '' OR host = $4)
		ORDER BY minute, host`, app, from, to, host)
	if err != nil {
		return nil, mapErr(err, "request stats")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RequestStat, error) {
		var st RequestStat
		err := r.Scan(&st.ApplicationID, &st.Host, &st.Minute, &st.Requests, &st.Status[0], &st.Status[1], &st.Status[2],
			&st.Status[3], &st.Status[4], &st.DurationMsSum, &st.Latency)
		return st, err
	})
	return out, mapErr(err, "request stats")
}

// RequestFilter selects among an application's latest requests.
type RequestFilter struct {
	// Status keeps one status code (404); 0 keeps all.
	Status int
	// Class keeps one status class (5 for 5xx); 0 keeps all.
	Class int
	// Method keeps one HTTP method.
	Method string
	// Host keeps one host.
	Host string
	// PathPrefix keeps paths starting with it.
	PathPrefix string
	// Limit bounds the answer.
	Limit int
}

// LatestRequests returns app's latest requests matching f, newest first.
func (s *Store) LatestRequests(ctx context.Context, app uuid.UUID, f RequestFilter) ([]RequestRecord, error) {
	var pattern string
	if f.PathPrefix != "" {
		pattern = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.PathPrefix) + "%"
	}
	rows, err := s.pool.Query(ctx, `SELECT application_id, at, method, host, path, status, duration_ms, client
		FROM request_log WHERE application_id = $1
			AND ($2 = 0 OR status = $2) AND ($3 = 0 OR status / 100 = $3)
			AND ($4 = '' OR method = $4) AND ($5 = '' OR host = $5) AND ($6 = '' OR path LIKE $6)
		ORDER BY at DESC, id DESC LIMIT $7`, app, f.Status, f.Class, f.Method, f.Host, pattern, f.Limit)
	if err != nil {
		return nil, mapErr(err, "request log")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RequestRecord, error) {
		var rec RequestRecord
		err := r.Scan(&rec.ApplicationID, &rec.At, &rec.Method, &rec.Host, &rec.Path, &rec.Status, &rec.DurationMs, &rec.Client)
		return rec, err
	})
	return out, mapErr(err, "request log")
}

// DeleteRequestStatsBefore deletes the per-minute rows older than before
// and returns how many went.
func (s *Store) DeleteRequestStatsBefore(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM request_stats WHERE minute < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("store: delete request stats: %w", err)
	}
	return tag.RowsAffected(), nil
}

// DomainRoute ties a domain to its application, for attributing the
// proxy's requests (its routers are named after domain ids).
type DomainRoute struct {
	// ID is the domain's id.
	ID uuid.UUID
	// ApplicationID is its application.
	ApplicationID uuid.UUID
	// Host is the domain's host name.
	Host string
}

// DomainRoutes returns every domain with its application.
func (s *Store) DomainRoutes(ctx context.Context) ([]DomainRoute, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, application_id, host FROM domains`)
	if err != nil {
		return nil, mapErr(err, "domains")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DomainRoute, error) {
		var d DomainRoute
		err := r.Scan(&d.ID, &d.ApplicationID, &d.Host)
		return d, err
	})
	return out, mapErr(err, "domains")
}
