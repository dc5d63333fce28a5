package plugintest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
)

// NotifierSuite configures TestNotifier.
type NotifierSuite struct {
	BaseSuite
	// Delivered, when set, is called after each successful Send with the
	// event sent, to check that it arrived (for example at a local HTTP
	// server the settings point to).
	Delivered func(t testing.TB, ev sdk.Event)
	// SkipTestConnection skips TestConnection, for channels whose test
	// message cannot be observed in a test.
	SkipTestConnection bool
}

// TestNotifier runs the conformance suite for notifiers against n: the base
// checks, TestConnection, one Send of every event type and of an unknown
// type, and cancellation.
func TestNotifier(t *testing.T, n sdk.Notifier, s NotifierSuite) {
	t.Helper()
	testBase(t, n, sdk.KindNotifier, s.BaseSuite)
	if !s.SkipTestConnection {
		t.Run("test_connection", func(t *testing.T) {
			if _, err := n.TestConnection(testContext(t), &sdk.TestConnectionRequest{}); err != nil {
				t.Fatalf("TestConnection: %v", err)
			}
		})
	}
	types := append(append([]sdk.EventType{}, sdk.EventTypes...), "plugintest.future_event")
	for _, typ := range types {
		t.Run("send/"+string(typ), func(t *testing.T) {
			ev := SampleEvent(typ)
			if _, err := n.Send(testContext(t), &sdk.SendRequest{Event: ev}); err != nil {
				t.Fatalf("Send(%s): %v", typ, err)
			}
			if s.Delivered != nil {
				s.Delivered(t, ev)
			}
		})
	}
	t.Run("send/cancelled", func(t *testing.T) {
		_, err := n.Send(cancelledContext(), &sdk.SendRequest{Event: SampleEvent(sdk.EventTest)})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Send(cancelled ctx) = %v, want context.Canceled", err)
		}
	})
}

// SampleEvent returns a complete event of type typ, with the details struct
// that type carries, for tests of notifiers.
func SampleEvent(typ sdk.EventType) sdk.Event {
	ev := sdk.Event{
		ID:       "evt-" + string(typ),
		Type:     typ,
		Time:     time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Severity: sdk.SeverityInfo,
		Title:    fmt.Sprintf("plugintest: %s", typ),
		Message:  fmt.Sprintf("This is a %s event sent by the berth plugin conformance suite.", typ),
		Project:  "shop",
		App:      "api",
		URL:      "https://berth.example.test/projects/shop/apps/api",
		Fields:   map[string]string{"environment": "production"},
	}
	switch typ {
	case sdk.EventDeploySucceeded, sdk.EventDeployFailed:
		ev.Deploy = &sdk.DeployDetails{DeploymentID: "dep-1", Commit: "0123456789abcdef0123456789abcdef01234567", Branch: "main", Image: "shop/api:42", Duration: 93 * time.Second, Trigger: "push"}
		if typ == sdk.EventDeployFailed {
			ev.Severity = sdk.SeverityError
			ev.Deploy.Error = "build failed: exit status 1"
		}
	case sdk.EventBackupSucceeded, sdk.EventBackupFailed:
		ev.Backup = &sdk.BackupDetails{BackupID: "bak-1", Database: "shop-db", Target: "offsite", Key: "postgres/shop-db/2025-01-02.sql.gz", SizeBytes: 12 << 20, Duration: 8 * time.Second}
		if typ == sdk.EventBackupFailed {
			ev.Severity = sdk.SeverityError
			ev.Backup.Error = "upload failed: connection reset"
		}
	case sdk.EventThresholdCrossed:
		ev.Severity = sdk.SeverityWarning
		ev.Threshold = &sdk.ThresholdDetails{Resource: "server", Metric: "disk", Value: 91.5, Limit: 90, Unit: "percent"}
	case sdk.EventCleanupDone:
		ev.Cleanup = &sdk.CleanupDetails{ReclaimedBytes: 3 << 30, ImagesRemoved: 12, ContainersRemoved: 4, VolumesRemoved: 1}
	case sdk.EventBerthRestarted:
		ev.Restart = &sdk.RestartDetails{Version: "1.2.3", Reason: "upgrade"}
	}
	return ev
}
