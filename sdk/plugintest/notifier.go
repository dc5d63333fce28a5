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

// SampleEvent returns a complete event of type typ, scoped to a sample
// organization, project and environment (the instance-wide types
// berth.restarted, plugin.crashed, cleanup.done and threshold.crossed carry
// no OrganizationID),
// with the details struct that type carries, for tests of notifiers.
func SampleEvent(typ sdk.EventType) sdk.Event {
	ev := sdk.Event{
		ID:             "evt-" + string(typ),
		Type:           typ,
		Time:           time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Severity:       sdk.SeverityInfo,
		Title:          fmt.Sprintf("plugintest: %s", typ),
		Message:        fmt.Sprintf("This is a %s event sent by the berth plugin conformance suite.", typ),
		Project:        "shop",
		App:            "api",
		OrganizationID: "0b6f3c2e-7d1a-4f5e-9c3b-2a1d4e5f6a70",
		ProjectID:      "1c7a4d3f-8e2b-4a6f-8d4c-3b2e5f6a7b81",
		EnvironmentID:  "2d8b5e4a-9f3c-4b7a-9e5d-4c3f6a7b8c92",
		Environment:    "production",
		URL:            "https://berth.example.test/projects/shop/apps/api",
		Fields:         map[string]string{"environment": "production"},
	}
	deploy := &sdk.DeployDetails{DeploymentID: "dep-1", Commit: "0123456789abcdef0123456789abcdef01234567", Branch: "main",
		Image: "shop/api:42", Duration: 93 * time.Second, Trigger: "push", Builder: "builder.dockerfile"}
	backup := &sdk.BackupDetails{BackupID: "bak-1", Kind: sdk.BackupKindDatabase, Database: "shop-db", Target: "offsite",
		Key: "postgres/shop-db/2025-01-02.sql.gz", SizeBytes: 12 << 20, Duration: 8 * time.Second}
	restore := &sdk.RestoreDetails{RestoreID: "rst-1", BackupID: "bak-1", Database: "shop-db", Target: "offsite", Duration: 21 * time.Second}
	cert := &sdk.CertificateDetails{Domains: []string{"shop.example.com", "www.shop.example.com"},
		NotAfter: time.Date(2025, 1, 12, 0, 0, 0, 0, time.UTC), DaysLeft: 9, Issuer: "R11", Resolver: "letsencrypt"}
	switch typ {
	case sdk.EventDeployStarted:
		deploy.Duration = 0
		ev.Deploy = deploy
	case sdk.EventDeploySucceeded:
		ev.Deploy = deploy
	case sdk.EventDeployFailed:
		ev.Severity = sdk.SeverityError
		deploy.Error, deploy.FailedStep = "build failed: exit status 1", "build"
		ev.Deploy = deploy
	case sdk.EventBuildFailed:
		ev.Severity = sdk.SeverityError
		deploy.Error, deploy.FailedStep = "build failed: exit status 1", "build"
		ev.Deploy = deploy
	case sdk.EventRollback:
		ev.Severity = sdk.SeverityWarning
		deploy.Trigger, deploy.RollbackFrom, deploy.RollbackTo = "rollback", "dep-2", "dep-1"
		ev.Deploy = deploy
	case sdk.EventPreviewCreated, sdk.EventPreviewRemoved:
		ev.Preview = &sdk.PreviewDetails{PullRequest: 17, PullRequestURL: "https://git.example.test/shop/api/pull/17",
			Branch: "feature/cart", Domain: "pr-17.api.shop.example.com"}
	case sdk.EventBackupSucceeded, sdk.EventBackupFailed:
		ev.Backup = backup
		if typ == sdk.EventBackupFailed {
			ev.Severity = sdk.SeverityError
			ev.Backup.Error = "upload failed: connection reset"
		}
	case sdk.EventBackupMissed:
		ev.Severity = sdk.SeverityWarning
		backup.Key, backup.SizeBytes, backup.Duration = "", 0, 0
		backup.Error = "2 scheduled backup run(s) were missed while berth was down"
		backup.Schedule, backup.MissedAt, backup.MissedRuns = "0 3 * * *", time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC), 2
		ev.Backup = backup
	case sdk.EventVolumeBackupOK, sdk.EventVolumeBackupFail:
		backup.Kind, backup.Database, backup.App = sdk.BackupKindVolumes, "", "api"
		backup.Key = "volumes/api/2025-01-02.tar.gz"
		ev.Backup = backup
		if typ == sdk.EventVolumeBackupFail {
			ev.Severity = sdk.SeverityError
			ev.Backup.Error = "archiving volume api-data: no space left on device"
		}
	case sdk.EventRestoreSucceeded:
		ev.Restore = restore
	case sdk.EventRestoreFailed:
		ev.Severity = sdk.SeverityError
		restore.Error = "pg_restore: exit status 1"
		ev.Restore = restore
	case sdk.EventJobFailed:
		ev.Severity = sdk.SeverityError
		ev.Job = &sdk.JobDetails{JobID: "job-1", JobName: "nightly-report", RunID: "run-9", ExitCode: 2, Error: "exit status 2"}
	case sdk.EventCertExpiring:
		ev.Severity = sdk.SeverityWarning
		ev.Certificate = cert
	case sdk.EventCertRenewFailed:
		ev.Severity = sdk.SeverityError
		cert.DaysLeft, cert.NotAfter = 5, time.Date(2025, 1, 7, 0, 0, 0, 0, time.UTC)
		cert.Error = "not renewed 30 days before expiry; check Traefik's ACME logs"
		ev.Certificate = cert
	case sdk.EventThresholdCrossed:
		ev.Severity = sdk.SeverityWarning
		ev.Threshold = &sdk.ThresholdDetails{Resource: "server", Metric: "disk", Value: 91.5, Limit: 90, Unit: "percent"}
	case sdk.EventCleanupDone:
		ev.Cleanup = &sdk.CleanupDetails{ReclaimedBytes: 3 << 30, ImagesRemoved: 12, ContainersRemoved: 4, VolumesRemoved: 1}
	case sdk.EventBerthRestarted:
		ev.Restart = &sdk.RestartDetails{Version: "1.2.3", Reason: "upgrade", PreviousShutdown: sdk.ShutdownClean}
	case sdk.EventPluginCrashed:
		ev.Severity = sdk.SeverityError
		ev.Plugin = &sdk.PluginDetails{PluginID: "notifier.slack", Version: "0.4.0", Restarts: 3, LastError: "exit status 2"}
	}
	switch typ {
	case sdk.EventBerthRestarted, sdk.EventPluginCrashed, sdk.EventCleanupDone, sdk.EventThresholdCrossed:
		ev.OrganizationID, ev.ProjectID, ev.EnvironmentID, ev.Environment = "", "", "", ""
	}
	return ev
}
