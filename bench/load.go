package main

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

// load sends a steady stream of requests for one host through Traefik:
// rate requests per second spread over clients keep-alive connections, one
// in four a POST with a small body (which neither Go's transport nor
// Traefik retries once written), and records every outcome.
type load struct {
	url, host     string
	rate, clients int

	mu        sync.Mutex
	sent      int
	dropped   int // ticks skipped because every client was busy
	failures  map[string]int
	latencies []time.Duration
	firstSeen map[string]time.Time // first answer carrying each MESSAGE
	started   time.Time
	elapsed   time.Duration

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startLoad begins sending requests to http://127.0.0.1:<port>/ with Host host.
func startLoad(port int, host string, rate, clients int) *load {
	l := &load{url: fmt.Sprintf("http://127.0.0.1:%d/load", port), host: host, rate: rate, clients: clients,
		failures: map[string]int{}, firstSeen: map[string]time.Time{}, started: time.Now()}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	tokens := make(chan struct{}, clients)
	for range clients {
		l.wg.Add(1)
		go l.client(tokens)
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(tokens)
		interval := time.Second / time.Duration(rate)
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
				l.dropped++
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// client sends one request per token on its own keep-alive connection.
func (l *load) client(tokens <-chan struct{}) {
	defer l.wg.Done()
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	n := 0
	for range tokens {
		n++
		var req *http.Request
		if n%4 == 0 {
			req, _ = http.NewRequest("POST", l.url, strings.NewReader(`{"order":42,"items":["a","b"]}`))
			req.Header.Set("Content-Type", "application/json")
		} else {
			req, _ = http.NewRequest("GET", l.url, nil)
		}
		req.Host = l.host
		t0 := time.Now()
		resp, err := c.Do(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		took := time.Since(t0)
		l.mu.Lock()
		l.sent++
		switch {
		case err != nil:
			l.failures[req.Method+" "+errorKind(err)]++
		case resp.StatusCode != http.StatusOK:
			l.failures[fmt.Sprintf("%s status %d", req.Method, resp.StatusCode)]++
		default:
			l.latencies = append(l.latencies, took)
			msg, _, _ := strings.Cut(string(body), " ")
			if _, ok := l.firstSeen[msg]; !ok {
				l.firstSeen[msg] = time.Now()
			}
		}
		l.mu.Unlock()
	}
}

// errorKind names a client error for the failure table.
func errorKind(err error) string {
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

// seen returns when the first answer carrying msg arrived.
func (l *load) seen(msg string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.firstSeen[msg]
	return t, ok
}

// stop ends the load and waits for requests in flight.
func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
	l.elapsed = time.Since(l.started)
}

// loadResult summarises a stopped load.
type loadResult struct {
	sent, failed, dropped int
	failures              map[string]int
	p50, p99, max         time.Duration
	rate                  float64
}

func (l *load) result() loadResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := loadResult{sent: l.sent, dropped: l.dropped, failures: maps.Clone(l.failures),
		rate: float64(l.sent) / l.elapsed.Seconds()}
	for _, n := range l.failures {
		r.failed += n
	}
	lat := slices.Clone(l.latencies)
	r.p50, r.p99, r.max = percentile(lat, 50), percentile(lat, 99), percentile(lat, 100)
	return r
}

// kinds lists failures as "kind: n" sorted by kind.
func (r loadResult) kinds() string {
	if len(r.failures) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.failures)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, r.failures[k]))
	}
	return strings.Join(parts, ", ")
}

// probe requests host through Traefik until the answer's status is 200 and
// its body starts with prefix, and returns when that happened. It reuses one
// keep-alive connection, like a browser refreshing a page.
type probe struct {
	url string
	c   *http.Client
}

func newProbe(port int) *probe {
	return &probe{url: fmt.Sprintf("http://127.0.0.1:%d/probe", port),
		c: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get returns the status and body of one request for host.
func (p *probe) get(host string) (int, string, error) {
	req, _ := http.NewRequest("GET", p.url, nil)
	req.Host = host
	resp, err := p.c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// until polls every interval until host answers 200 with a body starting
// with prefix, and returns the time of that answer.
func (p *probe) until(ctx context.Context, host, prefix string, interval time.Duration) (time.Time, error) {
	var last string
	for {
		status, body, err := p.get(host)
		if err == nil && status == http.StatusOK && strings.HasPrefix(body, prefix) {
			return time.Now(), nil
		}
		last = fmt.Sprintf("%d %q %v", status, body, err)
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%s never answered %q (last: %s): %w", host, prefix, last, ctx.Err())
		case <-time.After(interval):
		}
	}
}
