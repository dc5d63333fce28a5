// Package eventtext renders a berth notification event as plain text and
// as ordered key/value facts, the parts every notifier shows.
package eventtext

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/berth-dev/berth/sdk"
)

// Fact is one labelled value shown with an event.
type Fact struct {
	// Label names the value ("Project", "Commit").
	Label string
	// Value is the value as text.
	Value string
}

// Facts lists what an event carries beyond its title and message, in a
// stable order: project and app, the details of its type, then its Fields
// sorted by key.
func Facts(ev sdk.Event) []Fact {
	var fs []Fact
	add := func(label, value string) {
		if value != "" {
			fs = append(fs, Fact{label, value})
		}
	}
	add("Project", ev.Project)
	add("App", ev.App)
	if d := ev.Deploy; d != nil {
		add("Deployment", d.DeploymentID)
		add("Branch", d.Branch)
		add("Commit", d.Commit)
		add("Image", d.Image)
		add("Trigger", d.Trigger)
		if d.Duration > 0 {
			add("Duration", d.Duration.Round(time.Second).String())
		}
		add("Error", d.Error)
	}
	if b := ev.Backup; b != nil {
		add("Backup", b.BackupID)
		add("Database", b.Database)
		add("Target", b.Target)
		add("Key", b.Key)
		if b.SizeBytes > 0 {
			add("Size", fmt.Sprintf("%d bytes", b.SizeBytes))
		}
		if b.Duration > 0 {
			add("Duration", b.Duration.Round(time.Second).String())
		}
		add("Error", b.Error)
	}
	if th := ev.Threshold; th != nil {
		add("Resource", th.Resource)
		add("Metric", th.Metric)
		add("Value", fmt.Sprintf("%g %s (limit %g)", th.Value, th.Unit, th.Limit))
	}
	if c := ev.Cleanup; c != nil {
		add("Reclaimed", fmt.Sprintf("%d bytes", c.ReclaimedBytes))
		add("Removed", fmt.Sprintf("%d images, %d containers, %d volumes", c.ImagesRemoved, c.ContainersRemoved, c.VolumesRemoved))
	}
	if r := ev.Restart; r != nil {
		add("Version", r.Version)
		add("Reason", r.Reason)
	}
	keys := make([]string, 0, len(ev.Fields))
	for k := range ev.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(k, ev.Fields[k])
	}
	return fs
}

// IDLine is the line every message ends with, naming the event id so that
// a reader (or a deduplicating service) can tell repeats apart.
func IDLine(ev sdk.Event) string { return "Event ID: " + ev.ID }

// Plain renders the event's message, facts, link and id as plain text
// (without the title, which most services show apart).
func Plain(ev sdk.Event) string {
	var b strings.Builder
	b.WriteString(ev.Message)
	if fs := Facts(ev); len(fs) > 0 {
		b.WriteString("\n")
		for _, f := range fs {
			fmt.Fprintf(&b, "\n%s: %s", f.Label, f.Value)
		}
	}
	if ev.URL != "" {
		b.WriteString("\n\n" + ev.URL)
	}
	b.WriteString("\n\n" + IDLine(ev))
	return b.String()
}

// TestEvent returns the event TestConnection sends.
func TestEvent() sdk.Event {
	now := time.Now().UTC()
	return sdk.Event{
		ID: fmt.Sprintf("test-%d", now.UnixNano()), Type: sdk.EventTest, Time: now, Severity: sdk.SeverityInfo,
		Title: "berth test notification", Message: "If you can read this, berth can reach this channel.",
	}
}

// PlainLimit is Plain cut to at most n runes: the message and facts are
// shortened (with an ellipsis) so that the event id line always remains.
func PlainLimit(ev sdk.Event, n int) string {
	full := Plain(ev)
	if utf8.RuneCountInString(full) <= n {
		return full
	}
	tail := "\n\n" + IDLine(ev)
	return truncate(strings.TrimSuffix(full, tail), n-utf8.RuneCountInString(tail)) + tail
}

// truncate shortens s to at most n runes ending with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	return string([]rune(s)[:n-1]) + "…"
}
