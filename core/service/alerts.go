package service

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/alerts"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/validate"
)

// Alerts manages threshold alert rules (docs/alerts.md): members of an
// application's or a database's organization change its rules and
// viewers read them; rules on servers are for instance administrators
// only. Changes are announced by PostgreSQL (the alert_rules trigger of
// migration 0017), and the evaluator reads the rules every round.
type Alerts struct{ s *Services }

// Bounds of a rule's figures.
const (
	// MaxAlertDurationSeconds: a rule's duration is at most 24 h.
	MaxAlertDurationSeconds = 24 * 3600
	// MinAlertCooldownSeconds and MaxAlertCooldownSeconds bound the
	// cooldown (1 min to 7 days).
	MinAlertCooldownSeconds = 60
	MaxAlertCooldownSeconds = 7 * 24 * 3600
	// DefaultAlertDurationSeconds and DefaultAlertCooldownSeconds apply
	// when a new rule leaves them out (5 min and 30 min).
	DefaultAlertDurationSeconds = 300
	DefaultAlertCooldownSeconds = 1800
	// MaxRestartsThreshold bounds a restarts_per_hour threshold.
	MaxRestartsThreshold = 10000
)

// AlertRuleInput creates or changes a rule: nil fields keep their value
// (on create: their default; metric and threshold are required).
type AlertRuleInput struct {
	Name *string
	// Target is a server rule's node id; empty for every server.
	Target *string
	Metric *string
	// Subject is a disk_percent rule's mount ("/"); empty for every mount.
	Subject         *string
	Threshold       *float64
	DurationSeconds *int
	CooldownSeconds *int
	Enabled         *bool
}

// nodeID is what a Swarm node id (or a host name) may look like.
var nodeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// authorizeRule checks the caller may act on rules of rule's scope: server
// rules need an instance administrator; application and database rules
// min in their organization.
func authorizeRule(p *store.Principal, r store.AlertRule, min store.Role) error {
	if r.Scope == store.AlertScopeServer {
		return RequireInstanceAdmin(p)
	}
	if r.OrganizationID == nil {
		return problem.Missing("alert rule")
	}
	return Authorize(p, *r.OrganizationID, min, "alert rule")
}

// List returns the rules f selects, with their states: server rules to
// instance administrators, an application's or database's to viewers of
// its organization.
func (as *Alerts) List(ctx context.Context, p *store.Principal, f store.AlertRuleFilter, page store.Page) ([]store.AlertRule, bool, error) {
	st := as.s.deps.Store
	switch {
	case f.Scope == store.AlertScopeServer:
		if err := RequireInstanceAdmin(p); err != nil {
			return nil, false, err
		}
	case f.Scope == store.AlertScopeApplication && f.ApplicationID != nil:
		a, err := st.GetApplication(ctx, *f.ApplicationID)
		if err != nil {
			return nil, false, notFoundAs(err, "application")
		}
		if err := Authorize(p, a.OrganizationID, store.RoleViewer, "application"); err != nil {
			return nil, false, err
		}
	case f.Scope == store.AlertScopeDatabase && f.DatabaseID != nil:
		d, err := st.GetDatabase(ctx, *f.DatabaseID)
		if err != nil {
			return nil, false, notFoundAs(err, "database")
		}
		if err := Authorize(p, d.OrganizationID, store.RoleViewer, "database"); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, fmt.Errorf("service: alert rules: incomplete filter %+v", f)
	}
	return st.ListAlertRules(ctx, f, page)
}

// CreateForApplication adds a rule on an application (members and above).
func (as *Alerts) CreateForApplication(ctx context.Context, p *store.Principal, a store.Application, in AlertRuleInput) (store.AlertRule, error) {
	if err := Authorize(p, a.OrganizationID, store.RoleMember, "application"); err != nil {
		return store.AlertRule{}, err
	}
	return as.create(ctx, store.NewAlertRule{Scope: store.AlertScopeApplication, OrganizationID: &a.OrganizationID, ApplicationID: &a.ID}, in)
}

// CreateForDatabase adds a rule on a database (members and above).
func (as *Alerts) CreateForDatabase(ctx context.Context, p *store.Principal, d store.Database, in AlertRuleInput) (store.AlertRule, error) {
	if err := Authorize(p, d.OrganizationID, store.RoleMember, "database"); err != nil {
		return store.AlertRule{}, err
	}
	return as.create(ctx, store.NewAlertRule{Scope: store.AlertScopeDatabase, OrganizationID: &d.OrganizationID, DatabaseID: &d.ID}, in)
}

// CreateForServers adds a rule on one server or on every server
// (instance administrators only).
func (as *Alerts) CreateForServers(ctx context.Context, p *store.Principal, in AlertRuleInput) (store.AlertRule, error) {
	if err := RequireInstanceAdmin(p); err != nil {
		return store.AlertRule{}, err
	}
	return as.create(ctx, store.NewAlertRule{Scope: store.AlertScopeServer}, in)
}

func (as *Alerts) create(ctx context.Context, base store.NewAlertRule, in AlertRuleInput) (store.AlertRule, error) {
	if in.Metric == nil {
		return store.AlertRule{}, problem.InvalidField("metric", "is required (one of %s)", strings.Join(alerts.Metrics(base.Scope), ", "))
	}
	if in.Threshold == nil {
		return store.AlertRule{}, problem.InvalidField("threshold", "is required")
	}
	if in.Name != nil && strings.TrimSpace(*in.Name) == "" {
		in.Name = nil // a default name
	}
	zero := store.AlertRule{Scope: base.Scope, DurationSeconds: DefaultAlertDurationSeconds,
		CooldownSeconds: DefaultAlertCooldownSeconds, Enabled: true}
	change, err := applyAlertRule(zero, in)
	if err != nil {
		return store.AlertRule{}, err
	}
	base.AlertRuleChange = change
	return as.s.deps.Store.CreateAlertRule(ctx, base)
}

// Update changes a rule (members and above; server rules: instance
// administrators). Its runs start again; its cooldown still holds.
func (as *Alerts) Update(ctx context.Context, p *store.Principal, r store.AlertRule, in AlertRuleInput) (store.AlertRule, error) {
	if err := authorizeRule(p, r, store.RoleMember); err != nil {
		return r, err
	}
	change, err := applyAlertRule(r, in)
	if err != nil {
		return r, err
	}
	out, err := as.s.deps.Store.UpdateAlertRule(ctx, r.ID, change)
	return out, notFoundAs(err, "alert rule")
}

// Delete deletes a rule (members and above; server rules: instance
// administrators).
func (as *Alerts) Delete(ctx context.Context, p *store.Principal, r store.AlertRule) error {
	if err := authorizeRule(p, r, store.RoleMember); err != nil {
		return err
	}
	return notFoundAs(as.s.deps.Store.DeleteAlertRule(ctx, r.ID), "alert rule")
}

// applyAlertRule validates in over r and returns the rule's editable part.
func applyAlertRule(r store.AlertRule, in AlertRuleInput) (store.AlertRuleChange, error) {
	c := store.AlertRuleChange{Name: r.Name, Target: r.Target, Metric: r.Metric, Subject: r.Subject, Threshold: r.Threshold,
		DurationSeconds: r.DurationSeconds, CooldownSeconds: r.CooldownSeconds, Enabled: r.Enabled}
	if in.Metric != nil {
		c.Metric = strings.TrimSpace(*in.Metric)
		if !slices.Contains(alerts.Metrics(r.Scope), c.Metric) {
			return c, problem.InvalidField("metric", "%q is not a metric of %s rules (one of %s)", c.Metric, r.Scope,
				strings.Join(alerts.Metrics(r.Scope), ", "))
		}
		if c.Metric != alerts.DiskPercent {
			c.Subject = ""
		}
	}
	if in.Threshold != nil {
		c.Threshold = *in.Threshold
	}
	if math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0) {
		return c, problem.InvalidField("threshold", "must be a number")
	}
	if limit := percentLimit(r.Scope, c.Metric); alerts.IsPercent(c.Metric) && (c.Threshold < 0 || c.Threshold > limit) {
		return c, problem.InvalidField("threshold", "must be between 0 and %g (percent) for %s", limit, c.Metric)
	}
	if !alerts.IsPercent(c.Metric) && (c.Threshold < 0 || c.Threshold > MaxRestartsThreshold) {
		return c, problem.InvalidField("threshold", "must be between 0 and %d (restarts per hour)", MaxRestartsThreshold)
	}
	if in.DurationSeconds != nil {
		c.DurationSeconds = *in.DurationSeconds
	}
	if c.DurationSeconds < 0 || c.DurationSeconds > MaxAlertDurationSeconds {
		return c, problem.InvalidField("duration_seconds", "must be between 0 (at once) and %d (24 h)", MaxAlertDurationSeconds)
	}
	if in.CooldownSeconds != nil {
		c.CooldownSeconds = *in.CooldownSeconds
	}
	if c.CooldownSeconds < MinAlertCooldownSeconds || c.CooldownSeconds > MaxAlertCooldownSeconds {
		return c, problem.InvalidField("cooldown_seconds", "must be between %d (1 min) and %d (7 days)", MinAlertCooldownSeconds, MaxAlertCooldownSeconds)
	}
	if in.Subject != nil {
		c.Subject = strings.TrimSpace(*in.Subject)
	}
	if c.Subject != "" {
		if c.Metric != alerts.DiskPercent {
			return c, problem.InvalidField("subject", "is a disk_percent rule's mount; %s rules have none", c.Metric)
		}
		if !strings.HasPrefix(c.Subject, "/") || len(c.Subject) > 255 || strings.ContainsAny(c.Subject, "\x00\n\r") {
			return c, problem.InvalidField("subject", "must be a mount point such as / or /var/lib/docker (at most 255 characters)")
		}
	}
	if in.Target != nil {
		c.Target = strings.TrimSpace(*in.Target)
	}
	if c.Target != "" {
		if r.Scope != store.AlertScopeServer {
			return c, problem.InvalidField("target", "names a server; an %s rule watches its own %s", r.Scope, r.Scope)
		}
		if !nodeID.MatchString(c.Target) {
			return c, problem.InvalidField("target", "must be a server's node id (letters, digits, '.', '_', '-'), or empty for every server")
		}
	}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if in.Name != nil {
		c.Name = strings.TrimSpace(*in.Name)
	}
	if c.Name == "" && in.Name == nil {
		c.Name = DefaultAlertRuleName(c.Metric, c.Threshold)
	}
	if err := validate.Text("name", c.Name, 1, 100); err != nil {
		return c, err
	}
	return c, nil
}

// MaxWorkloadCPUPercent bounds the cpu_percent threshold of application and
// database rules: their CPU follows `docker stats`, 100 % per busy core.
const MaxWorkloadCPUPercent = 100 * 256

// percentLimit is the highest threshold a percent metric can reach.
func percentLimit(scope, metric string) float64 {
	if metric == alerts.CPUPercent && scope != store.AlertScopeServer {
		return MaxWorkloadCPUPercent
	}
	return 100
}

// DefaultAlertRuleName names a rule its creator left unnamed
// ("cpu_percent above 90").
func DefaultAlertRuleName(metric string, threshold float64) string {
	return fmt.Sprintf("%s above %g", metric, threshold)
}

// resolveAlertRule loads the rule with id for p: server rules for
// instance administrators, others for members of their organization at
// least min. Anyone else gets "not found".
func (s *Services) resolveAlertRule(ctx context.Context, p *store.Principal, id uuid.UUID, min store.Role) (store.AlertRule, error) {
	r, err := s.deps.Store.GetAlertRule(ctx, id)
	if err != nil {
		return r, notFoundAs(err, "alert rule")
	}
	if r.Scope == store.AlertScopeServer {
		if RequireInstanceAdmin(p) != nil {
			return r, problem.Missing("alert rule")
		}
		return r, nil
	}
	if r.OrganizationID == nil {
		return r, problem.Missing("alert rule")
	}
	return r, Authorize(p, *r.OrganizationID, min, "alert rule")
}
