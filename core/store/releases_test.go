package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/store"
)

// These tests need no database.

// TestReadinessEffective: zero fields take their defaults, set ones stay.
func TestReadinessEffective(t *testing.T) {
	defaults := store.Readiness{Mode: store.ReadinessPort, Path: "/", StatusMin: 200, StatusMax: 399,
		IntervalMS: 500, TimeoutMS: 2000, Successes: 1, TimeoutSeconds: 300}
	full := store.Readiness{Mode: store.ReadinessHTTP, Path: "/healthz", StatusMin: 204, StatusMax: 204,
		IntervalMS: 100, TimeoutMS: 300, Successes: 3, TimeoutSeconds: 60}
	tests := []struct {
		name string
		in   store.Readiness
		want store.Readiness
	}{
		{"zero", store.Readiness{}, defaults},
		{"all set", full, full},
		{"http with a path", store.Readiness{Mode: store.ReadinessHTTP, Path: "/up"},
			store.Readiness{Mode: store.ReadinessHTTP, Path: "/up", StatusMin: 200, StatusMax: 399, IntervalMS: 500, TimeoutMS: 2000, Successes: 1, TimeoutSeconds: 300}},
		{"none keeps none", store.Readiness{Mode: store.ReadinessNone},
			store.Readiness{Mode: store.ReadinessNone, Path: "/", StatusMin: 200, StatusMax: 399, IntervalMS: 500, TimeoutMS: 2000, Successes: 1, TimeoutSeconds: 300}},
		{"only the upper status", store.Readiness{StatusMax: 299},
			store.Readiness{Mode: store.ReadinessPort, Path: "/", StatusMin: 200, StatusMax: 299, IntervalMS: 500, TimeoutMS: 2000, Successes: 1, TimeoutSeconds: 300}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Effective(); got != tt.want {
				t.Errorf("Effective() = %+v, want %+v", got, tt.want)
			}
			if got := tt.in.Effective().Effective(); got != tt.want {
				t.Errorf("Effective() twice = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func intp(v int) *int { return &v }

// TestReleaseSettings: the effective soak, stop grace and readiness check.
func TestReleaseSettings(t *testing.T) {
	custom := store.Readiness{Mode: store.ReadinessHTTP, Path: "/healthz"}
	tests := []struct {
		name          string
		in            store.ReleaseSettings
		routed        bool
		soak, grace   time.Duration
		mode, path    string
		timeoutSecond int
	}{
		{"defaults, routed", store.ReleaseSettings{}, true, 5 * time.Second, 10 * time.Second, store.ReadinessPort, "/", 300},
		{"defaults, not routed", store.ReleaseSettings{}, false, 5 * time.Second, 10 * time.Second, store.ReadinessNone, "/", 300},
		{"zero soak and grace are kept", store.ReleaseSettings{SoakSeconds: intp(0), StopGraceSeconds: intp(0)}, true, 0, 0, store.ReadinessPort, "/", 300},
		{"set", store.ReleaseSettings{SoakSeconds: intp(30), StopGraceSeconds: intp(120), Readiness: &custom}, true, 30 * time.Second, 2 * time.Minute, store.ReadinessHTTP, "/healthz", 300},
		{"a set check applies without a domain too", store.ReleaseSettings{Readiness: &custom}, false, 5 * time.Second, 10 * time.Second, store.ReadinessHTTP, "/healthz", 300},
		{"a set check's zero fields take defaults", store.ReleaseSettings{Readiness: &store.Readiness{TimeoutSeconds: 20}}, false, 5 * time.Second, 10 * time.Second, store.ReadinessPort, "/", 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Soak(); got != tt.soak {
				t.Errorf("Soak() = %s, want %s", got, tt.soak)
			}
			if got := tt.in.StopGrace(); got != tt.grace {
				t.Errorf("StopGrace() = %s, want %s", got, tt.grace)
			}
			r := tt.in.EffectiveReadiness(tt.routed)
			if r.Mode != tt.mode || r.Path != tt.path || r.TimeoutSeconds != tt.timeoutSecond || r != r.Effective() {
				t.Errorf("EffectiveReadiness(%v) = %+v, want mode %s, path %s, timeout %ds, all defaults filled", tt.routed, r, tt.mode, tt.path, tt.timeoutSecond)
			}
		})
	}
	if custom != (store.Readiness{Mode: store.ReadinessHTTP, Path: "/healthz"}) {
		t.Errorf("EffectiveReadiness changed the stored check: %+v", custom)
	}
}

// TestCandidateServiceName: the candidate's name stays within Swarm's 63
// characters, differs from its base and keeps the id suffix.
func TestCandidateServiceName(t *testing.T) {
	id := uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057")
	tests := []struct {
		name string
		base string
		want string
	}{
		{"short", "web-099a8057", "web-099a8057-next"},
		{"at the limit", strings.Repeat("a", 49) + "-099a8057", strings.Repeat("a", 49) + "-099a8057-next"},
		{"one over", strings.Repeat("a", 50) + "-099a8057", strings.Repeat("a", 49) + "-099a8057-next"},
		{"longest service name", store.ServiceName(strings.Repeat("b", 60), id), strings.Repeat("b", 49) + "-099a8057-next"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := store.CandidateServiceName(tt.base)
			if got != tt.want {
				t.Errorf("CandidateServiceName(%q) = %q, want %q", tt.base, got, tt.want)
			}
			if len(got) > 63 || got == tt.base || !strings.HasSuffix(got, tt.base[len(tt.base)-9:]+"-next") {
				t.Errorf("CandidateServiceName(%q) = %q (%d characters): want at most 63, the id suffix kept", tt.base, got, len(got))
			}
		})
	}
	// Every length of application name gives a valid candidate name.
	for n := 1; n <= 80; n++ {
		base := store.ServiceName(strings.Repeat("x", n), id)
		got := store.CandidateServiceName(base)
		if len(base) > 63 || len(got) > 63 || !strings.HasSuffix(got, "-099a8057-next") || !strings.HasPrefix(got, "x") {
			t.Errorf("name of %d: service %q (%d), candidate %q (%d)", n, base, len(base), got, len(got))
		}
	}
}
