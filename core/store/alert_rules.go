package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Alert rule scopes: what a rule watches.
const (
	AlertScopeServer      = "server"
	AlertScopeApplication = "application"
	AlertScopeDatabase    = "database"
)

// Alert rule states, as shown with a rule.
const (
	AlertOK      = "ok"
	AlertPending = "pending"
	AlertFiring  = "firing"
)

// AlertRule is a threshold alert: Metric of a server, an application or a
// database above Threshold for Duration emits threshold.crossed, then again
// only after Cooldown while it stays above (docs/alerts.md).
type AlertRule struct {
	ID    uuid.UUID `json:"id"`
	Scope string    `json:"scope"`
	// OrganizationID is nil for server rules (they concern the instance).
	OrganizationID *uuid.UUID `json:"organization_id"`
	ApplicationID  *uuid.UUID `json:"application_id,omitempty"`
	DatabaseID     *uuid.UUID `json:"database_id,omitempty"`
	// Target is a server rule's node id; empty for every server.
	Target string `json:"target"`
	Name   string `json:"name"`
	Metric string `json:"metric"`
	// Subject is a disk rule's mount; empty for every mount.
	Subject   string  `json:"subject"`
	Threshold float64 `json:"threshold"`
	// DurationSeconds the value must stay above Threshold (0: at once).
	DurationSeconds int `json:"duration_seconds"`
	// CooldownSeconds between two events of the rule.
	CooldownSeconds int        `json:"cooldown_seconds"`
	Enabled         bool       `json:"enabled"`
	Status          AlertState `json:"status"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// Duration is how long the value must stay above the threshold.
func (r AlertRule) Duration() time.Duration { return time.Duration(r.DurationSeconds) * time.Second }

// Cooldown is the least time between two events of the rule.
func (r AlertRule) Cooldown() time.Duration { return time.Duration(r.CooldownSeconds) * time.Second }

// AlertState summarises a rule's series: firing when one of them is,
// pending when one is above the threshold but not yet for the duration,
// ok otherwise.
type AlertState struct {
	State string `json:"state"`
	// LastValue is the highest latest value of the rule's series (nil:
	// nothing observed yet), observed at LastAt.
	LastValue *float64   `json:"last_value"`
	LastAt    *time.Time `json:"last_at"`
	// PendingSince is the start of the earliest run above the threshold.
	PendingSince *time.Time `json:"pending_since"`
	LastFiredAt  *time.Time `json:"last_fired_at"`
}

// AlertRuleChange is a rule's editable part.
type AlertRuleChange struct {
	Name            string
	Target          string
	Metric          string
	Subject         string
	Threshold       float64
	DurationSeconds int
	CooldownSeconds int
	Enabled         bool
}

// NewAlertRule is a rule to create: its scope and owner, and its editable
// part.
type NewAlertRule struct {
	Scope          string
	OrganizationID *uuid.UUID
	ApplicationID  *uuid.UUID
	DatabaseID     *uuid.UUID
	AlertRuleChange
}

// AlertRuleFilter selects the rules of one scope: every server rule, or
// those of one application or database.
type AlertRuleFilter struct {
	Scope         string
	ApplicationID *uuid.UUID
	DatabaseID    *uuid.UUID
}

const alertRuleCols = `r.id, r.scope, r.organization_id, r.application_id, r.database_id, r.target, r.name, r.metric,
	r.subject, r.threshold, r.duration_seconds, r.cooldown_seconds, r.enabled, r.created_at, r.updated_at,
	st.firing, st.pending, st.last_value, st.last_at, st.pending_since, st.last_fired_at`

// alertRuleFrom joins each rule with the summary of its series' states.
const alertRuleFrom = ` FROM alert_rules r LEFT JOIN LATERAL (
	SELECT coalesce(bool_or(s.firing), false) AS firing, coalesce(bool_or(s.pending_since IS NOT NULL), false) AS pending,
		max(s.last_value) AS last_value, max(s.last_at) AS last_at, min(s.pending_since) AS pending_since,
		max(s.last_fired_at) AS last_fired_at
	FROM alert_rule_states s WHERE s.rule_id = r.id) st ON true`

func scanAlertRule(row pgx.Row) (AlertRule, error) {
	var r AlertRule
	var firing, pending bool
	st := &r.Status
	err := row.Scan(&r.ID, &r.Scope, &r.OrganizationID, &r.ApplicationID, &r.DatabaseID, &r.Target, &r.Name, &r.Metric,
		&r.Subject, &r.Threshold, &r.DurationSeconds, &r.CooldownSeconds, &r.Enabled, &r.CreatedAt, &r.UpdatedAt,
		&firing, &pending, &st.LastValue, &st.LastAt, &st.PendingSince, &st.LastFiredAt)
	switch {
	case firing:
		st.State = AlertFiring
	case pending:
		st.State = AlertPending
	default:
		st.State = AlertOK
	}
	return r, err
}

// CreateAlertRule adds a rule.
func (s *Store) CreateAlertRule(ctx context.Context, in NewAlertRule) (AlertRule, error) {
	id := newID()
	_, err := s.pool.Exec(ctx, `INSERT INTO alert_rules (id, scope, organization_id, application_id, database_id, target,
		name, metric, subject, threshold, duration_seconds, cooldown_seconds, enabled)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, id, in.Scope, in.OrganizationID,
		in.ApplicationID, in.DatabaseID, in.Target, in.Name, in.Metric, in.Subject, in.Threshold, in.DurationSeconds,
		in.CooldownSeconds, in.Enabled)
	if err != nil {
		return AlertRule{}, mapErr(err, "alert rule")
	}
	return s.GetAlertRule(ctx, id)
}

// GetAlertRule returns one rule with its state.
func (s *Store) GetAlertRule(ctx context.Context, id uuid.UUID) (AlertRule, error) {
	r, err := scanAlertRule(s.pool.QueryRow(ctx, `SELECT `+alertRuleCols+alertRuleFrom+` WHERE r.id = $1`, id))
	return r, mapErr(err, "alert rule")
}

// ListAlertRules returns the rules f selects with their states.
func (s *Store) ListAlertRules(ctx context.Context, f AlertRuleFilter, p Page) ([]AlertRule, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+alertRuleCols+alertRuleFrom+`
		WHERE r.scope = $1 AND ($2::uuid IS NULL OR r.application_id = $2) AND ($3::uuid IS NULL OR r.database_id = $3)
		  AND r.id > $4 ORDER BY r.id LIMIT $5`, scanAlertRule, f.Scope, f.ApplicationID, f.DatabaseID)
	return items, more, mapErr(err, "alert rules")
}

// EnabledAlertRules returns every enabled rule (the evaluator's round).
func (s *Store) EnabledAlertRules(ctx context.Context) ([]AlertRule, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+alertRuleCols+alertRuleFrom+` WHERE r.enabled ORDER BY r.id`)
	if err != nil {
		return nil, mapErr(err, "alert rules")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AlertRule, error) { return scanAlertRule(r) })
	return items, mapErr(err, "alert rules")
}

// UpdateAlertRule replaces a rule's editable part. The runs its series
// were in start again (a changed threshold or duration judges anew); the
// time of the last event is kept, so the cooldown still holds.
func (s *Store) UpdateAlertRule(ctx context.Context, id uuid.UUID, in AlertRuleChange) (AlertRule, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE alert_rules SET name = $2, target = $3, metric = $4, subject = $5, threshold = $6,
			duration_seconds = $7, cooldown_seconds = $8, enabled = $9, updated_at = now() WHERE id = $1`,
			id, in.Name, in.Target, in.Metric, in.Subject, in.Threshold, in.DurationSeconds, in.CooldownSeconds, in.Enabled)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		_, err = tx.Exec(ctx, `UPDATE alert_rule_states SET pending_since = NULL, firing = false WHERE rule_id = $1`, id)
		return err
	})
	if err != nil {
		return AlertRule{}, mapErr(err, "alert rule")
	}
	return s.GetAlertRule(ctx, id)
}

// DeleteAlertRule deletes a rule and its state.
func (s *Store) DeleteAlertRule(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "alert_rules", id, "alert rule")
}

// AlertSeries is the evaluation state of one series a rule watches: a
// target (node id, application or database id) and subject (a mount).
type AlertSeries struct {
	RuleID  uuid.UUID
	Target  string
	Subject string
	// PendingSince is the first observation of the current run above the
	// threshold (nil: at or below it).
	PendingSince *time.Time
	// Firing: above the threshold for the whole duration.
	Firing      bool
	LastFiredAt *time.Time
	LastValue   float64
	LastAt      time.Time
}

// AlertSeriesStates returns the saved states of the rules' series.
func (s *Store) AlertSeriesStates(ctx context.Context, rules []uuid.UUID) ([]AlertSeries, error) {
	rows, err := s.pool.Query(ctx, `SELECT rule_id, target, subject, pending_since, firing, last_fired_at, last_value, last_at
		FROM alert_rule_states WHERE rule_id = ANY($1)`, rules)
	if err != nil {
		return nil, mapErr(err, "alert rule states")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AlertSeries, error) {
		var a AlertSeries
		err := r.Scan(&a.RuleID, &a.Target, &a.Subject, &a.PendingSince, &a.Firing, &a.LastFiredAt, &a.LastValue, &a.LastAt)
		return a, err
	})
	return out, mapErr(err, "alert rule states")
}

// SaveAlertSeries writes the states of series in one statement. A state
// of a rule deleted meanwhile is dropped.
func (s *Store) SaveAlertSeries(ctx context.Context, series []AlertSeries) error {
	if len(series) == 0 {
		return nil
	}
	n := len(series)
	rules, targets, subjects := make([]uuid.UUID, n), make([]string, n), make([]string, n)
	pending, fired, at := make([]*time.Time, n), make([]*time.Time, n), make([]time.Time, n)
	firing, values := make([]bool, n), make([]float64, n)
	for i, a := range series {
		rules[i], targets[i], subjects[i] = a.RuleID, a.Target, a.Subject
		pending[i], fired[i], at[i], firing[i], values[i] = a.PendingSince, a.LastFiredAt, a.LastAt, a.Firing, a.LastValue
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO alert_rule_states (rule_id, target, subject, pending_since, firing, last_fired_at, last_value, last_at)
		SELECT u.* FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::boolean[], $6::timestamptz[],
			$7::double precision[], $8::timestamptz[]) AS u (rule_id, target, subject, pending_since, firing, last_fired_at, last_value, last_at)
		WHERE EXISTS (SELECT 1 FROM alert_rules r WHERE r.id = u.rule_id)
		ON CONFLICT (rule_id, target, subject) DO UPDATE SET pending_since = EXCLUDED.pending_since,
			firing = EXCLUDED.firing, last_fired_at = EXCLUDED.last_fired_at, last_value = EXCLUDED.last_value,
			last_at = EXCLUDED.last_at`, rules, targets, subjects, pending, firing, fired, values, at)
	return mapErr(err, "alert rule states")
}

// ResetStaleAlertSeries ends the runs of the series not observed since
// before (their target stopped or disappeared): they are neither pending
// nor firing any more. It returns how many it reset.
func (s *Store) ResetStaleAlertSeries(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE alert_rule_states SET pending_since = NULL, firing = false
		WHERE last_at < $1 AND (pending_since IS NOT NULL OR firing)`, before)
	return tag.RowsAffected(), mapErr(err, "alert rule states")
}
