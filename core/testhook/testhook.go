// Package testhook lets fault-injection tests stop berth at a precise step.
//
// TEST ONLY. When the environment variable BERTH_TEST_PAUSE_AT names a
// point (e.g. "deploy.release"), the code reaching Pause at that point
// logs "testhook: paused at <point>" and blocks until its context ends, so
// a test can SIGKILL the process there. Points: deploy.queued,
// deploy.source, deploy.build, deploy.release, backup.copy,
// restore.switch (a volume restore loaded and checked its fresh volumes,
// before it records and makes the switch), restore.switched (after Swarm
// switched the service, before the switch is settled), preview.create. Unset (always, outside tests), Pause returns at once.
package testhook

import (
	"context"
	"log/slog"
	"os"
	"strings"
)

// Env is the test-only environment variable naming the pause points
// (comma-separated).
const Env = "BERTH_TEST_PAUSE_AT"

// points is read once, at start-up: the only place Env is read.
var points = parse(os.Getenv(Env))

func parse(v string) map[string]bool {
	if v == "" {
		return nil
	}
	out := map[string]bool{}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out[p] = true
		}
	}
	return out
}

// Pause blocks until ctx ends when point is named by BERTH_TEST_PAUSE_AT,
// and returns ctx's error then; otherwise it returns nil at once.
func Pause(ctx context.Context, point string) error {
	if !points[point] {
		return nil
	}
	slog.Default().Warn("testhook: paused at "+point, "env", Env)
	<-ctx.Done()
	return ctx.Err()
}
