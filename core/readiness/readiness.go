// Package readiness decides when a new task may take traffic, by checking
// it from outside the image: berth sends HTTP requests to the task over the
// proxy network through a Traefik probe router (proxy.Probe) on Traefik's
// loopback-only API entry point. It needs nothing in the image (no shell,
// no curl, no HEALTHCHECK), and it reaches tasks on any node, because
// Traefik reaches them over the overlay network exactly as it will when
// the task serves (docs/architecture.md, "Releases").
package readiness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/store"
)

// Target is one task to check.
type Target struct {
	// Task is the Swarm task id.
	Task string
	// Address is the task's IP address on the proxy network.
	Address string
	// Port is the application's port.
	Port int
}

// ProbeID is the proxy.Probe id of a target.
func (t Target) ProbeID() string { return "t" + t.Task }

// Probe is the proxy probe router that reaches t.
func (t Target) Probe() proxy.Probe {
	return proxy.Probe{ID: t.ProbeID(), Address: t.Address, Port: t.Port}
}

// Checker sends readiness checks through Traefik's probe routers.
type Checker struct {
	// base is Traefik's API entry point, e.g. http://127.0.0.1:8082.
	base   string
	client *http.Client
}

// NewChecker returns a Checker that reaches Traefik's API entry point at
// base.
func NewChecker(base string) *Checker {
	return &Checker{base: base, client: &http.Client{
		// Each attempt opens its own connection: a kept-alive one to
		// Traefik would be fine, but the task behind must be reached anew.
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer
		},
	}}
}

// Attempt is the result of one check.
type Attempt struct {
	// OK: the attempt counts as a success.
	OK bool
	// Result is "HTTP 200", "not routed yet", "proxy: 502 (nothing
	// listens)", "timeout"...
	Result string
}

// Once performs one check of t.
func (c *Checker) Once(ctx context.Context, t Target, r store.Readiness) Attempt {
	r = r.Effective()
	ctx, cancel := context.WithTimeout(ctx, time.Duration(r.TimeoutMS)*time.Millisecond)
	defer cancel()
	path := r.Path
	if r.Mode != store.ReadinessHTTP {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return Attempt{Result: "bad request: " + err.Error()}
	}
	req.Host = proxy.ProbeHost(t.ProbeID())
	req.Header.Set("User-Agent", "berth-readiness")
	resp, err := c.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Attempt{Result: fmt.Sprintf("no answer within %d ms", r.TimeoutMS)}
		}
		return Attempt{Result: "proxy unreachable: " + err.Error()}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return judge(r, resp.StatusCode, resp.Header.Get(proxy.ProbeHeader) == t.ProbeID())
}

// notRouted is the result of an attempt Traefik answered itself because
// it has not loaded the probe router yet (it applies a new configuration
// within a few hundred milliseconds).
const notRouted = "not routed yet"

// judge turns one answer into an Attempt. fromTask says the answer came
// from the task (Traefik marks those); other answers are Traefik's own: its
// probe router is not loaded yet (404) or the task did not answer (502,
// 504).
func judge(r store.Readiness, status int, fromTask bool) Attempt {
	if !fromTask {
		switch status {
		case http.StatusNotFound:
			return Attempt{Result: notRouted}
		case http.StatusBadGateway:
			return Attempt{Result: "nothing answers on the port yet (proxy: 502)"}
		case http.StatusGatewayTimeout:
			return Attempt{Result: "no answer from the task (proxy: 504)"}
		}
		return Attempt{Result: "proxy answered " + strconv.Itoa(status)}
	}
	res := "HTTP " + strconv.Itoa(status)
	switch r.Mode {
	case store.ReadinessHTTP:
		return Attempt{OK: status >= r.StatusMin && status <= r.StatusMax, Result: res}
	default:
		// The port answers HTTP; a gateway error means the app itself is
		// not ready to serve (e.g. still warming up behind its own proxy).
		ok := status != http.StatusBadGateway && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout
		return Attempt{OK: ok, Result: res}
	}
}

// Wait checks t every interval until it succeeded the check's Successes
// times in a row (ready), ctx ends, or the check's timeout passes. alive
// is asked before each attempt and ends the wait with its error (the task
// stopped). It returns what happened, for the deployment record.
func (c *Checker) Wait(ctx context.Context, t Target, r store.Readiness, alive func() error) (store.TaskReadiness, error) {
	r = r.Effective()
	rep := store.TaskReadiness{Task: t.Task, Address: t.Address}
	start := time.Now()
	deadline := time.NewTimer(time.Duration(r.TimeoutSeconds) * time.Second)
	defer deadline.Stop()
	interval := time.Duration(r.IntervalMS) * time.Millisecond
	streak := 0
	for {
		if alive != nil {
			if err := alive(); err != nil {
				rep.Error = err.Error()
				return rep, err
			}
		}
		a := c.Once(ctx, t, r)
		rep.Attempts++
		rep.Last = a.Result
		if a.OK {
			streak++
			if streak >= r.Successes {
				rep.ReadyMS = max(time.Since(start).Milliseconds(), 1)
				return rep, nil
			}
		} else {
			streak = 0
		}
		select {
		case <-ctx.Done():
			rep.Error = ctx.Err().Error()
			return rep, ctx.Err()
		case <-deadline.C:
			err := fmt.Errorf("task %s not ready after %ds (%d checks; last: %s)", short(t.Task), r.TimeoutSeconds, rep.Attempts, rep.Last)
			rep.Error = err.Error()
			return rep, err
		case <-time.After(pause(interval, a)):
		}
	}
}

// pause is the wait before the next attempt: shorter while Traefik has not
// loaded the probe router, so the first real check is not a whole
// interval late.
func pause(interval time.Duration, last Attempt) time.Duration {
	if last.Result == notRouted {
		return min(interval, 100*time.Millisecond)
	}
	return interval
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
