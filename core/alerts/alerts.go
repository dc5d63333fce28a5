// Package alerts evaluates threshold alert rules against the metrics of
// each sampling round: a rule whose metric stayed above its threshold for
// its whole duration emits one threshold.crossed event to the
// notification channels, then again only after its cooldown while the
// value stays above, and one marked resolved when the value drops back
// (docs/alerts.md). Rule state is kept in PostgreSQL, so a restart
// neither loses a pending duration nor fires again within the cooldown.
package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/berth-dev/berth/core/eventscope"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// The metrics rules watch.
const (
	CPUPercent      = "cpu_percent"
	MemoryPercent   = "memory_percent"
	DiskPercent     = "disk_percent"
	RestartsPerHour = "restarts_per_hour"
)

// Metrics lists the metrics a rule of scope may watch (none for an
// unknown scope).
func Metrics(scope string) []string {
	switch scope {
	case store.AlertScopeServer:
		return []string{CPUPercent, MemoryPercent, DiskPercent}
	case store.AlertScopeApplication, store.AlertScopeDatabase:
		return []string{CPUPercent, MemoryPercent, RestartsPerHour}
	}
	return nil
}

// IsPercent reports whether metric is a percentage (0–100).
func IsPercent(metric string) bool { return metric != RestartsPerHour }

// DefaultInterval is the sampling interval assumed until SetInterval.
const DefaultInterval = 15 * time.Second

// GapFactor: a series not observed for more than GapFactor sampling
// intervals starts its duration again.
const GapFactor = 3

// Observation is one value of one series in a sampling round.
type Observation struct {
	// Scope is "server", "application" or "database".
	Scope string
	// TargetID is the node id of a server, the uuid of an application or
	// a database.
	TargetID string
	// Metric is cpu_percent, memory_percent, disk_percent or
	// restarts_per_hour.
	Metric string
	// Subject is the mount of a disk_percent observation; else empty.
	Subject string
	// Name is the server's host name (optional: events name the node id
	// without it). Applications and databases are named from the store.
	Name  string
	Value float64
	// At is when the value was measured (zero: the clock's now).
	At time.Time
}

// Clock tells the time; tests pass a fake one.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Events queues events with the state change they announce
// (*notify.Dispatcher).
type Events interface {
	EmitTx(ctx context.Context, tx pgx.Tx, ev sdk.Event)
}

// Options configure an Evaluator.
type Options struct {
	Store *store.Store
	// Events queues the events (nil: rules are judged, nothing is sent).
	Events Events
	// Clock defaults to the system clock.
	Clock Clock
	// Interval is the sampling interval (default DefaultInterval).
	Interval time.Duration
	// PublicURL is berth's address, for the dashboard link of events.
	PublicURL string
	Log       *slog.Logger
}

// Evaluator judges the rules against each round's observations.
type Evaluator struct {
	st        *store.Store
	events    Events
	clock     Clock
	interval  atomic.Int64
	publicURL string
	log       *slog.Logger
}

// New returns an evaluator on o.
func New(o Options) *Evaluator {
	e := &Evaluator{st: o.Store, events: o.Events, clock: o.Clock, publicURL: o.PublicURL, log: o.Log}
	if e.clock == nil {
		e.clock = systemClock{}
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	e.SetInterval(o.Interval)
	return e
}

// SetInterval tells the evaluator the sampling interval (it changes at run
// time); d <= 0 restores DefaultInterval.
func (e *Evaluator) SetInterval(d time.Duration) {
	if d <= 0 {
		d = DefaultInterval
	}
	e.interval.Store(int64(d))
}

// gap is how long a series may go unobserved before its run restarts.
func (e *Evaluator) gap() time.Duration { return GapFactor * time.Duration(e.interval.Load()) }

// seriesKey names one series of one rule.
type seriesKey struct {
	rule            uuid.UUID
	target, subject string
}

// Observe judges every enabled rule against obs, one sampling round:
// it updates the rules' states and queues the events they emit, together,
// in one transaction. Failures are logged: a round that failed is judged
// again by the next one.
func (e *Evaluator) Observe(ctx context.Context, obs []Observation) {
	if err := e.observe(ctx, obs); err != nil {
		e.log.Error("alerts: evaluating a round failed", "error", err)
	}
}

func (e *Evaluator) observe(ctx context.Context, obs []Observation) error {
	now := e.clock.Now()
	if _, err := e.st.ResetStaleAlertSeries(ctx, now.Add(-e.gap())); err != nil {
		return err
	}
	if len(obs) == 0 {
		return nil
	}
	rules, err := e.st.EnabledAlertRules(ctx)
	if err != nil || len(rules) == 0 {
		return err
	}
	ids := make([]uuid.UUID, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
	}
	saved, err := e.st.AlertSeriesStates(ctx, ids)
	if err != nil {
		return err
	}
	states := make(map[seriesKey]store.AlertSeries, len(saved))
	for _, s := range saved {
		states[seriesKey{s.RuleID, s.Target, s.Subject}] = s
	}
	byMetric := map[[2]string][]store.AlertRule{}
	for _, r := range rules {
		k := [2]string{r.Scope, r.Metric}
		byMetric[k] = append(byMetric[k], r)
	}
	changed := map[seriesKey]bool{}
	var events []sdk.Event
	for _, o := range obs {
		if o.At.IsZero() {
			o.At = now
		}
		for _, r := range byMetric[[2]string{o.Scope, o.Metric}] {
			if !matches(r, o) {
				continue
			}
			k := seriesKey{r.ID, o.TargetID, o.Subject}
			s, ok := states[k]
			if !ok {
				s = store.AlertSeries{RuleID: r.ID, Target: o.TargetID, Subject: o.Subject}
			}
			next, emit := step(r, s, o, e.gap())
			states[k], changed[k] = next, true
			if emit != none {
				ev, err := e.event(ctx, r, o, next, emit)
				if err != nil {
					e.log.Warn("alerts: describing an event failed", "rule", r.ID, "error", err)
					continue
				}
				events = append(events, ev)
			}
		}
	}
	save := make([]store.AlertSeries, 0, len(changed))
	for k := range changed {
		save = append(save, states[k])
	}
	return e.st.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.SaveAlertSeries(ctx, save); err != nil {
			return err
		}
		for _, ev := range events {
			if e.events != nil {
				e.events.EmitTx(ctx, tx.Pgx(), ev)
			}
		}
		return nil
	})
}

// matches reports whether rule r watches the series o belongs to.
func matches(r store.AlertRule, o Observation) bool {
	if r.Scope != o.Scope || r.Metric != o.Metric {
		return false
	}
	switch r.Scope {
	case store.AlertScopeServer:
		return (r.Target == "" || r.Target == o.TargetID) && (r.Subject == "" || r.Subject == o.Subject)
	case store.AlertScopeApplication:
		return r.ApplicationID != nil && r.ApplicationID.String() == o.TargetID
	case store.AlertScopeDatabase:
		return r.DatabaseID != nil && r.DatabaseID.String() == o.TargetID
	}
	return false
}

// emission is what a step emits.
type emission int

const (
	none emission = iota
	fired
	resolved
)

// step judges one observation of a series: its next state and what to
// emit. A value above the threshold starts a run (or continues it; a gap
// in observations longer than gap starts it again); a run that lasted the
// rule's duration fires, when no event of the rule's series was emitted
// within the cooldown. A value at or below the threshold ends the run,
// emitting resolved when the run had fired.
func step(r store.AlertRule, s store.AlertSeries, o Observation, gap time.Duration) (store.AlertSeries, emission) {
	prevAt := s.LastAt
	s.LastValue, s.LastAt = o.Value, o.At
	if o.Value <= r.Threshold {
		wasNotified := s.Firing && s.PendingSince != nil && s.LastFiredAt != nil && !s.LastFiredAt.Before(*s.PendingSince)
		s.PendingSince, s.Firing = nil, false
		if wasNotified {
			return s, resolved
		}
		return s, none
	}
	if s.PendingSince == nil || prevAt.IsZero() || o.At.Sub(prevAt) > gap {
		at := o.At
		s.PendingSince, s.Firing = &at, false
	}
	if o.At.Sub(*s.PendingSince) < r.Duration() {
		return s, none
	}
	s.Firing = true
	if s.LastFiredAt != nil && o.At.Sub(*s.LastFiredAt) < r.Cooldown() {
		return s, none
	}
	at := o.At
	s.LastFiredAt = &at
	return s, fired
}

// event describes what rule r's series did: Title and Message ready to
// show, scoped to the application's or database's organization, project
// and environment; a server rule's event concerns the instance.
func (e *Evaluator) event(ctx context.Context, r store.AlertRule, o Observation, s store.AlertSeries, what emission) (sdk.Event, error) {
	ev := sdk.Event{Type: sdk.EventThresholdCrossed, Time: o.At.UTC(), Severity: sdk.SeverityWarning,
		Fields: map[string]string{"rule_id": r.ID.String(), "rule": r.Name, "state": "firing"}}
	var name, resource, page string
	switch r.Scope {
	case store.AlertScopeServer:
		name = o.Name
		if name == "" {
			name = o.TargetID
		}
		resource, page = "server/"+name, "/instance/alerts"
	case store.AlertScopeApplication:
		a, err := e.st.GetApplication(ctx, *r.ApplicationID)
		if err != nil {
			return ev, fmt.Errorf("alerts: application %s: %w", *r.ApplicationID, err)
		}
		if err := eventscope.Application(ctx, e.st, a, &ev); err != nil {
			return ev, err
		}
		name, resource, page = a.Name, "app/"+a.Name, "/apps/"+a.ID.String()+"/alerts"
	case store.AlertScopeDatabase:
		d, err := e.st.GetDatabase(ctx, *r.DatabaseID)
		if err != nil {
			return ev, fmt.Errorf("alerts: database %s: %w", *r.DatabaseID, err)
		}
		if err := eventscope.DatabaseID(ctx, e.st, d.ID, &ev); err != nil {
			return ev, err
		}
		name, resource, page = d.Name, "database/"+d.Name, "/databases/"+d.ID.String()+"/alerts"
	}
	if o.Subject != "" {
		resource += " disk:" + o.Subject
	}
	if e.publicURL != "" {
		ev.URL = e.publicURL + page
	}
	unit := "percent"
	if !IsPercent(r.Metric) {
		unit = "restarts"
	}
	ev.Threshold = &sdk.ThresholdDetails{Resource: resource, Metric: shortMetric(r.Metric), Value: round1(o.Value), Limit: r.Threshold, Unit: unit}
	what2 := label(r.Metric, o.Subject)
	if what == resolved {
		ev.Severity, ev.Fields["state"] = sdk.SeverityInfo, "resolved"
		ev.Title = fmt.Sprintf("%s: %s back to %s (limit %s)", name, what2, measure(r.Metric, o.Value), measure(r.Metric, r.Threshold))
		ev.Message = fmt.Sprintf("Resolved: %s of %s is %s, at or below the limit of %s set by the alert rule %q.",
			what2, resource, measure(r.Metric, o.Value), measure(r.Metric, r.Threshold), r.Name)
		return ev, nil
	}
	held := ""
	if r.DurationSeconds > 0 {
		held = " for " + human(r.Duration())
	}
	ev.Title = fmt.Sprintf("%s: %s %s above %s%s", name, what2, measure(r.Metric, o.Value), measure(r.Metric, r.Threshold), held)
	since := ""
	if s.PendingSince != nil {
		since = " since " + s.PendingSince.UTC().Format("15:04:05 UTC")
	}
	ev.Message = fmt.Sprintf("%s of %s is %s, above the limit of %s%s (alert rule %q). Next alert for it no sooner than %s from now, if it stays above.",
		upper(what2), resource, measure(r.Metric, o.Value), measure(r.Metric, r.Threshold), since, r.Name, human(r.Cooldown()))
	return ev, nil
}

// label names a metric in a sentence ("CPU", "disk /").
func label(metric, subject string) string {
	switch metric {
	case CPUPercent:
		return "CPU"
	case MemoryPercent:
		return "memory"
	case DiskPercent:
		if subject != "" {
			return "disk " + subject
		}
		return "disk"
	case RestartsPerHour:
		return "restarts"
	}
	return metric
}

// shortMetric is the metric's name in ThresholdDetails ("cpu", "disk").
func shortMetric(metric string) string {
	switch metric {
	case CPUPercent:
		return "cpu"
	case MemoryPercent:
		return "memory"
	case DiskPercent:
		return "disk"
	case RestartsPerHour:
		return "restarts"
	}
	return metric
}

// measure renders a value of metric: "96 %", "4 per hour".
func measure(metric string, v float64) string {
	if IsPercent(metric) {
		return trim(v) + " %"
	}
	return trim(v) + " per hour"
}

func trim(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func upper(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// human renders a duration the way people say it: "5 min", "2 h", "90 s".
func human(d time.Duration) string {
	switch {
	case d%time.Hour == 0 && d >= time.Hour:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d%time.Minute == 0 && d >= time.Minute:
		return fmt.Sprintf("%d min", d/time.Minute)
	default:
		return fmt.Sprintf("%d s", d/time.Second)
	}
}

// Humanize renders a duration as events and the dashboard show it.
func Humanize(d time.Duration) string { return human(d) }
