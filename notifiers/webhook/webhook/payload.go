package webhook

import (
	"time"

	"github.com/berth-dev/berth/sdk"
)

// PayloadVersion is the version of the Payload schema. Fields may be added
// within a version; renaming or removing one makes a new version.
const PayloadVersion = 1

// Payload is the JSON document POSTed for each event, documented in
// docs/notifiers/webhook.md. Names are snake_case, times RFC 3339 (UTC),
// durations integer milliseconds, sizes bytes.
type Payload struct {
	Version  int    `json:"version"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Time     string `json:"time"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Message  string `json:"message"`
	Project  string `json:"project"`
	App      string `json:"app"`
	// OrganizationID, ProjectID and EnvironmentID (UUIDs) and Environment
	// (a name) scope the event; empty for instance events.
	OrganizationID string            `json:"organization_id"`
	ProjectID      string            `json:"project_id"`
	EnvironmentID  string            `json:"environment_id"`
	Environment    string            `json:"environment"`
	URL            string            `json:"url"`
	Fields         map[string]string `json:"fields"`
	Details        Details           `json:"details"`
}

// Details holds the structured data of the event's type; only the member
// matching the type is present.
type Details struct {
	Deploy      *Deploy      `json:"deploy,omitempty"`
	Backup      *Backup      `json:"backup,omitempty"`
	Threshold   *Threshold   `json:"threshold,omitempty"`
	Cleanup     *Cleanup     `json:"cleanup,omitempty"`
	Restart     *Restart     `json:"restart,omitempty"`
	Preview     *Preview     `json:"preview,omitempty"`
	Restore     *Restore     `json:"restore,omitempty"`
	Certificate *Certificate `json:"certificate,omitempty"`
	Plugin      *Plugin      `json:"plugin,omitempty"`
	Job         *Job         `json:"job,omitempty"`
}

// Deploy details deploy.succeeded and deploy.failed.
type Deploy struct {
	DeploymentID string `json:"deployment_id"`
	Commit       string `json:"commit"`
	Branch       string `json:"branch"`
	Image        string `json:"image"`
	DurationMS   int64  `json:"duration_ms"`
	Error        string `json:"error"`
	Trigger      string `json:"trigger"`
	Builder      string `json:"builder"`
	FailedStep   string `json:"failed_step"`
	RollbackFrom string `json:"rollback_from"`
	RollbackTo   string `json:"rollback_to"`
}

// Backup details backup.succeeded and backup.failed.
type Backup struct {
	BackupID   string `json:"backup_id"`
	Database   string `json:"database"`
	Target     string `json:"target"`
	Key        string `json:"key"`
	SizeBytes  int64  `json:"size_bytes"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error"`
	Kind       string `json:"kind"`
	App        string `json:"app"`
	Schedule   string `json:"schedule"`
	// MissedAt is RFC 3339, empty unless backup.missed.
	MissedAt   string `json:"missed_at"`
	MissedRuns int    `json:"missed_runs"`
}

// Threshold details threshold.crossed.
type Threshold struct {
	Resource string  `json:"resource"`
	Metric   string  `json:"metric"`
	Value    float64 `json:"value"`
	Limit    float64 `json:"limit"`
	Unit     string  `json:"unit"`
}

// Cleanup details cleanup.done.
type Cleanup struct {
	ReclaimedBytes    int64 `json:"reclaimed_bytes"`
	ImagesRemoved     int   `json:"images_removed"`
	ContainersRemoved int   `json:"containers_removed"`
	VolumesRemoved    int   `json:"volumes_removed"`
}

// Restart details berth.restarted.
type Restart struct {
	Version          string `json:"version"`
	Reason           string `json:"reason"`
	PreviousShutdown string `json:"previous_shutdown"`
}

// Preview details preview.created and preview.removed.
type Preview struct {
	PullRequest    int    `json:"pull_request"`
	PullRequestURL string `json:"pull_request_url"`
	Branch         string `json:"branch"`
	Domain         string `json:"domain"`
}

// Restore details restore.succeeded and restore.failed.
type Restore struct {
	RestoreID  string `json:"restore_id"`
	BackupID   string `json:"backup_id"`
	Database   string `json:"database"`
	App        string `json:"app"`
	Target     string `json:"target"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error"`
}

// Certificate details certificate.expiring and certificate.renewal_failed.
type Certificate struct {
	Domains []string `json:"domains"`
	// NotAfter is RFC 3339.
	NotAfter string `json:"not_after"`
	DaysLeft int    `json:"days_left"`
	Issuer   string `json:"issuer"`
	Resolver string `json:"resolver"`
	Error    string `json:"error"`
}

// Plugin details plugin.crashed.
type Plugin struct {
	PluginID  string `json:"plugin_id"`
	Version   string `json:"version"`
	Restarts  int    `json:"restarts"`
	LastError string `json:"last_error"`
}

// Job details job.failed.
type Job struct {
	JobID    string `json:"job_id"`
	JobName  string `json:"job_name"`
	RunID    string `json:"run_id"`
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error"`
}

// rfc3339 renders t in UTC, "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// NewPayload renders ev. A zero event time is replaced by the current time.
func NewPayload(ev sdk.Event) Payload {
	t := ev.Time
	if t.IsZero() {
		t = time.Now()
	}
	fields := ev.Fields
	if fields == nil {
		fields = map[string]string{}
	}
	p := Payload{
		Version: PayloadVersion, ID: ev.ID, Type: string(ev.Type), Time: t.UTC().Format(time.RFC3339Nano),
		Severity: string(ev.Severity), Title: ev.Title, Message: ev.Message,
		Project: ev.Project, App: ev.App, URL: ev.URL, Fields: fields,
		OrganizationID: ev.OrganizationID, ProjectID: ev.ProjectID, EnvironmentID: ev.EnvironmentID, Environment: ev.Environment,
	}
	if p.Severity == "" {
		p.Severity = string(sdk.SeverityInfo)
	}
	if d := ev.Deploy; d != nil {
		p.Details.Deploy = &Deploy{DeploymentID: d.DeploymentID, Commit: d.Commit, Branch: d.Branch, Image: d.Image,
			DurationMS: d.Duration.Milliseconds(), Error: d.Error, Trigger: d.Trigger,
			Builder: d.Builder, FailedStep: d.FailedStep, RollbackFrom: d.RollbackFrom, RollbackTo: d.RollbackTo}
	}
	if b := ev.Backup; b != nil {
		p.Details.Backup = &Backup{BackupID: b.BackupID, Database: b.Database, Target: b.Target, Key: b.Key,
			SizeBytes: b.SizeBytes, DurationMS: b.Duration.Milliseconds(), Error: b.Error,
			Kind: b.Kind, App: b.App, Schedule: b.Schedule, MissedAt: rfc3339(b.MissedAt), MissedRuns: b.MissedRuns}
	}
	if th := ev.Threshold; th != nil {
		p.Details.Threshold = &Threshold{Resource: th.Resource, Metric: th.Metric, Value: th.Value, Limit: th.Limit, Unit: th.Unit}
	}
	if c := ev.Cleanup; c != nil {
		p.Details.Cleanup = &Cleanup{ReclaimedBytes: c.ReclaimedBytes, ImagesRemoved: c.ImagesRemoved,
			ContainersRemoved: c.ContainersRemoved, VolumesRemoved: c.VolumesRemoved}
	}
	if r := ev.Restart; r != nil {
		p.Details.Restart = &Restart{Version: r.Version, Reason: r.Reason, PreviousShutdown: r.PreviousShutdown}
	}
	if v := ev.Preview; v != nil {
		p.Details.Preview = &Preview{PullRequest: v.PullRequest, PullRequestURL: v.PullRequestURL, Branch: v.Branch, Domain: v.Domain}
	}
	if r := ev.Restore; r != nil {
		p.Details.Restore = &Restore{RestoreID: r.RestoreID, BackupID: r.BackupID, Database: r.Database, App: r.App,
			Target: r.Target, DurationMS: r.Duration.Milliseconds(), Error: r.Error}
	}
	if c := ev.Certificate; c != nil {
		domains := c.Domains
		if domains == nil {
			domains = []string{}
		}
		p.Details.Certificate = &Certificate{Domains: domains, NotAfter: rfc3339(c.NotAfter), DaysLeft: c.DaysLeft,
			Issuer: c.Issuer, Resolver: c.Resolver, Error: c.Error}
	}
	if pl := ev.Plugin; pl != nil {
		p.Details.Plugin = &Plugin{PluginID: pl.PluginID, Version: pl.Version, Restarts: pl.Restarts, LastError: pl.LastError}
	}
	if j := ev.Job; j != nil {
		p.Details.Job = &Job{JobID: j.JobID, JobName: j.JobName, RunID: j.RunID, ExitCode: j.ExitCode, Error: j.Error}
	}
	return p
}
