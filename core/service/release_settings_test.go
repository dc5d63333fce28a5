package service

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
)

// checkField checks that err is nil when field is "", and otherwise an
// invalid-input problem naming field.
func checkField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Errorf("got %v, want no error", err)
		}
		return
	}
	var pe *problem.Error
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a problem naming %s", err, field)
	}
	if pe.Kind != problem.Invalid || pe.Field != field || !strings.HasPrefix(pe.Error(), field+": ") {
		t.Errorf("got %+v, want an invalid %s", pe, field)
	}
}

func intp(v int) *int { return &v }

// TestValidateRelease: every bound of the release settings, with the
// field named in the problem.
func TestValidateRelease(t *testing.T) {
	rd := func(r store.Readiness) store.ReleaseSettings { return store.ReleaseSettings{Readiness: &r} }
	tests := []struct {
		name  string
		in    store.ReleaseSettings
		field string // "" means valid
	}{
		{"nothing set", store.ReleaseSettings{}, ""},
		{"port", rd(store.Readiness{Mode: "port"}), ""},
		{"none", rd(store.Readiness{Mode: "none"}), ""},
		{"full http check", rd(store.Readiness{Mode: "http", Path: "/healthz?deep=1", StatusMin: 200, StatusMax: 299,
			IntervalMS: 1000, TimeoutMS: 2000, Successes: 2, TimeoutSeconds: 300}), ""},
		{"lowest bounds", rd(store.Readiness{Mode: "http", StatusMin: 100, StatusMax: 100, IntervalMS: 100, TimeoutMS: 100,
			Successes: 1, TimeoutSeconds: 1}), ""},
		{"highest bounds", rd(store.Readiness{Mode: "http", StatusMin: 599, StatusMax: 599, IntervalMS: 60000, TimeoutMS: 60000,
			Successes: 100, TimeoutSeconds: 3600}), ""},

		{"unknown mode", rd(store.Readiness{Mode: "tcp"}), "readiness.mode"},
		{"mode in capitals", rd(store.Readiness{Mode: "HTTP"}), "readiness.mode"},

		{"path without slash", rd(store.Readiness{Mode: "http", Path: "healthz"}), "readiness.path"},
		{"path with a space", rd(store.Readiness{Mode: "http", Path: "/health z"}), "readiness.path"},
		{"path with a newline", rd(store.Readiness{Mode: "http", Path: "/health\nHost: x"}), "readiness.path"},
		{"path with DEL", rd(store.Readiness{Mode: "http", Path: "/a\x7f"}), "readiness.path"},
		{"path too long", rd(store.Readiness{Mode: "http", Path: "/" + strings.Repeat("a", 1024)}), "readiness.path"},
		{"path at the limit", rd(store.Readiness{Mode: "http", Path: "/" + strings.Repeat("a", 1023)}), ""},

		{"status_min below 100", rd(store.Readiness{Mode: "http", StatusMin: 99}), "readiness.status_min"},
		{"status_min above 599", rd(store.Readiness{Mode: "http", StatusMin: 600, StatusMax: 599}), "readiness.status_min"},
		{"negative status_min", rd(store.Readiness{Mode: "http", StatusMin: -1}), "readiness.status_min"},
		{"status_max below 100", rd(store.Readiness{Mode: "http", StatusMax: 99}), "readiness.status_max"},
		{"status_max above 599", rd(store.Readiness{Mode: "http", StatusMax: 600}), "readiness.status_max"},
		{"status_min above status_max", rd(store.Readiness{Mode: "http", StatusMin: 300, StatusMax: 299}), "readiness.status_min"},
		{"status_min above the default max", rd(store.Readiness{Mode: "http", StatusMin: 400}), "readiness.status_min"},
		{"status_max below the default min", rd(store.Readiness{Mode: "http", StatusMax: 199}), "readiness.status_min"},
		{"status_min equal to status_max", rd(store.Readiness{Mode: "http", StatusMin: 204, StatusMax: 204}), ""},

		{"interval_ms too short", rd(store.Readiness{Mode: "port", IntervalMS: 99}), "readiness.interval_ms"},
		{"interval_ms too long", rd(store.Readiness{Mode: "port", IntervalMS: 60001}), "readiness.interval_ms"},
		{"negative interval_ms", rd(store.Readiness{Mode: "port", IntervalMS: -5}), "readiness.interval_ms"},
		{"timeout_ms too short", rd(store.Readiness{Mode: "port", TimeoutMS: 99}), "readiness.timeout_ms"},
		{"timeout_ms too long", rd(store.Readiness{Mode: "port", TimeoutMS: 60001}), "readiness.timeout_ms"},
		{"successes above 100", rd(store.Readiness{Mode: "port", Successes: 101}), "readiness.successes"},
		{"negative successes", rd(store.Readiness{Mode: "port", Successes: -1}), "readiness.successes"},
		{"timeout_seconds above an hour", rd(store.Readiness{Mode: "port", TimeoutSeconds: 3601}), "readiness.timeout_seconds"},
		{"negative timeout_seconds", rd(store.Readiness{Mode: "port", TimeoutSeconds: -1}), "readiness.timeout_seconds"},

		{"soak 0", store.ReleaseSettings{SoakSeconds: intp(0)}, ""},
		{"soak an hour", store.ReleaseSettings{SoakSeconds: intp(3600)}, ""},
		{"negative soak", store.ReleaseSettings{SoakSeconds: intp(-1)}, "soak_seconds"},
		{"soak above an hour", store.ReleaseSettings{SoakSeconds: intp(3601)}, "soak_seconds"},
		{"stop grace 0", store.ReleaseSettings{StopGraceSeconds: intp(0)}, ""},
		{"stop grace an hour", store.ReleaseSettings{StopGraceSeconds: intp(3600)}, ""},
		{"negative stop grace", store.ReleaseSettings{StopGraceSeconds: intp(-1)}, "stop_grace_seconds"},
		{"stop grace above an hour", store.ReleaseSettings{StopGraceSeconds: intp(3601)}, "stop_grace_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkField(t, validateRelease(tt.in), tt.field)
			if tt.field != "" {
				// validateRuntime checks the release settings first.
				checkField(t, validateRuntime(store.RuntimeSettings{ReleaseSettings: tt.in}), tt.field)
			}
		})
	}
}

// TestValidateCanary: the canary weight and auto-promotion rule.
func TestValidateCanary(t *testing.T) {
	auto := func(a store.AutoPromote) *store.CanaryRequest {
		return &store.CanaryRequest{Weight: 10, AutoPromote: &a}
	}
	tests := []struct {
		name  string
		in    *store.CanaryRequest
		field string
	}{
		{"no canary", nil, ""},
		{"weight 1", &store.CanaryRequest{Weight: 1}, ""},
		{"weight 99", &store.CanaryRequest{Weight: 99}, ""},
		{"weight 0", &store.CanaryRequest{}, "canary.weight"},
		{"weight 100", &store.CanaryRequest{Weight: 100}, "canary.weight"},
		{"negative weight", &store.CanaryRequest{Weight: -10}, "canary.weight"},
		{"rule", auto(store.AutoPromote{MaxErrorRate: 0.01, WindowSeconds: 60}), ""},
		{"rule at its bounds", auto(store.AutoPromote{MaxErrorRate: 1, WindowSeconds: 86400, MinRequests: 1_000_000}), ""},
		{"rule at its low bounds", auto(store.AutoPromote{MaxErrorRate: 0, WindowSeconds: 10, MinRequests: 0}), ""},
		{"negative error rate", auto(store.AutoPromote{MaxErrorRate: -0.1, WindowSeconds: 60}), "canary.auto_promote.max_error_rate"},
		{"error rate above 1", auto(store.AutoPromote{MaxErrorRate: 1.5, WindowSeconds: 60}), "canary.auto_promote.max_error_rate"},
		{"window too short", auto(store.AutoPromote{MaxErrorRate: 0.01, WindowSeconds: 9}), "canary.auto_promote.window_seconds"},
		{"no window", auto(store.AutoPromote{MaxErrorRate: 0.01}), "canary.auto_promote.window_seconds"},
		{"window above a day", auto(store.AutoPromote{MaxErrorRate: 0.01, WindowSeconds: 86401}), "canary.auto_promote.window_seconds"},
		{"negative minimum", auto(store.AutoPromote{MaxErrorRate: 0.01, WindowSeconds: 60, MinRequests: -1}), "canary.auto_promote.min_requests"},
		{"minimum too high", auto(store.AutoPromote{MaxErrorRate: 0.01, WindowSeconds: 60, MinRequests: 1_000_001}), "canary.auto_promote.min_requests"},
		{"bad weight reported first", &store.CanaryRequest{Weight: 0, AutoPromote: &store.AutoPromote{MaxErrorRate: 2}}, "canary.weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkField(t, validateCanary(tt.in), tt.field)
		})
	}
}
