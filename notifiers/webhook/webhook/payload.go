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
	Version  int               `json:"version"`
	ID       string            `json:"id"`
	Type     string            `json:"type"`
	Time     string            `json:"time"`
	Severity string            `json:"severity"`
	Title    string            `json:"title"`
	Message  string            `json:"message"`
	Project  string            `json:"project"`
	App      string            `json:"app"`
	URL      string            `json:"url"`
	Fields   map[string]string `json:"fields"`
	Details  Details           `json:"details"`
}

// Details holds the structured data of the event's type; only the member
// matching the type is present.
type Details struct {
	Deploy    *Deploy    `json:"deploy,omitempty"`
	Backup    *Backup    `json:"backup,omitempty"`
	Threshold *Threshold `json:"threshold,omitempty"`
	Cleanup   *Cleanup   `json:"cleanup,omitempty"`
	Restart   *Restart   `json:"restart,omitempty"`
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
	Version string `json:"version"`
	Reason  string `json:"reason"`
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
	}
	if p.Severity == "" {
		p.Severity = string(sdk.SeverityInfo)
	}
	if d := ev.Deploy; d != nil {
		p.Details.Deploy = &Deploy{DeploymentID: d.DeploymentID, Commit: d.Commit, Branch: d.Branch, Image: d.Image,
			DurationMS: d.Duration.Milliseconds(), Error: d.Error, Trigger: d.Trigger}
	}
	if b := ev.Backup; b != nil {
		p.Details.Backup = &Backup{BackupID: b.BackupID, Database: b.Database, Target: b.Target, Key: b.Key,
			SizeBytes: b.SizeBytes, DurationMS: b.Duration.Milliseconds(), Error: b.Error}
	}
	if th := ev.Threshold; th != nil {
		p.Details.Threshold = &Threshold{Resource: th.Resource, Metric: th.Metric, Value: th.Value, Limit: th.Limit, Unit: th.Unit}
	}
	if c := ev.Cleanup; c != nil {
		p.Details.Cleanup = &Cleanup{ReclaimedBytes: c.ReclaimedBytes, ImagesRemoved: c.ImagesRemoved,
			ContainersRemoved: c.ContainersRemoved, VolumesRemoved: c.VolumesRemoved}
	}
	if r := ev.Restart; r != nil {
		p.Details.Restart = &Restart{Version: r.Version, Reason: r.Reason}
	}
	return p
}
