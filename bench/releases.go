package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/berth-dev/berth/test/loadgen"
)

// shape is an application's behaviour during a release, set by the test
// backend's environment (test/backend), deployed once under load.
type shape struct {
	// name is printed in the table and starts the figures' names.
	name string
	// env is the release's environment besides MESSAGE (DRAIN=1 is
	// always added: old tasks drain on SIGTERM, as web servers do).
	env map[string]string
	// readiness is PATCHed on the application before its first release
	// (nil: berth's default, the port check).
	readiness map[string]any
	// readinessName is printed in the table.
	readinessName string
	// fails is true for a release that must fail (and leave the previous
	// version serving).
	fails bool
}

// httpReadiness is the HTTP readiness check of the shapes that use one.
var httpReadiness = map[string]any{"mode": "http", "path": "/healthz", "status_min": 200, "status_max": 399,
	"interval_ms": 250, "timeout_ms": 1000, "successes": 1, "timeout_seconds": 60}

// shapes are the app shapes of issue 14, side by side: the time to the new
// version serving all traffic with no readiness check, berth's default
// port check and an HTTP check, and the failed requests of each.
var shapes = []shape{
	{name: "instant app", readinessName: "port (default)"},
	{name: "instant app", readiness: map[string]any{"mode": "none"}, readinessName: "none"},
	{name: "instant app", readiness: httpReadiness, readinessName: "HTTP /healthz"},
	{name: "slow start (LISTEN_AFTER=3s)", env: map[string]string{"LISTEN_AFTER": "3s"}, readinessName: "port (default)"},
	{name: "slow start (LISTEN_AFTER=3s)", env: map[string]string{"LISTEN_AFTER": "3s"}, readiness: httpReadiness, readinessName: "HTTP /healthz"},
	{name: "crash after answering (EXIT_AFTER=2s)", env: map[string]string{"EXIT_AFTER": "2s"}, readinessName: "port (default)", fails: true},
	{name: "never ready (NEVER_LISTEN=1)", env: map[string]string{"NEVER_LISTEN": "1"},
		readiness: map[string]any{"mode": "port", "timeout_seconds": 15}, readinessName: "port, 15 s timeout", fails: true},
}

// shapeResult is what one shape's release measured.
type shapeResult struct {
	shape
	status string
	// readinessErr is the API's refusal of the readiness setting, if any.
	readinessErr string
	load         loadgen.Result
	// allNew is the time from the deploy call to the new version serving
	// all traffic (0 if it never did); done to the deployment's end.
	allNew, done time.Duration
}

// releaseShapes deploys one release of each shape under the steady load,
// each on its own application, and reports the failed requests and the
// time to the new version serving all traffic side by side.
func (b *bench) releaseShapes(ctx context.Context, env string) error {
	b.r.section(fmt.Sprintf("releases by app shape: one release each under %d requests/s (¼ POST) from %d keep-alive clients, "+
		"images FROM scratch without HEALTHCHECK", b.cfg.rate, b.cfg.clients))
	var results []shapeResult
	for i, sh := range shapes {
		res, err := b.releaseShape(ctx, env, i, sh)
		if err != nil {
			return fmt.Errorf("shape %s (%s): %w", sh.name, sh.readinessName, err)
		}
		results = append(results, res)
	}
	b.r.note("%-40s %-28s %-10s %14s %12s %12s  failures", "shape", "readiness", "deployment", "failed/sent", "all traffic", "done")
	for _, res := range results {
		allNew := "-"
		if res.allNew > 0 {
			allNew = ms(res.allNew)
		}
		readiness := res.readinessName
		if res.readinessErr != "" {
			readiness += " (refused)"
		}
		b.r.note("%-40s %-28s %-10s %14s %12s %12s  %s", res.name, readiness, res.status,
			fmt.Sprintf("%d/%d", res.load.Failed(), res.load.Sent), allNew, ms(res.done), res.load.FailureList())
	}
	for _, res := range results {
		if res.readinessErr != "" {
			b.r.note("readiness %s refused for %s: %s", res.readinessName, res.name, res.readinessErr)
		}
	}
	for _, res := range results {
		label := res.name + ", " + res.readinessName
		if res.readinessErr != "" {
			status, _, _ := strings.Cut(res.readinessErr, " ")
			b.r.row("release "+label+": readiness setting", "refused "+status, "accepted", false)
		}
		b.r.row("release "+label+": failed requests", fmt.Sprintf("%d", res.load.Failed()), "0", res.load.Failed() == 0)
		want := "succeeded"
		if res.fails {
			want = "failed"
		}
		b.r.row("release "+label+": deployment", res.status, want, res.status == want)
		if !res.fails {
			value := "never"
			if res.allNew > 0 {
				value = ms(res.allNew)
			}
			b.r.row("release "+label+": deploy → new version serving all traffic", value, "-", true)
		}
	}
	return nil
}

// releaseShape creates an application for sh, deploys a first release,
// then deploys sh's release under load and measures it; the application
// is deleted at the end.
func (b *bench) releaseShape(ctx context.Context, env string, i int, sh shape) (shapeResult, error) {
	res := shapeResult{shape: sh}
	host := fmt.Sprintf("shape%d.bench.test", i)
	id, err := b.in.api.app(ctx, env, fmt.Sprintf("shape%d", i), b.images["plain"])
	if err != nil {
		return res, err
	}
	defer func() {
		if err := b.in.api.call(context.Background(), "DELETE", "/applications/"+id, nil, nil); err != nil {
			b.r.note("delete the application of %s: %v", sh.name, err)
		}
	}()
	if _, err := b.in.api.domain(ctx, id, map[string]any{"host": host}); err != nil {
		return res, err
	}
	if sh.readiness != nil {
		err := b.in.api.call(ctx, "PATCH", "/applications/"+id, map[string]any{"readiness": sh.readiness}, nil)
		if se := (*statusError)(nil); errors.As(err, &se) && se.status < 500 {
			res.readinessErr = fmt.Sprintf("%d %s", se.status, se.body)
		} else if err != nil {
			return res, err
		}
	}
	first, next := fmt.Sprintf("shape%d-first", i), fmt.Sprintf("shape%d-next", i)
	firstEnv := map[string]string{"DRAIN": "1", "MESSAGE": first}
	if !sh.fails {
		maps.Copy(firstEnv, sh.env)
	}
	if err := b.in.api.call(ctx, "PUT", "/applications/"+id+"/variables", map[string]any{"variables": firstEnv}, nil); err != nil {
		return res, err
	}
	if err := b.deployAndWait(ctx, id); err != nil {
		return res, err
	}
	l := b.startLoad(host)
	defer l.Stop()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	_, err = l.WaitOnly(wctx, first, time.Second)
	cancel()
	if err != nil {
		return res, err
	}

	nextEnv := map[string]string{"DRAIN": "1", "MESSAGE": next}
	maps.Copy(nextEnv, sh.env)
	if err := b.in.api.call(ctx, "PUT", "/applications/"+id+"/variables", map[string]any{"variables": nextEnv}, nil); err != nil {
		return res, err
	}
	t0 := time.Now()
	d, err := b.deploy(ctx, id)
	if err != nil {
		return res, err
	}
	d, err = b.in.api.waitDeployment(ctx, d.ID, 5*time.Minute)
	res.done, res.status = time.Since(t0), d.Status
	if err != nil && !d.finished() {
		return res, err
	}
	// The version that should serve at the end: the new one, or the
	// previous one after a failed release.
	final := next
	if sh.fails {
		final = first
	}
	wctx, cancel = context.WithTimeout(ctx, time.Minute)
	_, waitErr := l.WaitOnly(wctx, final, time.Second)
	cancel()
	if waitErr != nil {
		b.r.note("%s (%s): %v", sh.name, sh.readinessName, waitErr)
	}
	if seen, ok := l.FirstSeen(next); ok && waitErr == nil && !sh.fails {
		if last := l.LastSeenExcept(next); last.After(seen) {
			seen = last
		}
		res.allNew = seen.Sub(t0)
	}
	time.Sleep(2 * time.Second)
	l.Stop()
	res.load = l.Result()
	return res, nil
}
