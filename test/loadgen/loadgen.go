// Package loadgen sends a steady stream of HTTP requests for one host
// through a proxy, as users would during a release, and records every
// outcome: transport errors, non-2xx statuses, and the answers of each
// version (the X-Version header of the test backend, test/backend), so a
// test can assert that a release dropped no request and a canary got its
// share.
//
// A Load spreads Rate requests per second over Clients keep-alive
// connections; one request in PostEvery is a POST with a small JSON body
// (which neither Go's transport nor Traefik retries once written).
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config shapes a load.
type Config struct {
	// Addr is the proxy's host:port, e.g. 127.0.0.1:8080.
	Addr string
	// Host is the Host header of every request.
	Host string
	// Path is the requested path ("/load" if empty).
	Path string
	// Rate is the number of requests per second (200 if zero).
	Rate int
	// Clients is the number of keep-alive connections (8 if zero).
	Clients int
	// PostEvery makes one request in PostEvery a POST (4 if zero, never if
	// negative).
	PostEvery int
	// Timeout bounds each request (10 s if zero).
	Timeout time.Duration
	// KeepFailures is how many failures are kept with their details (100 if
	// zero).
	KeepFailures int
}

func (c Config) withDefaults() Config {
	if c.Path == "" {
		c.Path = "/load"
	}
	if c.Rate <= 0 {
		c.Rate = 200
	}
	if c.Clients <= 0 {
		c.Clients = 8
	}
	if c.PostEvery == 0 {
		c.PostEvery = 4
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.KeepFailures <= 0 {
		c.KeepFailures = 100
	}
	return c
}

// PostBody is the body of the load's POSTs.
const PostBody = `{"order":42,"items":["a","b"]}`

// Failure is one request that failed: a transport error or a non-2xx
// status.
type Failure struct {
	// At is when the answer (or the error) arrived.
	At time.Time
	// Method is GET or POST.
	Method string
	// Kind names the failure: "connection refused", "status 502", ...
	Kind string
	// Status is the HTTP status, 0 for a transport error.
	Status int
	// Detail is the error, or the start of the answer's body.
	Detail string
	// Took is how long the request took.
	Took time.Duration
}

func (f Failure) String() string {
	return fmt.Sprintf("%s %s %s after %s: %s", f.At.Format("15:04:05.000"), f.Method, f.Kind, f.Took.Round(time.Millisecond), f.Detail)
}

// Load is a running load; Start begins it, Stop ends it. Its methods are
// safe for concurrent use.
type Load struct {
	cfg     Config
	url     string
	started time.Time

	mu        sync.Mutex
	c         Counts
	first     []Failure
	latencies []time.Duration
	firstSeen map[string]time.Time
	lastSeen  map[string]time.Time
	stopped   time.Time

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Counts are a load's outcomes up to a moment.
type Counts struct {
	// Sent is the number of requests that completed (answered or failed).
	Sent int
	// OK is the number of 2xx answers.
	OK int
	// TransportErrors is the number of requests without an HTTP answer.
	TransportErrors int
	// BadStatus is the number of non-2xx answers.
	BadStatus int
	// Dropped is the number of ticks skipped because every client was busy
	// (the rate was not held).
	Dropped int
	// Failures counts the failures by kind (see Failure.Kind), "GET " or
	// "POST " first.
	Failures map[string]int
	// Statuses counts the answers by HTTP status.
	Statuses map[int]int
	// Versions counts the 2xx answers by version: the X-Version header,
	// else the body's first word.
	Versions map[string]int
}

// Failed is the number of failed requests: transport errors and non-2xx
// statuses.
func (c Counts) Failed() int { return c.TransportErrors + c.BadStatus }

// Sub returns the outcomes between earlier and c.
func (c Counts) Sub(earlier Counts) Counts {
	d := Counts{Sent: c.Sent - earlier.Sent, OK: c.OK - earlier.OK, TransportErrors: c.TransportErrors - earlier.TransportErrors,
		BadStatus: c.BadStatus - earlier.BadStatus, Dropped: c.Dropped - earlier.Dropped,
		Failures: subMap(c.Failures, earlier.Failures), Statuses: subMap(c.Statuses, earlier.Statuses),
		Versions: subMap(c.Versions, earlier.Versions)}
	return d
}

func subMap[K comparable](now, before map[K]int) map[K]int {
	out := map[K]int{}
	for k, n := range now {
		if d := n - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// Share returns the fraction of the 2xx answers that carry version.
func (c Counts) Share(version string) float64 {
	if c.OK == 0 {
		return 0
	}
	return float64(c.Versions[version]) / float64(c.OK)
}

// VersionList formats the versions as "v1: 180, v2: 20", sorted.
func (c Counts) VersionList() string { return list(c.Versions) }

// FailureList formats the failures by kind, "none" without any.
func (c Counts) FailureList() string { return list(c.Failures) }

func list[K interface{ ~string | ~int }](m map[K]int) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%v: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// Start begins sending requests as cfg says.
func Start(cfg Config) *Load {
	cfg = cfg.withDefaults()
	l := &Load{cfg: cfg, url: "http://" + cfg.Addr + cfg.Path, started: time.Now(),
		c:         Counts{Failures: map[string]int{}, Statuses: map[int]int{}, Versions: map[string]int{}},
		firstSeen: map[string]time.Time{}, lastSeen: map[string]time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	tokens := make(chan struct{}, cfg.Clients)
	for range cfg.Clients {
		l.wg.Add(1)
		go l.client(tokens)
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(tokens)
		interval := time.Second / time.Duration(cfg.Rate)
		next := time.Now()
		for {
			next = next.Add(interval)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			select {
			case tokens <- struct{}{}:
			default:
				l.mu.Lock()
				l.c.Dropped++
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// client sends one request per token on its own keep-alive connection.
func (l *Load) client(tokens <-chan struct{}) {
	defer l.wg.Done()
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: l.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	n := 0
	for range tokens {
		n++
		var req *http.Request
		if l.cfg.PostEvery > 0 && n%l.cfg.PostEvery == 0 {
			req, _ = http.NewRequest(http.MethodPost, l.url, strings.NewReader(PostBody))
			req.Header.Set("Content-Type", "application/json")
		} else {
			req, _ = http.NewRequest(http.MethodGet, l.url, nil)
		}
		req.Host = l.cfg.Host
		t0 := time.Now()
		resp, err := c.Do(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		l.record(req.Method, t0, resp, body, err)
	}
}

// record counts one outcome.
func (l *Load) record(method string, t0 time.Time, resp *http.Response, body []byte, err error) {
	now := time.Now()
	took := now.Sub(t0)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.c.Sent++
	var f *Failure
	switch {
	case err != nil:
		l.c.TransportErrors++
		f = &Failure{Kind: ErrorKind(err), Detail: err.Error()}
	default:
		l.c.Statuses[resp.StatusCode]++
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			l.c.BadStatus++
			f = &Failure{Kind: fmt.Sprintf("status %d", resp.StatusCode), Status: resp.StatusCode, Detail: excerpt(body)}
			break
		}
		l.c.OK++
		l.latencies = append(l.latencies, took)
		v := version(resp, body)
		l.c.Versions[v]++
		if _, ok := l.firstSeen[v]; !ok {
			l.firstSeen[v] = now
		}
		l.lastSeen[v] = now
	}
	if f != nil {
		f.At, f.Method, f.Took = now, method, took
		l.c.Failures[method+" "+f.Kind]++
		if len(l.first) < l.cfg.KeepFailures {
			l.first = append(l.first, *f)
		}
	}
}

// version is the X-Version header, else the body's first word.
func version(resp *http.Response, body []byte) string {
	if v := resp.Header.Get("X-Version"); v != "" {
		return v
	}
	v, _, _ := strings.Cut(string(body), " ")
	return v
}

func excerpt(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// ErrorKind names a transport error for the failure table.
func ErrorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed (EOF)"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	s := err.Error()
	if len(s) > 60 {
		s = s[:60]
	}
	return "error: " + s
}

// Counts returns the outcomes so far; the difference of two (Counts.Sub)
// is what happened in between.
func (l *Load) Counts() Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.clone()
}

func (c Counts) clone() Counts {
	c.Failures, c.Statuses, c.Versions = maps.Clone(c.Failures), maps.Clone(c.Statuses), maps.Clone(c.Versions)
	return c
}

// FirstSeen returns when the first 2xx answer of version arrived.
func (l *Load) FirstSeen(version string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.firstSeen[version]
	return t, ok
}

// LastSeen returns when the latest 2xx answer of version arrived.
func (l *Load) LastSeen(version string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.lastSeen[version]
	return t, ok
}

// Stop ends the load and waits for the requests in flight; later calls do
// nothing.
func (l *Load) Stop() {
	l.once.Do(func() {
		l.cancel()
		l.wg.Wait()
		l.mu.Lock()
		l.stopped = time.Now()
		l.mu.Unlock()
	})
}

// Result is a load's outcome.
type Result struct {
	Counts
	// Config is the load's configuration, defaults filled in.
	Config Config
	// Started is when the load started; Elapsed how long it ran (so far,
	// if not stopped).
	Started time.Time
	Elapsed time.Duration
	// Rate is the achieved rate, requests per second.
	Rate float64
	// P50, P99 and Max are the latencies of the 2xx answers.
	P50, P99, Max time.Duration
	// First are the first failures (up to Config.KeepFailures), in order.
	First []Failure
}

// Result returns the outcome so far (the whole run once stopped).
func (l *Load) Result() Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	end := l.stopped
	if end.IsZero() {
		end = time.Now()
	}
	r := Result{Counts: l.c.clone(), Config: l.cfg, Started: l.started, Elapsed: end.Sub(l.started), First: slices.Clone(l.first)}
	if r.Elapsed > 0 {
		r.Rate = float64(r.Sent) / r.Elapsed.Seconds()
	}
	lat := slices.Clone(l.latencies)
	r.P50, r.P99, r.Max = Percentile(lat, 50), Percentile(lat, 99), Percentile(lat, 100)
	return r
}

// Summary describes the result in one paragraph.
func (r Result) Summary() string {
	return fmt.Sprintf("%d requests in %s (%.0f/s of %d/s asked, %d ticks dropped) for %s through %s: %d ok, %d failed "+
		"(%d transport errors, %d non-2xx); failures: %s; versions: %s; latency p50 %s p99 %s max %s",
		r.Sent, r.Elapsed.Round(time.Millisecond), r.Rate, r.Config.Rate, r.Dropped, r.Config.Host, r.Config.Addr, r.OK,
		r.Failed(), r.TransportErrors, r.BadStatus, r.FailureList(), r.VersionList(),
		r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
}

// Err is nil when no request failed, else an error with the summary and
// the first failures (at most 20), with their times.
func (r Result) Err() error {
	if r.Failed() == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d requests failed: %s\nfirst failures (load started %s):", r.Failed(), r.Sent,
		r.Summary(), r.Started.Format("15:04:05.000"))
	for i, f := range r.First {
		if i == 20 {
			fmt.Fprintf(&b, "\n  … %d more", r.Failed()-20)
			break
		}
		fmt.Fprintf(&b, "\n  %s (+%s)", f, f.At.Sub(r.Started).Round(time.Millisecond))
	}
	return errors.New(b.String())
}

// TB is the part of testing.TB AssertNoFailures uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// AssertNoFailures logs the result's summary and fails t (without
// stopping it) when a request failed, listing the first failures.
func (r Result) AssertNoFailures(t TB) {
	t.Helper()
	if err := r.Err(); err != nil {
		t.Errorf("%v", err)
		return
	}
	t.Logf("load: %s", r.Summary())
}

// Percentile returns the p-th percentile (0-100, nearest rank) of ds,
// which it sorts; zero when ds is empty.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// LastSeenExcept returns when the latest 2xx answer of any version other
// than version arrived (zero time if none did): once a release's version
// serves all traffic, it is when the previous ones stopped answering.
func (l *Load) LastSeenExcept(version string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last time.Time
	for v, t := range l.lastSeen {
		if v != version && t.After(last) {
			last = t
		}
	}
	return last
}

// WaitOnly waits until, during a whole window, every request answered 2xx
// from version alone, and returns that window's counts; it gives up when
// ctx ends, returning the last window's counts and an error describing
// them.
func (l *Load) WaitOnly(ctx context.Context, version string, window time.Duration) (Counts, error) {
	var last Counts
	for {
		before := l.Counts()
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("%s never alone served %s for %s: last window: versions %s, failures %s: %w",
				version, l.cfg.Host, window, last.VersionList(), last.FailureList(), ctx.Err())
		case <-time.After(window):
		}
		last = l.Counts().Sub(before)
		if last.Sent > 0 && last.Failed() == 0 && last.Versions[version] == last.OK {
			return last, nil
		}
	}
}
