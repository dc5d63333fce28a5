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
// show; the details struct matching Type carries the structured data (see
// the table in sdk/README.md). Its JSON form (snake_case names, durations as
// integer milliseconds in "duration_ms", times RFC 3339, absent details
// omitted) is stable: plugin authors may forward it as is.
type Event struct {
	// ID is unique per event; notifiers may use it to deduplicate.
	ID       string    `json:"id"`
	Type     EventType `json:"type"`
	Time     time.Time `json:"time"`
	Severity Severity  `json:"severity"`
	Title    string    `json:"title"`
	Message  string    `json:"message"`
	Project  string    `json:"project,omitempty"`
	App      string    `json:"app,omitempty"`
	// OrganizationID, ProjectID and EnvironmentID (UUIDs) scope the
	// event; OrganizationID is empty for events about the whole instance.
	// Environment is the environment's name.
	OrganizationID string `json:"organization_id,omitempty"`
	ProjectID      string `json:"project_id,omitempty"`
	EnvironmentID  string `json:"environment_id,omitempty"`
	Environment    string `json:"environment,omitempty"`
	// URL links to the event in the dashboard.
	URL string `json:"url,omitempty"`
	// Fields holds extra key/values to show in a table.
	Fields map[string]string `json:"fields,omitempty"`

	Deploy      *DeployDetails      `json:"deploy,omitempty"`
	Backup      *BackupDetails      `json:"backup,omitempty"`
	Threshold   *ThresholdDetails   `json:"threshold,omitempty"`
	Cleanup     *CleanupDetails     `json:"cleanup,omitempty"`
	Restart     *RestartDetails     `json:"restart,omitempty"`
	Preview     *PreviewDetails     `json:"preview,omitempty"`
	Restore     *RestoreDetails     `json:"restore,omitempty"`
	Certificate *CertificateDetails `json:"certificate,omitempty"`
	Plugin      *PluginDetails      `json:"plugin,omitempty"`
	Job         *JobDetails         `json:"job,omitempty"`
}

// DeployDetails details deploy.started, deploy.succeeded, deploy.failed,
// build.failed and deploy.rolled_back. Duration is "duration_ms" in JSON.
type DeployDetails struct {
	DeploymentID string        `json:"deployment_id"`
	Commit       string        `json:"commit,omitempty"`
	Branch       string        `json:"branch,omitempty"`
	Image        string        `json:"image,omitempty"`
	Duration     time.Duration `json:"-"`
	// Error is set when the deploy failed.
	Error string `json:"error,omitempty"`
	// Trigger says what started it: "push", "manual", "rollback"...
	Trigger string `json:"trigger,omitempty"`
	// Builder is the builder plugin that built it ("builder.dockerfile").
	Builder string `json:"builder,omitempty"`
	// FailedStep is the pipeline step that failed ("build", "release"...).
	FailedStep string `json:"failed_step,omitempty"`
	// RollbackFrom is the deployment that served before a rollback (when
	// known) and RollbackTo the earlier deployment whose image it released
	// again.
	RollbackFrom string `json:"rollback_from,omitempty"`
	RollbackTo   string `json:"rollback_to,omitempty"`
}

// Backup kinds (BackupDetails.Kind).
const (
	BackupKindDatabase = "database"
	BackupKindVolumes  = "volumes"
)

// BackupDetails details backup.* and volume_backup.*. Duration is
// "duration_ms" in JSON.
type BackupDetails struct {
	BackupID string `json:"backup_id"`
	// Kind is BackupKindDatabase or BackupKindVolumes.
	Kind     string `json:"kind,omitempty"`
	Database string `json:"database,omitempty"`
	// App is the application whose volumes a volume backup saved.
	App string `json:"app,omitempty"`
	// Target is the backup target's name.
	Target    string        `json:"target,omitempty"`
	Key       string        `json:"key,omitempty"`
	SizeBytes int64         `json:"size_bytes,omitempty"`
	Duration  time.Duration `json:"-"`
	Error     string        `json:"error,omitempty"`
	// Schedule (a cron expression), MissedAt (the last missed run) and
	// MissedRuns (how many were missed) are set for backup.missed.
	Schedule   string    `json:"schedule,omitempty"`
	MissedAt   time.Time `json:"missed_at,omitzero"`
	MissedRuns int       `json:"missed_runs,omitempty"`
}

// ThresholdDetails details threshold.crossed.
type ThresholdDetails struct {
	// Resource is what was measured: "server", "app/api", "disk:/".
	Resource string `json:"resource"`
	// Metric is "cpu", "memory", "disk"...
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	Limit  float64 `json:"limit"`
	// Unit of Value and Limit: "percent", "bytes".
	Unit string `json:"unit,omitempty"`
}

// CleanupDetails details cleanup.done.
type CleanupDetails struct {
	ReclaimedBytes    int64 `json:"reclaimed_bytes"`
	ImagesRemoved     int   `json:"images_removed"`
	ContainersRemoved int   `json:"containers_removed"`
	VolumesRemoved    int   `json:"volumes_removed"`
}

// Previous shutdown states (RestartDetails.PreviousShutdown).
const (
	ShutdownClean   = "clean"
	ShutdownUnclean = "unclean"
)

// RestartDetails details berth.restarted.
type RestartDetails struct {
	Version string `json:"version"`
	Reason  string `json:"reason,omitempty"`
	// PreviousShutdown says how the previous process stopped:
	// ShutdownClean, ShutdownUnclean, or empty when unknown (first start).
	PreviousShutdown string `json:"previous_shutdown,omitempty"`
}

// PreviewDetails details preview.created and preview.removed.
type PreviewDetails struct {
	// PullRequest is the pull request's number and PullRequestURL its page.
	PullRequest    int    `json:"pull_request"`
	PullRequestURL string `json:"pull_request_url,omitempty"`
	Branch         string `json:"branch,omitempty"`
	// Domain is where the preview is served.
	Domain string `json:"domain,omitempty"`
}

// RestoreDetails details restore.succeeded and restore.failed. Duration is
// "duration_ms" in JSON.
type RestoreDetails struct {
	RestoreID string `json:"restore_id"`
	BackupID  string `json:"backup_id,omitempty"`
	// Database or App names what was restored.
	Database string `json:"database,omitempty"`
	App      string `json:"app,omitempty"`
	// Target is the backup target's name the backup was read from.
	Target   string        `json:"target,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"-"`
}

// CertificateDetails details certificate.expiring and
// certificate.renewal_failed.
type CertificateDetails struct {
	Domains  []string  `json:"domains"`
	NotAfter time.Time `json:"not_after"`
	// DaysLeft is the number of whole days until NotAfter.
	DaysLeft int `json:"days_left"`
	// Issuer is the certificate's issuer and Resolver the ACME resolver
	// that obtained it.
	Issuer   string `json:"issuer,omitempty"`
	Resolver string `json:"resolver,omitempty"`
	Error    string `json:"error,omitempty"`
}

// PluginDetails details plugin.crashed.
type PluginDetails struct {
	PluginID string `json:"plugin_id"`
	Version  string `json:"version,omitempty"`
	// Restarts counts the crashes in the window that raised the event.
	Restarts  int    `json:"restarts"`
	LastError string `json:"last_error,omitempty"`
}

// JobDetails details job.failed.
type JobDetails struct {
	JobID    string `json:"job_id"`
	JobName  string `json:"job_name,omitempty"`
	RunID    string `json:"run_id,omitempty"`
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
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
