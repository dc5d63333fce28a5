// Package eventview turns an sdk.Event into the labelled values chat
// notifiers show next to its title and message, in a stable order, so that
// every notifier presents an event's details the same way.
package eventview

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/sdk"
)

// Field is one labelled value.
type Field struct {
	Name  string
	Value string
	// Long marks values that read better on a line of their own (errors,
	// keys).
	Long bool
}

// Fields returns the event's project and app, the values of its details
// struct and then its Fields sorted by key, skipping empty values.
func Fields(ev sdk.Event) []Field {
	var fs []Field
	add := func(name, value string, long bool) {
		if value != "" {
			fs = append(fs, Field{Name: name, Value: value, Long: long})
		}
	}
	add("Project", ev.Project, false)
	add("App", ev.App, false)
	if d := ev.Deploy; d != nil {
		add("Deployment", d.DeploymentID, false)
		add("Branch", d.Branch, false)
		add("Commit", ShortCommit(d.Commit), false)
		add("Image", d.Image, false)
		add("Trigger", d.Trigger, false)
		add("Duration", Duration(d.Duration), false)
		if ev.Type == sdk.EventBuildFailed {
			add("Builder", d.Builder, false)
			add("Failed step", d.FailedStep, false)
		}
		add("Rolled back from", d.RollbackFrom, false)
		add("Rolled back to", d.RollbackTo, false)
		add("Error", d.Error, true)
	}
	if b := ev.Backup; b != nil {
		add("Backup", b.BackupID, false)
		add("Database", b.Database, false)
		if b.Kind == sdk.BackupKindVolumes {
			add("Volumes of", b.App, false)
		}
		add("Target", b.Target, false)
		if b.SizeBytes > 0 {
			add("Size", Bytes(b.SizeBytes), false)
		}
		add("Duration", Duration(b.Duration), false)
		add("Schedule", b.Schedule, false)
		if !b.MissedAt.IsZero() {
			add("Missed at", b.MissedAt.UTC().Format(time.RFC3339), false)
		}
		add("Key", b.Key, true)
		add("Error", b.Error, true)
	}
	if p := ev.Preview; p != nil {
		if p.PullRequest > 0 {
			add("Pull request", "#"+strconv.Itoa(p.PullRequest), false)
		}
		add("Branch", p.Branch, false)
		add("Domain", p.Domain, false)
		add("Pull request URL", p.PullRequestURL, true)
	}
	if r := ev.Restore; r != nil {
		add("Restore", r.RestoreID, false)
		add("Backup", r.BackupID, false)
		add("Database", r.Database, false)
		add("Target", r.Target, false)
		add("Duration", Duration(r.Duration), false)
		add("Error", r.Error, true)
	}
	if c := ev.Certificate; c != nil {
		add("Domains", strings.Join(c.Domains, ", "), false)
		if !c.NotAfter.IsZero() {
			add("Expires", c.NotAfter.UTC().Format(time.RFC3339), false)
			add("Days left", strconv.Itoa(c.DaysLeft), false)
		}
		add("Issuer", c.Issuer, false)
		add("Resolver", c.Resolver, false)
		add("Error", c.Error, true)
	}
	if p := ev.Plugin; p != nil {
		add("Plugin", p.PluginID, false)
		add("Version", p.Version, false)
		add("Crashes", strconv.Itoa(p.Restarts), false)
		add("Last error", p.LastError, true)
	}
	if j := ev.Job; j != nil {
		add("Job", firstNonEmpty(j.JobName, j.JobID), false)
		add("Run", j.RunID, false)
		add("Exit code", strconv.Itoa(j.ExitCode), false)
		add("Error", j.Error, true)
	}
	if th := ev.Threshold; th != nil {
		add("Resource", th.Resource, false)
		add("Metric", th.Metric, false)
		add("Value", Measure(th.Value, th.Unit), false)
		add("Limit", Measure(th.Limit, th.Unit), false)
	}
	if c := ev.Cleanup; c != nil {
		add("Reclaimed", Bytes(c.ReclaimedBytes), false)
		add("Images removed", strconv.Itoa(c.ImagesRemoved), false)
		add("Containers removed", strconv.Itoa(c.ContainersRemoved), false)
		add("Volumes removed", strconv.Itoa(c.VolumesRemoved), false)
	}
	if r := ev.Restart; r != nil {
		add("Version", r.Version, false)
		add("Reason", r.Reason, false)
		add("Previous shutdown", r.PreviousShutdown, false)
	}
	keys := make([]string, 0, len(ev.Fields))
	for k := range ev.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(k, ev.Fields[k], false)
	}
	return fs
}

// firstNonEmpty returns the first non-empty string of ss.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// ShortCommit returns the first 12 characters of a commit hash.
func ShortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// Duration renders d rounded to the second (to the millisecond under a
// second); zero renders as "".
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// Bytes renders n in IEC units with one decimal: "12.0 MiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Measure renders a threshold value with its unit: "91.5%", "1.0 GiB".
func Measure(v float64, unit string) string {
	switch unit {
	case "percent":
		return strconv.FormatFloat(v, 'f', -1, 64) + "%"
	case "bytes":
		return Bytes(int64(v))
	case "":
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return strconv.FormatFloat(v, 'f', -1, 64) + " " + unit
	}
}

// SeverityLabel returns a capitalised severity, "Info" for unknown ones.
func SeverityLabel(s sdk.Severity) string {
	switch s {
	case sdk.SeverityError:
		return "Error"
	case sdk.SeverityWarning:
		return "Warning"
	default:
		return "Info"
	}
}

// TestEvent returns the event TestConnection sends.
func TestEvent(now time.Time) sdk.Event {
	return sdk.Event{
		ID:       fmt.Sprintf("test-%d", now.UnixNano()),
		Type:     sdk.EventTest,
		Time:     now.UTC(),
		Severity: sdk.SeverityInfo,
		Title:    "berth test notification",
		Message:  "If you can read this, berth can deliver notifications here.",
	}
}
