package dashboard

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/alerts"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
)

// Threshold alert rules (docs/alerts.md): one page per application
// (/apps/:id/alerts), per database (/databases/:id/alerts) and for the
// servers (/instance/alerts, instance administrators), listing each rule
// with its state and a form to add one. Rules named by a form's rule_id
// must belong to the page's owner. Every change goes through
// service.Alerts, the API's path.

// alertOwner is what an alerts page is about.
type alertOwner struct {
	scope  string
	filter store.AlertRuleFilter
	// base is the page's URL; name what the page calls its owner.
	base, name string
	// canEdit: the caller may change the rules.
	canEdit bool
}

func (d *Dashboard) appAlertOwner(r *request) alertOwner {
	a := r.app
	return alertOwner{scope: store.AlertScopeApplication, filter: store.AlertRuleFilter{Scope: store.AlertScopeApplication, ApplicationID: &a.ID},
		base: "/apps/" + a.ID.String() + "/alerts", name: a.Name, canEdit: r.can(a.OrganizationID, store.RoleMember)}
}

func (d *Dashboard) databaseAlertOwner(r *request) alertOwner {
	db := r.database
	return alertOwner{scope: store.AlertScopeDatabase, filter: store.AlertRuleFilter{Scope: store.AlertScopeDatabase, DatabaseID: &db.ID},
		base: "/databases/" + db.ID.String() + "/alerts", name: db.Name, canEdit: r.can(db.OrganizationID, store.RoleMember)}
}

func (d *Dashboard) serverAlertOwner(*request) alertOwner {
	return alertOwner{scope: store.AlertScopeServer, filter: store.AlertRuleFilter{Scope: store.AlertScopeServer},
		base: "/instance/alerts", name: "Servers", canEdit: true}
}

// owns reports whether rule r is one of o's.
func (o alertOwner) owns(r store.AlertRule) bool {
	switch o.scope {
	case store.AlertScopeApplication:
		return r.ApplicationID != nil && *r.ApplicationID == *o.filter.ApplicationID
	case store.AlertScopeDatabase:
		return r.DatabaseID != nil && *r.DatabaseID == *o.filter.DatabaseID
	}
	return r.Scope == store.AlertScopeServer
}

// alertRow is one rule as the page lists it.
type alertRow struct {
	store.AlertRule
	Condition, Cooldown, LastValue string
	// DurationMinutes and CooldownMinutes fill the change form.
	DurationMinutes, CooldownMinutes string
}

// alertsData is an alerts page.
type alertsData struct {
	Scope, Name, Base string
	// Back is the owner's page.
	Back    string
	Server  bool
	Project store.Project
	Env     store.Environment
	Rules   []alertRow
	Metrics []string
	CanEdit bool
}

// alertFields are the create form's fields.
var alertFields = []string{"name", "metric", "threshold", "duration_minutes", "cooldown_minutes", "target", "subject"}

func (d *Dashboard) renderAlerts(r *request, o alertOwner, status int, f *form) error {
	ctx := r.c.UserContext()
	rules, _, err := d.svc.Alerts.List(ctx, r.p, o.filter, store.Page{Limit: maxListed})
	if err != nil {
		return err
	}
	data := alertsData{Scope: o.scope, Name: o.name, Base: o.base, Back: strings.TrimSuffix(o.base, "/alerts"), Server: o.scope == store.AlertScopeServer,
		Metrics: alerts.Metrics(o.scope), CanEdit: o.canEdit}
	if !data.Server {
		envID := r.app.EnvironmentID
		if o.scope == store.AlertScopeDatabase {
			envID = r.database.EnvironmentID
		}
		if data.Env, err = d.store.GetEnvironment(ctx, envID); err != nil {
			return err
		}
		if data.Project, err = d.store.GetProject(ctx, data.Env.ProjectID); err != nil {
			return err
		}
	}
	for _, rule := range rules {
		data.Rules = append(data.Rules, alertRowOf(rule))
	}
	if f == nil {
		f = &form{Values: map[string]string{"duration_minutes": "5", "cooldown_minutes": "30"}}
	}
	return r.render(status, "alerts", &view{Title: "Alerts · " + o.name, Nav: navFor(o.scope), Data: data, forms: map[string]*form{"rule": f}})
}

func navFor(scope string) string {
	if scope == store.AlertScopeServer {
		return "instance"
	}
	return "projects"
}

func alertRowOf(r store.AlertRule) alertRow {
	row := alertRow{AlertRule: r, Cooldown: alerts.Humanize(r.Cooldown()), LastValue: "–",
		DurationMinutes: alertMinutes(r.DurationSeconds), CooldownMinutes: alertMinutes(r.CooldownSeconds)}
	c := r.Metric
	if r.Subject != "" {
		c += " " + r.Subject
	}
	if r.Target != "" {
		c = r.Target + ": " + c
	}
	unit := " %"
	if !alerts.IsPercent(r.Metric) {
		unit = " per hour"
	}
	c += " above " + strconv.FormatFloat(r.Threshold, 'f', -1, 64) + unit
	if r.DurationSeconds > 0 {
		c += " for " + alerts.Humanize(r.Duration())
	} else {
		c += ", at once"
	}
	row.Condition = c
	if v := r.Status.LastValue; v != nil {
		row.LastValue = strconv.FormatFloat(math.Round(*v*10)/10, 'f', -1, 64) + unit
	}
	return row
}

// alertInput reads the create or change form: durations in minutes.
func alertInput(r *request, create bool) (service.AlertRuleInput, error) {
	var in service.AlertRuleInput
	str := func(name string) *string {
		if !create && !r.c.Request().PostArgs().Has(name) {
			return nil
		}
		v := r.c.FormValue(name)
		return &v
	}
	in.Name, in.Target, in.Subject = str("name"), str("target"), str("subject")
	if m := str("metric"); m != nil && (*m != "" || !create) {
		in.Metric = m
	}
	if v := strings.TrimSpace(r.c.FormValue("threshold")); v != "" {
		t, err := formFloat("threshold", v, 0)
		if err != nil {
			return in, err
		}
		in.Threshold = &t
	}
	for _, m := range []struct {
		field string
		dst   **int
	}{{"duration_minutes", &in.DurationSeconds}, {"cooldown_minutes", &in.CooldownSeconds}} {
		v := strings.TrimSpace(r.c.FormValue(m.field))
		if v == "" {
			continue
		}
		mins, err := formFloat(m.field, v, 0)
		if err != nil {
			return in, err
		}
		if mins < -1 || mins > 1e6 {
			return in, invalid(m.field, "must be a number of minutes")
		}
		secs := int(math.Round(mins * 60))
		*m.dst = &secs
	}
	if v := r.c.FormValue("enabled"); v != "" {
		on := v == "true"
		in.Enabled = &on
	}
	return in, nil
}

// formFieldOf reports a service error on the form's field: durations are
// entered in minutes.
func formFieldOf(err error) error {
	if !problem.IsInput(err) {
		return err
	}
	e := problem.Classify(err)
	switch e.Field {
	case "duration_seconds":
		return invalid("duration_minutes", "must be between 0 (at once) and 1440 minutes (24 h)")
	case "cooldown_seconds":
		return invalid("cooldown_minutes", "must be between 1 and 10080 minutes (7 days)")
	}
	return err
}

// ruleOf loads the rule the form's rule_id names, when it is o's and the
// caller may change it.
func (d *Dashboard) ruleOf(r *request, o alertOwner) (store.AlertRule, error) {
	id, err := uuid.Parse(r.c.FormValue("rule_id"))
	if err != nil {
		return store.AlertRule{}, notFound("alert rule")
	}
	res, err := d.svc.Resolve(r.c.UserContext(), r.p, service.AlertRuleResource, id, store.RoleMember)
	if err != nil {
		return store.AlertRule{}, err
	}
	if !o.owns(res.AlertRule) {
		return store.AlertRule{}, notFound("alert rule")
	}
	return res.AlertRule, nil
}

// alertHandlers are the page, create, change and delete handlers of one
// kind of owner.
type alertHandlers struct {
	page, create, update, remove func(*request) error
}

func (d *Dashboard) alertHandlers(owner func(*request) alertOwner) alertHandlers {
	return alertHandlers{
		page: func(r *request) error { return d.renderAlerts(r, owner(r), fiber.StatusOK, nil) },
		create: func(r *request) error {
			o := owner(r)
			in, err := alertInput(r, true)
			if err == nil {
				var rule store.AlertRule
				ctx := r.c.UserContext()
				switch o.scope {
				case store.AlertScopeApplication:
					rule, err = d.svc.Alerts.CreateForApplication(ctx, r.p, r.app, in)
				case store.AlertScopeDatabase:
					rule, err = d.svc.Alerts.CreateForDatabase(ctx, r.p, r.database, in)
				default:
					rule, err = d.svc.Alerts.CreateForServers(ctx, r.p, in)
				}
				if err == nil {
					return r.seeOther(o.base+"#rule-"+rule.ID.String(), "Alert rule "+rule.Name+" added.")
				}
			}
			err = formFieldOf(err)
			if isInputError(err) {
				return d.renderAlerts(r, o, inputStatus(err), formWith(r, err, alertFields...))
			}
			return err
		},
		update: func(r *request) error {
			o := owner(r)
			rule, err := d.ruleOf(r, o)
			if err != nil {
				return err
			}
			in, err := alertInput(r, false)
			if err == nil {
				_, err = d.svc.Alerts.Update(r.c.UserContext(), r.p, rule, in)
			}
			if err = formFieldOf(err); isInputError(err) {
				return &pageError{status: inputStatus(err), title: "Alert rule not changed", msg: problem.Classify(err).Message}
			}
			if err != nil {
				return err
			}
			return r.seeOther(o.base+"#rule-"+rule.ID.String(), "Alert rule "+rule.Name+" saved.")
		},
		remove: func(r *request) error {
			o := owner(r)
			rule, err := d.ruleOf(r, o)
			if err != nil {
				return err
			}
			if r.c.FormValue("confirmed") != "yes" {
				return r.confirm("Delete alert rule "+rule.Name+"?", "berth stops watching this condition and forgets its state.",
					"Delete rule", o.base, "rule_id")
			}
			if err := d.svc.Alerts.Delete(r.c.UserContext(), r.p, rule); err != nil && !errors.Is(err, store.ErrNotFound) &&
				problem.Classify(err).Kind != problem.NotFound {
				return err
			}
			return r.seeOther(o.base, "Alert rule "+rule.Name+" deleted.")
		},
	}
}

// alertMinutes is a number of seconds in minutes, for the change form.
func alertMinutes(seconds int) string {
	return strconv.FormatFloat(float64(seconds)/float64(time.Minute/time.Second), 'f', -1, 64)
}
