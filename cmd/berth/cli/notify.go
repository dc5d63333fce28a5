package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// notifyChannel is a notification channel as the API returns it (its
// settings are write-only and never returned).
type notifyChannel struct {
	ID             string        `json:"id"`
	OrganizationID string        `json:"organization_id"`
	Name           string        `json:"name"`
	PluginID       string        `json:"plugin_id"`
	Events         []string      `json:"events"`
	ProjectIDs     []string      `json:"project_ids"`
	EnvironmentIDs []string      `json:"environment_ids"`
	InstanceEvents bool          `json:"instance_events"`
	Enabled        bool          `json:"enabled"`
	Health         channelHealth `json:"health"`
	CreatedAt      string        `json:"created_at"`
	UpdatedAt      string        `json:"updated_at"`
}

// channelHealth is how a channel's deliveries went lately.
type channelHealth struct {
	State               string  `json:"state"`
	ConsecutiveFailures int     `json:"consecutive_failures"`
	LastError           string  `json:"last_error"`
	LastErrorAt         *string `json:"last_error_at"`
	LastDeliveredAt     *string `json:"last_delivered_at"`
}

// notifyEvent is one event type a channel can receive.
type notifyEvent struct {
	Type         string `json:"type"`
	Title        string `json:"title"`
	Description  string `json:"description"`
	InstanceOnly bool   `json:"instance_only"`
}

// multiFlag collects a repeatable flag; each value may also be a
// comma-separated list (--events deploy.failed,backup.failed).
type multiFlag []string

func (l *multiFlag) String() string { return strings.Join(*l, ",") }

func (l *multiFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func channelPath(id string, rest ...string) string {
	return api + "/notification-channels/" + url.PathEscape(id) + strings.Join(rest, "")
}

// channelFlags are the flags create and update share.
type channelFlags struct {
	fs                        *flag.FlagSet
	settings                  settingsFlag
	settingsFile, secretStdin *string
	events, projects, envs    multiFlag
	instanceEvents, disable   *bool
	enable                    *bool
}

func addChannelFlags(fs *flag.FlagSet, update bool) *channelFlags {
	f := &channelFlags{fs: fs, settings: settingsFlag{}}
	fs.Var(f.settings, "set", "a plugin setting KEY=VALUE (repeatable), e.g. --set url=https://hooks.example.com/berth")
	f.settingsFile = fs.String("settings-file", "", "read plugin settings from this JSON object file (- for stdin); --set overrides its keys")
	f.secretStdin = fs.String("secret-stdin", "", "read this setting's value from stdin (e.g. secret or webhook_url)")
	fs.Var(&f.events, "events", "events the channel receives, comma-separated or repeated (see `berth notify events`)")
	fs.Var(&f.projects, "project", "only events of this project (name or id; repeatable; default: every project)")
	fs.Var(&f.envs, "environment", "only events of this environment (id, PROJECT/ENV or a name unique among the projects; repeatable)")
	f.instanceEvents = fs.Bool("instance-events", false, "also receive instance-wide events (instance administrators only)")
	f.disable = fs.Bool("disable", false, "disable the channel (it keeps its settings but receives nothing)")
	if update {
		f.enable = fs.Bool("enable", false, "enable the channel")
	}
	return f
}

// given reports whether the flag name was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// settingsDoc builds the settings object from --settings-file, --set and
// --secret-stdin (in that order of precedence, lowest first).
func (f *channelFlags) settingsDoc(e *Env) (map[string]any, error) {
	doc := map[string]any{}
	if *f.settingsFile != "" {
		var data []byte
		var err error
		if *f.settingsFile == "-" {
			if *f.secretStdin != "" {
				return nil, usageErr("--settings-file - and --secret-stdin both read stdin: give one")
			}
			data, err = io.ReadAll(e.Stdin)
		} else {
			data, err = os.ReadFile(*f.settingsFile)
		}
		if err != nil {
			return nil, fmt.Errorf("read settings: %w", err)
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, usageErr("--settings-file must hold a JSON object: %v", err)
		}
	}
	for k, v := range f.settings {
		doc[k] = v
	}
	if *f.secretStdin != "" {
		v, err := e.readPassword(*f.secretStdin + ": ")
		if err != nil {
			return nil, err
		}
		doc[*f.secretStdin] = v
	}
	return doc, nil
}

// body builds a create or update request body from the flags given.
func (f *channelFlags) body(ctx context.Context, e *Env, c *Client, org string) (map[string]any, error) {
	body := map[string]any{}
	doc, err := f.settingsDoc(e)
	if err != nil {
		return nil, err
	}
	if len(doc) > 0 {
		body["settings"] = doc
	}
	if given(f.fs, "events") {
		body["events"] = []string(f.events)
	}
	var projects []project
	if given(f.fs, "project") || given(f.fs, "environment") {
		if projects, err = listAll[project](ctx, c, api+"/projects", nil); err != nil {
			return nil, err
		}
		var mine []project
		for _, p := range projects {
			if p.OrganizationID == org || org == "" {
				mine = append(mine, p)
			}
		}
		projects = mine
	}
	var chosen []project
	if given(f.fs, "project") {
		ids := []string{}
		for _, ref := range f.projects {
			p, err := findProject(projects, ref)
			if err != nil {
				return nil, err
			}
			chosen = append(chosen, p)
			ids = append(ids, p.ID)
		}
		body["project_ids"] = ids
	}
	if given(f.fs, "environment") {
		ids := []string{}
		for _, ref := range f.envs {
			id, err := findEnvironment(ctx, c, projects, chosen, ref)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		body["environment_ids"] = ids
	}
	if given(f.fs, "instance-events") {
		body["instance_events"] = *f.instanceEvents
	}
	switch {
	case *f.disable && f.enable != nil && *f.enable:
		return nil, usageErr("give --enable or --disable, not both")
	case *f.disable:
		body["enabled"] = false
	case f.enable != nil && *f.enable:
		body["enabled"] = true
	}
	return body, nil
}

// findProject finds a project by id or name.
func findProject(projects []project, ref string) (project, error) {
	for _, p := range projects {
		if p.ID == ref {
			return p, nil
		}
	}
	var found []project
	for _, p := range projects {
		if strings.EqualFold(p.Name, ref) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		if _, err := uuid.Parse(ref); err == nil {
			return project{ID: ref}, nil // the server says whether it exists
		}
		return project{}, &exitError{code: ExitNotFound, msg: fmt.Sprintf("no project named %q in this organization", ref)}
	}
	return project{}, usageErr("several projects are named %q: give its id", ref)
}

// findEnvironment finds an environment by id, PROJECT/ENV, or a name that
// is unique among the chosen projects (or all of them).
func findEnvironment(ctx context.Context, c *Client, projects, chosen []project, ref string) (string, error) {
	if _, err := uuid.Parse(ref); err == nil {
		return ref, nil
	}
	search, name := chosen, ref
	if p, e, ok := strings.Cut(ref, "/"); ok {
		pr, err := findProject(projects, p)
		if err != nil {
			return "", err
		}
		search, name = []project{pr}, e
	} else if len(search) == 0 {
		search = projects
	}
	var found []string
	for _, p := range search {
		envs, err := listAll[environment](ctx, c, api+"/projects/"+url.PathEscape(p.ID)+"/environments", nil)
		if err != nil {
			return "", err
		}
		for _, en := range envs {
			if en.Name == name {
				found = append(found, en.ID)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", &exitError{code: ExitNotFound, msg: fmt.Sprintf("no environment %q", ref)}
	}
	return "", usageErr("%d projects have an environment %q: write PROJECT/%s or give its id", len(found), name, name)
}

// healthText is a channel's health for tables: its state, whether it is
// disabled, and the number of failed attempts in a row when there are any.
func healthText(ch notifyChannel) string {
	s := ch.Health.State
	if s == "" {
		s = "unknown"
	}
	if !ch.Enabled {
		s += " (disabled)"
	}
	if n := ch.Health.ConsecutiveFailures; n > 0 {
		s += ", " + strconv.Itoa(n) + " failed in a row"
	}
	return s
}

// lastErrorText is a channel's last error for tables, with when it happened.
func lastErrorText(ch notifyChannel) string {
	if ch.Health.LastError == "" {
		return "-"
	}
	msg := ch.Health.LastError
	if len([]rune(msg)) > 60 {
		msg = string([]rune(msg)[:59]) + "…"
	}
	if ch.Health.LastErrorAt != nil {
		msg += " (" + *ch.Health.LastErrorAt + ")"
	}
	return msg
}

func notifyCmds() []command {
	return []command{
		simple("list", "", "List an organization's notification channels with their health and last error.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			org := fs.String("org", "", "organization id (default: your only organization)")
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				id, err := organizationOf(ctx, c, *org)
				if err != nil {
					return err
				}
				chs, err := listAll[notifyChannel](ctx, c, api+"/organizations/"+url.PathEscape(id)+"/notification-channels", nil)
				if err != nil {
					return err
				}
				return e.print(orEmpty(chs), []string{"ID", "NAME", "PLUGIN", "EVENTS", "HEALTH", "LAST ERROR"}, func(i int) []string {
					ch := chs[i]
					return []string{ch.ID, ch.Name, ch.PluginID, strings.Join(ch.Events, ","), healthText(ch), lastErrorText(ch)}
				}, len(chs))
			}
		}),
		simple("show", "CHANNEL_ID", "Show a notification channel (its settings are write-only and never shown).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				var ch notifyChannel
				if err := c.Do(ctx, "GET", channelPath(a[0]), nil, nil, &ch); err != nil {
					return err
				}
				return e.printObject(ch)
			}
		}),
		simple("create", "NAME", "Create a notification channel on a notifier plugin; settings are write-only.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			org := fs.String("org", "", "organization id (default: your only organization)")
			plugin := fs.String("plugin", "", "notifier plugin id, e.g. notifier.slack or notifier.webhook (required)")
			f := addChannelFlags(fs, false)
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				if *plugin == "" || len(f.events) == 0 {
					return usageErr("berth notify create needs --plugin and --events")
				}
				id, err := organizationOf(ctx, c, *org)
				if err != nil {
					return err
				}
				body, err := f.body(ctx, e, c, id)
				if err != nil {
					return err
				}
				body["name"], body["plugin_id"] = a[0], *plugin
				if _, ok := body["settings"]; !ok {
					body["settings"] = map[string]any{}
				}
				if _, ok := body["enabled"]; !ok {
					body["enabled"] = true
				}
				var ch notifyChannel
				if err := c.Do(ctx, "POST", api+"/organizations/"+url.PathEscape(id)+"/notification-channels", nil, body, &ch); err != nil {
					return err
				}
				return e.printObject(ch)
			}
		}),
		simple("update", "CHANNEL_ID", "Change a channel: settings are merged key by key (--unset removes one), lists given replace the saved ones.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			name := fs.String("name", "", "new name")
			var unset multiFlag
			fs.Var(&unset, "unset", "remove this setting (repeatable)")
			allProjects := fs.Bool("all-projects", false, "receive events of every project again")
			allEnvs := fs.Bool("all-environments", false, "receive events of every environment again")
			f := addChannelFlags(fs, true)
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				var cur notifyChannel
				if given(fs, "project") || given(fs, "environment") {
					if err := c.Do(ctx, "GET", channelPath(a[0]), nil, nil, &cur); err != nil {
						return err
					}
				}
				body, err := f.body(ctx, e, c, cur.OrganizationID)
				if err != nil {
					return err
				}
				if given(fs, "name") {
					body["name"] = *name
				}
				if len(unset) > 0 {
					doc, _ := body["settings"].(map[string]any)
					if doc == nil {
						doc = map[string]any{}
					}
					for _, k := range unset {
						doc[k] = nil
					}
					body["settings"] = doc
				}
				if *allProjects {
					body["project_ids"] = []string{}
				}
				if *allEnvs {
					body["environment_ids"] = []string{}
				}
				return patch(ctx, e, c, channelPath(a[0]), body)
			}
		}),
		deleteCmd("delete", "CHANNEL_ID", "Delete a notification channel.", "/notification-channels/"),
		simple("test", "CHANNEL_ID", "Send a test message through the channel (exit 1 if it was not delivered).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				var res struct {
					OK      bool   `json:"ok"`
					Message string `json:"message"`
				}
				if err := c.Do(ctx, "POST", channelPath(a[0], "/test"), nil, nil, &res); err != nil {
					return err
				}
				if err := e.printObject(res); err != nil {
					return err
				}
				if !res.OK {
					return &exitError{code: ExitError, msg: "test message not delivered: " + res.Message}
				}
				return nil
			}
		}),
		simple("events", "", "List the event types a channel can receive.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				var list struct {
					Items []notifyEvent `json:"items"`
				}
				if err := c.Do(ctx, "GET", api+"/notification-events", nil, nil, &list); err != nil {
					return err
				}
				evs := list.Items
				return e.print(list, []string{"TYPE", "TITLE", "INSTANCE ONLY", "DESCRIPTION"}, func(i int) []string {
					return []string{evs[i].Type, evs[i].Title, strconv.FormatBool(evs[i].InstanceOnly), evs[i].Description}
				}, len(evs))
			}
		}),
	}
}
