package sdk

import (
	"context"
	"fmt"
	"time"
)

// Notifier delivers events to people (chat, e-mail, webhooks).
type Notifier interface {
	Plugin
	// Send delivers one event. Unknown event types must be delivered too,
	// using Title and Message.
	Send(ctx context.Context, req *SendRequest) (*SendResponse, error)
	// TestConnection checks the settings, typically by sending a test
	// message.
	TestConnection(ctx context.Context, req *TestConnectionRequest) (*TestConnectionResponse, error)
}

// EventType is the type of a notification event. New types may be added;
// notifiers render unknown ones from Title and Message.
type EventType string

// Event types. Their names are stable: channels subscribe to them and
// receivers switch on them. Types whose events carry no OrganizationID
// (berth.restarted, plugin.crashed, cleanup.done, a server's
// threshold.crossed) concern the whole instance.
const (
	EventDeployStarted    EventType = "deploy.started"
	EventDeploySucceeded  EventType = "deploy.succeeded"
	EventDeployFailed     EventType = "deploy.failed"
	EventBuildFailed      EventType = "build.failed"
	EventRollback         EventType = "deploy.rolled_back"
	EventPreviewCreated   EventType = "preview.created"
	EventPreviewRemoved   EventType = "preview.removed"
	EventBackupSucceeded  EventType = "backup.succeeded"
	EventBackupFailed     EventType = "backup.failed"
	EventBackupMissed     EventType = "backup.missed"
	EventVolumeBackupOK   EventType = "volume_backup.succeeded"
	EventVolumeBackupFail EventType = "volume_backup.failed"
	EventRestoreSucceeded EventType = "restore.succeeded"
	EventRestoreFailed    EventType = "restore.failed"
	EventJobFailed        EventType = "job.failed"
	EventCertExpiring     EventType = "certificate.expiring"
	EventCertRenewFailed  EventType = "certificate.renewal_failed"
	EventThresholdCrossed EventType = "threshold.crossed"
	EventCleanupDone      EventType = "cleanup.done"
	EventBerthRestarted   EventType = "berth.restarted"
	EventPluginCrashed    EventType = "plugin.crashed"
	EventTest             EventType = "test"
)

// EventTypes lists every event type in a stable order.
var EventTypes = []EventType{
	EventDeployStarted, EventDeploySucceeded, EventDeployFailed, EventBuildFailed, EventRollback,
	EventPreviewCreated, EventPreviewRemoved,
	EventBackupSucceeded, EventBackupFailed, EventBackupMissed, EventVolumeBackupOK, EventVolumeBackupFail,
	EventRestoreSucceeded, EventRestoreFailed, EventJobFailed,
	EventCertExpiring, EventCertRenewFailed, EventThresholdCrossed, EventCleanupDone,
	EventBerthRestarted, EventPluginCrashed, EventTest,
}

// Severity ranks an event.
type Severity string

// Severities.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Event is a typed notification. Title and Message are always set, ready to
// show; the details struct matching Type carries the structured data.
type Event struct {
	// ID is unique per event; notifiers may use it to deduplicate.
	ID       string
	Type     EventType
	Time     time.Time
	Severity Severity
	Title    string
	Message  string
	Project  string
	App      string
	// OrganizationID, ProjectID and EnvironmentID (UUIDs) scope the
	// event; OrganizationID is empty for events about the whole instance.
	// Environment is the environment's name.
	OrganizationID string
	ProjectID      string
	EnvironmentID  string
	Environment    string
	// URL links to the event in the dashboard.
	URL string
	// Fields holds extra key/values to show in a table.
	Fields map[string]string

	Deploy    *DeployDetails
	Backup    *BackupDetails
	Threshold *ThresholdDetails
	Cleanup   *CleanupDetails
	Restart   *RestartDetails
}

// DeployDetails details deploy.succeeded and deploy.failed.
type DeployDetails struct {
	DeploymentID string
	Commit       string
	Branch       string
	Image        string
	Duration     time.Duration
	// Error is set when the deploy failed.
	Error string
	// Trigger says what started it: "push", "manual", "rollback"...
	Trigger string
}

// BackupDetails details backup.succeeded and backup.failed.
type BackupDetails struct {
	BackupID string
	Database string
	// Target is the backup target's name.
	Target    string
	Key       string
	SizeBytes int64
	Duration  time.Duration
	Error     string
}

// ThresholdDetails details threshold.crossed.
type ThresholdDetails struct {
	// Resource is what was measured: "server", "app/api", "disk:/".
	Resource string
	// Metric is "cpu", "memory", "disk"...
	Metric string
	Value  float64
	Limit  float64
	// Unit of Value and Limit: "percent", "bytes".
	Unit string
}

// CleanupDetails details cleanup.done.
type CleanupDetails struct {
	ReclaimedBytes    int64
	ImagesRemoved     int
	ContainersRemoved int
	VolumesRemoved    int
}

// RestartDetails details berth.restarted.
type RestartDetails struct {
	Version string
	Reason  string
}

// SendRequest delivers one event.
type SendRequest struct {
	Event Event
}

// SendResponse confirms delivery.
type SendResponse struct {
	// MessageID is the channel's id for the message, when it returns one.
	MessageID string
}

// UnimplementedNotifier is embedded by notifiers so that methods added to
// Notifier later do not break them. Every method answers ErrUnimplemented.
type UnimplementedNotifier struct{ UnimplementedPlugin }

// Send returns ErrUnimplemented.
func (UnimplementedNotifier) Send(context.Context, *SendRequest) (*SendResponse, error) {
	return nil, fmt.Errorf("Send: %w", ErrUnimplemented)
}

// TestConnection returns ErrUnimplemented.
func (UnimplementedNotifier) TestConnection(context.Context, *TestConnectionRequest) (*TestConnectionResponse, error) {
	return nil, fmt.Errorf("TestConnection: %w", ErrUnimplemented)
}
