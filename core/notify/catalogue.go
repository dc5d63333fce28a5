package notify

import (
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// EventInfo describes an event type a channel may subscribe to.
type EventInfo struct {
	Type        sdk.EventType `json:"type"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	// Group gathers related types in forms: deployments, previews,
	// backups, restores, jobs, certificates, server.
	Group string `json:"group"`
	// InstanceOnly: events of this type concern the whole instance; only
	// channels that receive instance events get them.
	InstanceOnly bool `json:"instance_only"`
}

// Catalogue lists the event types channels subscribe to, in a stable
// order (the test event is not one: it is sent by "send test" only).
var Catalogue = []EventInfo{
	{sdk.EventDeployStarted, "Deployment started", "A deployment of an application started building or releasing.", "deployments", false},
	{sdk.EventDeploySucceeded, "Deployment succeeded", "A new release of an application serves.", "deployments", false},
	{sdk.EventDeployFailed, "Deployment failed", "A deployment failed, with its reason and a link to its log (a failed build included).", "deployments", false},
	{sdk.EventBuildFailed, "Build failed", "A deployment's build step failed.", "deployments", false},
	{sdk.EventRollback, "Rolled back", "An application was rolled back to an earlier release.", "deployments", false},
	{sdk.EventPreviewCreated, "Preview created", "A pull request preview was deployed.", "previews", false},
	{sdk.EventPreviewRemoved, "Preview removed", "A pull request preview was removed.", "previews", false},
	{sdk.EventBackupSucceeded, "Database backup succeeded", "A database backup was stored and verified.", "backups", false},
	{sdk.EventBackupFailed, "Database backup failed", "A database backup failed.", "backups", false},
	{sdk.EventBackupMissed, "Backup missed", "A scheduled backup did not run (berth was down at its time).", "backups", false},
	{sdk.EventVolumeBackupOK, "Volume backup succeeded", "An application's volumes were backed up.", "backups", false},
	{sdk.EventVolumeBackupFail, "Volume backup failed", "A backup of an application's volumes failed.", "backups", false},
	{sdk.EventRestoreSucceeded, "Restore succeeded", "A restore into a database or volumes finished.", "restores", false},
	{sdk.EventRestoreFailed, "Restore failed", "A restore failed; what was there before is kept.", "restores", false},
	{sdk.EventJobFailed, "Scheduled job failed", "A run of a scheduled job failed.", "jobs", false},
	{sdk.EventCertExpiring, "Certificate expiring", "A domain's certificate expires soon.", "certificates", false},
	{sdk.EventCertRenewFailed, "Certificate renewal failed", "A domain's certificate was not renewed in time.", "certificates", false},
	{sdk.EventThresholdCrossed, "Threshold crossed", "CPU, memory, disk or restarts stayed above a limit.", "server", false},
	{sdk.EventCleanupDone, "Cleanup done", "Docker cleanup removed what berth no longer needs.", "server", true},
	{sdk.EventBerthRestarted, "berth restarted", "The berth server started.", "server", true},
	{sdk.EventPluginCrashed, "Plugin crashed", "A plugin crashed repeatedly.", "server", true},
}

// Known reports whether t is an event type channels may subscribe to,
// and whether it is instance-only.
func Known(t string) (info EventInfo, ok bool) {
	for _, e := range Catalogue {
		if string(e.Type) == t {
			return e, true
		}
	}
	return EventInfo{}, false
}

// TestEvent is the event "send test" delivers to ch.
func TestEvent(ch store.NotificationChannel) sdk.Event {
	return sdk.Event{ID: newID(), Type: sdk.EventTest, Time: time.Now().UTC(), Severity: sdk.SeverityInfo,
		Title:          "Test notification from berth",
		Message:        "This is a test of the notification channel " + ch.Name + ". If you read this, the channel works.",
		OrganizationID: ch.OrganizationID.String()}
}
