package deploy

import (
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
