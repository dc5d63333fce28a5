package deploy

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
)

func TestDeploymentEvent(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	end := start.Add(1500 * time.Millisecond)
	id := uuid.MustParse("0b5e1c2d-0000-4000-8000-000000000001")
	tests := []struct {
		name         string
		d            store.Deployment
		wantType     sdk.EventType
		wantSeverity sdk.Severity
		wantInMsg    []string
	}{
		{"succeeded", store.Deployment{ID: id, Status: store.DeploymentSucceeded, Trigger: "push", CommitSHA: "abcdef1234567890",
			StartedAt: &start, FinishedAt: &end}, sdk.EventDeploySucceeded, sdk.SeverityInfo, []string{"succeeded", "abcdef1", "1.5s", "push"}},
		{"failed", store.Deployment{ID: id, Status: store.DeploymentFailed, Trigger: "manual", Error: "build: exit 2"},
			sdk.EventDeployFailed, sdk.SeverityError, []string{"failed", "build: exit 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := deploymentEvent(tt.d)
			if ev.Type != tt.wantType || ev.Severity != tt.wantSeverity || ev.Deploy == nil || ev.Deploy.DeploymentID != id.String() {
				t.Fatalf("event = %+v", ev)
			}
			for _, s := range tt.wantInMsg {
				if !strings.Contains(ev.Message, s) {
					t.Errorf("message %q lacks %q", ev.Message, s)
				}
			}
		})
	}
}

func TestDeploymentEvents(t *testing.T) {
	id := uuid.MustParse("0b5e1c2d-0000-4000-8000-000000000002")
	target := uuid.MustParse("0b5e1c2d-0000-4000-8000-000000000001")
	failedBuild := []store.Step{{Name: "source", Status: "succeeded"}, {Name: "build", Status: store.DeploymentFailed}}
	failedRelease := []store.Step{{Name: "source", Status: "succeeded"}, {Name: "build", Status: "succeeded"}, {Name: "release", Status: store.DeploymentFailed}}
	tests := []struct {
		name      string
		d         store.Deployment
		from      string
		wantTypes []sdk.EventType
		check     func(t *testing.T, evs []sdk.Event)
	}{
		{"succeeded", store.Deployment{ID: id, Status: store.DeploymentSucceeded, Trigger: "push"}, "",
			[]sdk.EventType{sdk.EventDeploySucceeded}, nil},
		{"failed in build", store.Deployment{ID: id, Status: store.DeploymentFailed, Trigger: "push", Builder: "builder.dockerfile",
			Error: "build: exit status 1", Steps: failedBuild}, "",
			[]sdk.EventType{sdk.EventDeployFailed, sdk.EventBuildFailed}, func(t *testing.T, evs []sdk.Event) {
				b := evs[1].Deploy
				if b.FailedStep != "build" || b.Builder != "builder.dockerfile" || evs[0].Deploy.FailedStep != "build" ||
					!strings.Contains(evs[1].Message, "builder.dockerfile") || evs[1].Severity != sdk.SeverityError {
					t.Errorf("build.failed = %+v %+v", evs[1], b)
				}
			}},
		{"failed in release", store.Deployment{ID: id, Status: store.DeploymentFailed, Trigger: "push", Error: "release: unhealthy",
			Steps: failedRelease}, "", []sdk.EventType{sdk.EventDeployFailed}, func(t *testing.T, evs []sdk.Event) {
			if evs[0].Deploy.FailedStep != "release" {
				t.Errorf("failed step = %q", evs[0].Deploy.FailedStep)
			}
		}},
		{"rollback succeeded", store.Deployment{ID: id, Status: store.DeploymentSucceeded, Kind: store.KindRollback, Trigger: "rollback",
			RollbackOf: &target}, "0b5e1c2d-0000-4000-8000-000000000000",
			[]sdk.EventType{sdk.EventDeploySucceeded, sdk.EventRollback}, func(t *testing.T, evs []sdk.Event) {
				r := evs[1].Deploy
				if r.RollbackTo != target.String() || r.RollbackFrom != "0b5e1c2d-0000-4000-8000-000000000000" || evs[0].Deploy.RollbackFrom != "" {
					t.Errorf("rollback details = %+v", r)
				}
			}},
		{"rollback failed", store.Deployment{ID: id, Status: store.DeploymentFailed, Kind: store.KindRollback, Trigger: "rollback",
			RollbackOf: &target, Steps: failedRelease}, "", []sdk.EventType{sdk.EventDeployFailed}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := deploymentEvents(tt.d, tt.from)
			var got []sdk.EventType
			for _, ev := range evs {
				got = append(got, ev.Type)
			}
			if !slices.Equal(got, tt.wantTypes) {
				t.Fatalf("types = %v, want %v", got, tt.wantTypes)
			}
			if tt.check != nil {
				tt.check(t, evs)
			}
		})
	}
}

func TestStartedEvent(t *testing.T) {
	id := uuid.MustParse("0b5e1c2d-0000-4000-8000-000000000003")
	ev := startedEvent(store.Deployment{ID: id, Status: store.DeploymentRunning, Trigger: "push", CommitSHA: "abcdef1234567890", GitRef: "main"})
	if ev.Type != sdk.EventDeployStarted || ev.Deploy.DeploymentID != id.String() || ev.Deploy.Branch != "main" ||
		!strings.Contains(ev.Message, "started") || !strings.Contains(ev.Message, "abcdef1") {
		t.Errorf("event = %+v", ev)
	}
}
