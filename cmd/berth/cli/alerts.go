package cli

import (
	"context"
	"flag"
	"net/url"
	"strconv"
	"time"
)

// alertRule is a threshold alert rule as the API returns it.
type alertRule struct {
	ID              string      `json:"id"`
	Scope           string      `json:"scope"`
	ApplicationID   string      `json:"application_id,omitempty"`
	DatabaseID      string      `json:"database_id,omitempty"`
	Target          string      `json:"target"`
	Name            string      `json:"name"`
	Metric          string      `json:"metric"`
	Subject         string      `json:"subject"`
	Threshold       float64     `json:"threshold"`
	DurationSeconds int         `json:"duration_seconds"`
	CooldownSeconds int         `json:"cooldown_seconds"`
	Enabled         bool        `json:"enabled"`
	Status          alertStatus `json:"status"`
}

// alertStatus is a rule's state: ok, pending or firing.
type alertStatus struct {
	State        string   `json:"state"`
	LastValue    *float64 `json:"last_value"`
	LastAt       *string  `json:"last_at"`
	PendingSince *string  `json:"pending_since"`
	LastFiredAt  *string  `json:"last_fired_at"`
}

// alertOwnerFlags adds --app, --database and --servers and returns the
// rules path of the one given.
func alertOwnerFlags(fs *flag.FlagSet) func() (string, error) {
	app := fs.String("app", "", "application id")
	db := fs.String("database", "", "database id")
	servers := fs.Bool("servers", false, "the servers' rules (instance administrators)")
	return func() (string, error) {
		srv := ""
		if *servers {
			srv = "servers"
		}
		if countSet(*app, *db, srv) != 1 {
			return "", usageErr("give exactly one of --app, --database and --servers")
		}
		switch {
		case *app != "":
			return api + "/applications/" + url.PathEscape(*app) + "/alert-rules", nil
		case *db != "":
			return dbPath(*db, "/alert-rules"), nil
		}
		return api + "/servers/alert-rules", nil
	}
}

// alertRuleFlags are the flags create and update share; body returns the
// fields given.
func alertRuleFlags(fs *flag.FlagSet, update bool) func() (map[string]any, error) {
	name := fs.String("name", "", "rule name (default: METRIC above THRESHOLD)")
	metric := fs.String("metric", "", "cpu_percent, memory_percent, disk_percent (servers) or restarts_per_hour (applications, databases)")
	above := fs.Float64("above", 0, "threshold: alert when the value is above it (0–100 for percents)")
	during := fs.Duration("for", 5*time.Minute, "how long the value must stay above the threshold (0: at once; at most 24h)")
	cooldown := fs.Duration("cooldown", 30*time.Minute, "least time between two alerts of the rule (1m to 168h)")
	target := fs.String("target", "", "servers: the node id of one server (default: every server)")
	mount := fs.String("mount", "", "disk_percent: one mount, e.g. / (default: every mount)")
	disable := fs.Bool("disable", false, "disable the rule")
	var enable *bool
	if update {
		enable = fs.Bool("enable", false, "enable the rule")
	}
	return func() (map[string]any, error) {
		body := map[string]any{}
		setIfFlag(fs, body, "name", *name)
		setIfFlag(fs, body, "metric", *metric)
		if given(fs, "above") {
			body["threshold"] = *above
		}
		for _, d := range []struct {
			flag, key string
			v         time.Duration
		}{{"for", "duration_seconds", *during}, {"cooldown", "cooldown_seconds", *cooldown}} {
			if given(fs, d.flag) || !update {
				if d.v%time.Second != 0 {
					return nil, usageErr("--%s must be whole seconds", d.flag)
				}
				body[d.key] = int(d.v / time.Second)
			}
		}
		setIfFlag(fs, body, "target", *target)
		if given(fs, "mount") {
			body["subject"] = *mount
		}
		switch {
		case *disable && enable != nil && *enable:
			return nil, usageErr("give --enable or --disable, not both")
		case *disable:
			body["enabled"] = false
		case enable != nil && *enable:
			body["enabled"] = true
		}
		return body, nil
	}
}

// alertStateText is a rule's state for tables.
func alertStateText(r alertRule) string {
	if !r.Enabled {
		return "disabled"
	}
	if r.Status.State == "" {
		return "ok"
	}
	return r.Status.State
}

func alertCmds() []command {
	return []command{
		simple("list", "", "List the alert rules of an application (--app), a database (--database) or the servers (--servers), with their state.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			owner := alertOwnerFlags(fs)
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				base, err := owner()
				if err != nil {
					return err
				}
				rs, err := listAll[alertRule](ctx, c, base, nil)
				if err != nil {
					return err
				}
				return e.print(orEmpty(rs), []string{"ID", "NAME", "CONDITION", "COOLDOWN", "STATE", "LAST VALUE", "LAST ALERT"}, func(i int) []string {
					r := rs[i]
					last, fired := "-", "-"
					if r.Status.LastValue != nil {
						last = strconv.FormatFloat(*r.Status.LastValue, 'f', 1, 64)
					}
					if r.Status.LastFiredAt != nil {
						fired = *r.Status.LastFiredAt
					}
					return []string{r.ID, r.Name, alertCondition(r), (time.Duration(r.CooldownSeconds) * time.Second).String(), alertStateText(r), last, fired}
				}, len(rs))
			}
		}),
		getCmd("show", "RULE_ID", "Show an alert rule with its state.", "/alert-rules/"),
		simple("create", "", "Create an alert rule: --metric above --above for --for emits threshold.crossed, then again only after --cooldown.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			owner := alertOwnerFlags(fs)
			body := alertRuleFlags(fs, false)
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				base, err := owner()
				if err != nil {
					return err
				}
				if !given(fs, "metric") || !given(fs, "above") {
					return usageErr("berth alerts create needs --metric and --above")
				}
				b, err := body()
				if err != nil {
					return err
				}
				var r alertRule
				if err := c.Do(ctx, "POST", base, nil, b, &r); err != nil {
					return err
				}
				return e.printObject(r)
			}
		}),
		simple("update", "RULE_ID", "Change an alert rule: only the flags given change.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			body := alertRuleFlags(fs, true)
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				b, err := body()
				if err != nil {
					return err
				}
				return patch(ctx, e, c, api+"/alert-rules/"+url.PathEscape(a[0]), b)
			}
		}),
		deleteCmd("delete", "RULE_ID", "Delete an alert rule.", "/alert-rules/"),
	}
}

// alertCondition is a rule's condition for tables: "cpu_percent > 90 for 5m0s".
func alertCondition(r alertRule) string {
	s := r.Metric
	if r.Subject != "" {
		s += "(" + r.Subject + ")"
	}
	if r.Target != "" {
		s = r.Target + ":" + s
	}
	s += " > " + strconv.FormatFloat(r.Threshold, 'f', -1, 64)
	if r.DurationSeconds > 0 {
		s += " for " + (time.Duration(r.DurationSeconds) * time.Second).String()
	}
	return s
}
