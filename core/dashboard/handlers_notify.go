package dashboard

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/notify"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/writeonly"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// An organization's notification channels: the list with each channel's
// health (GET /orgs/:id/notifications), and one form to add or change a
// channel, its settings rendered from its notifier plugin's schema. Every
// change goes through service.Notifications, the API's path.

func notificationsURL(org uuid.UUID) string { return "/orgs/" + org.String() + "/notifications" }

func channelURL(org, ch uuid.UUID) string { return notificationsURL(org) + "/" + ch.String() }

// channelRow is one channel as the list shows it.
type channelRow struct {
	store.NotificationChannel
	// Scope says which projects and environments it hears of.
	Scope string
}

// notificationsData is the notifications page of an organization.
type notificationsData struct {
	Org      store.Organization
	Orgs     []orgView
	Channels []channelRow
	Plugins  []string
	// Refresh is set while a channel is failing (being retried): the list
	// refreshes itself until its deliveries settle.
	Refresh           bool
	CanEdit, CanAdmin bool
}

func (d *Dashboard) notificationsPage(r *request) error {
	ctx := r.c.UserContext()
	org := r.org
	data := notificationsData{Org: org, CanEdit: r.can(org.ID, store.RoleMember), CanAdmin: r.can(org.ID, store.RoleAdmin),
		Plugins: d.pluginIDs(ctx, "notifier.")}
	var err error
	if data.Orgs, err = d.orgs(ctx, r.p); err != nil {
		return err
	}
	chs, _, err := d.store.ListNotificationChannels(ctx, []uuid.UUID{org.ID}, store.Page{Limit: maxListed})
	if err != nil {
		return err
	}
	names, err := d.scopeNames(ctx, org.ID)
	if err != nil {
		return err
	}
	for _, ch := range chs {
		data.Channels = append(data.Channels, channelRow{NotificationChannel: ch, Scope: names.describe(ch)})
		if ch.Enabled && ch.Health.State == store.ChannelFailing {
			data.Refresh = true
		}
	}
	return r.render(fiber.StatusOK, "notifications", &view{Title: "Notifications · " + org.Name, Nav: "settings", Data: data})
}

// scopeNames are the names of an organization's projects and
// environments by id, to describe channel filters.
type scopeNames map[uuid.UUID]string

func (d *Dashboard) scopeNames(ctx context.Context, org uuid.UUID) (scopeNames, error) {
	out := scopeNames{}
	projects, _, err := d.store.ListProjects(ctx, []uuid.UUID{org}, store.Page{Limit: maxListed})
	if err != nil {
		return nil, err
	}
	for _, p := range projects {
		out[p.ID] = p.Name
		envs, _, err := d.store.ListEnvironments(ctx, p.ID, store.Page{Limit: maxListed})
		if err != nil {
			return nil, err
		}
		for _, e := range envs {
			out[e.ID] = p.Name + "/" + e.Name
		}
	}
	return out, nil
}

func (n scopeNames) describe(ch store.NotificationChannel) string {
	var parts []string
	for _, id := range ch.ProjectIDs {
		parts = append(parts, n.name(id))
	}
	for _, id := range ch.EnvironmentIDs {
		parts = append(parts, n.name(id))
	}
	if len(parts) == 0 {
		return "every project"
	}
	return strings.Join(parts, ", ")
}

func (n scopeNames) name(id uuid.UUID) string {
	if s, ok := n[id]; ok {
		return s
	}
	return "(deleted " + shortID(id) + ")"
}

// eventGroup is one fieldset of event checkboxes.
type eventGroup struct {
	Title  string
	Events []eventPick
}

type eventPick struct {
	notify.EventInfo
	Checked bool
}

// eventGroupTitles orders and names the catalogue's groups.
var eventGroupTitles = []struct{ group, title string }{
	{"deployments", "Deployments"}, {"previews", "Previews"}, {"backups", "Backups"}, {"restores", "Restores"},
	{"jobs", "Scheduled jobs"}, {"certificates", "Certificates"}, {"server", "Server"},
}

// eventGroups lays out the event checkboxes; instance-only events are
// offered to instance administrators only.
func eventGroups(checked []string, admin bool) []eventGroup {
	on := map[string]bool{}
	for _, t := range checked {
		on[t] = true
	}
	byGroup := map[string][]eventPick{}
	for _, e := range notify.Catalogue {
		if e.InstanceOnly && !admin && !on[string(e.Type)] {
			continue
		}
		byGroup[e.Group] = append(byGroup[e.Group], eventPick{EventInfo: e, Checked: on[string(e.Type)]})
	}
	var out []eventGroup
	for _, g := range eventGroupTitles {
		if evs := byGroup[g.group]; len(evs) > 0 {
			out = append(out, eventGroup{Title: g.title, Events: evs})
			delete(byGroup, g.group)
		}
	}
	var rest []string
	for g := range byGroup {
		rest = append(rest, g)
	}
	sort.Strings(rest)
	for _, g := range rest {
		out = append(out, eventGroup{Title: g, Events: byGroup[g]})
	}
	return out
}

// projectPick is a project of the filter picker with its environments.
type projectPick struct {
	ID      uuid.UUID
	Name    string
	Checked bool
	Envs    []envPick
}

type envPick struct {
	ID      uuid.UUID
	Name    string
	Checked bool
}

func (d *Dashboard) projectPicks(ctx context.Context, org uuid.UUID, projects, envs []string) ([]projectPick, error) {
	pOn, eOn := map[string]bool{}, map[string]bool{}
	for _, id := range projects {
		pOn[id] = true
	}
	for _, id := range envs {
		eOn[id] = true
	}
	ps, _, err := d.store.ListProjects(ctx, []uuid.UUID{org}, store.Page{Limit: maxListed})
	if err != nil {
		return nil, err
	}
	var out []projectPick
	for _, p := range ps {
		pick := projectPick{ID: p.ID, Name: p.Name, Checked: pOn[p.ID.String()]}
		es, _, err := d.store.ListEnvironments(ctx, p.ID, store.Page{Limit: maxListed})
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			pick.Envs = append(pick.Envs, envPick{ID: e.ID, Name: e.Name, Checked: eOn[e.ID.String()]})
		}
		out = append(out, pick)
	}
	return out, nil
}

// channelData is the form adding or changing a channel.
type channelData struct {
	Org store.Organization
	// Channel is nil on the "new channel" form.
	Channel  *store.NotificationChannel
	Plugin   api.PluginInfo
	Name     string
	Form     settingsForm
	Groups   []eventGroup
	Projects []projectPick
	Enabled  bool
	// InstanceEvents is the toggle's value; ShowInstance shows it (to
	// instance administrators only).
	InstanceEvents, ShowInstance bool
	// Errors by form field: name, events, project_ids, environment_ids,
	// instance_events, enabled; Message names no field.
	Errors   map[string]string
	Message  string
	CanAdmin bool
}

// E returns a field's error.
func (c channelData) E(field string) string { return c.Errors[field] }

// notifierPlugin finds an installed notifier plugin and its settings schema.
func (d *Dashboard) notifierPlugin(ctx context.Context, id string) (api.PluginInfo, *schema, error) {
	return d.kindPlugin(ctx, "notifier", id, "notifier.slack, notifier.webhook, …")
}

// newChannelPage shows the form of the notifier plugin named by ?plugin=
// (default: the first installed).
func (d *Dashboard) newChannelPage(r *request) error {
	ctx := r.c.UserContext()
	id := r.c.Query("plugin")
	if ids := d.pluginIDs(ctx, "notifier."); id == "" && len(ids) > 0 {
		id = ids[0]
	}
	p, s, err := d.notifierPlugin(ctx, id)
	if err != nil {
		return err
	}
	data := channelData{Org: r.org, Plugin: p, Form: buildForm(s, nil, nil), Enabled: true,
		Groups: eventGroups([]string{"deploy.failed"}, r.p.User.InstanceAdmin), ShowInstance: r.p.User.InstanceAdmin,
		CanAdmin: r.can(r.org.ID, store.RoleAdmin)}
	if data.Projects, err = d.projectPicks(ctx, r.org.ID, nil, nil); err != nil {
		return err
	}
	return r.render(fiber.StatusOK, "notification", &view{Title: "New notification channel", Nav: "settings", Data: data})
}

// channelOf loads the channel named by :channel; one of another
// organization than the route's (whose role the pipeline checked) is not
// found.
func (d *Dashboard) channelOf(r *request) (store.NotificationChannel, error) {
	id, err := uuid.Parse(r.c.Params("channel"))
	if err != nil {
		return store.NotificationChannel{}, notFound("notification channel")
	}
	ch, err := d.store.GetNotificationChannel(r.c.UserContext(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && ch.OrganizationID != r.org.ID) {
		return ch, notFound("notification channel")
	}
	return ch, err
}

// channelPage shows a channel's form with its saved values; secrets are
// never sent to the browser (left empty, they keep their saved value).
func (d *Dashboard) channelPage(r *request) error {
	ctx := r.c.UserContext()
	ch, err := d.channelOf(r)
	if err != nil {
		return err
	}
	p, s, err := d.notifierPlugin(ctx, ch.PluginID)
	if err != nil {
		return err
	}
	values := map[string]string{} // viewers and members see no settings
	if r.can(r.org.ID, store.RoleAdmin) {
		shown, err := writeonly.Redact(p.Schema, ch.Settings)
		if err != nil {
			return err
		}
		if v := settingsValues(shown); v != nil {
			values = v
		}
	}
	form := buildForm(s, values, nil)
	form.keepSecrets(writeonly.Secrets(p.Schema, ch.Settings))
	data := channelData{Org: r.org, Channel: &ch, Plugin: p, Name: ch.Name, Form: form, Enabled: ch.Enabled,
		InstanceEvents: ch.InstanceEvents, ShowInstance: r.p.User.InstanceAdmin,
		Groups: eventGroups(ch.Events, r.p.User.InstanceAdmin), CanAdmin: r.can(r.org.ID, store.RoleAdmin)}
	if data.Projects, err = d.projectPicks(ctx, r.org.ID, idStrings(ch.ProjectIDs), idStrings(ch.EnvironmentIDs)); err != nil {
		return err
	}
	return r.render(fiber.StatusOK, "notification", &view{Title: ch.Name + " · notifications", Nav: "settings", Data: data})
}

func idStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// formList returns every value of a repeated form field.
func (r *request) formList(name string) []string {
	var out []string
	for _, v := range r.c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	if out == nil {
		if mf, err := r.c.MultipartForm(); err == nil {
			out = mf.Value[name]
		}
	}
	return out
}

// formIDs parses a repeated field of ids; a value that is not an id is
// the field's error.
func formIDs(field string, values []string) ([]uuid.UUID, error) {
	out := []uuid.UUID{}
	for i, v := range values {
		id, err := uuid.Parse(v)
		if err != nil {
			return nil, invalid(field, "item %d is not an id", i)
		}
		out = append(out, id)
	}
	return out, nil
}

// channelSubmission is a submitted channel form.
type channelSubmission struct {
	name                       string
	events, projectIDs, envIDs []string
	enabled, instanceEvents    bool
	settings                   map[string]any
	raw                        map[string]string
	errs                       map[string]string // settings errors by property
	projects, environments     []uuid.UUID
	fieldErrs                  map[string]string
}

func (d *Dashboard) readChannelForm(r *request, s *schema, saved map[string]bool) channelSubmission {
	sub := channelSubmission{name: strings.TrimSpace(r.c.FormValue("name")), events: r.formList("events"),
		projectIDs: r.formList("project_ids"), envIDs: r.formList("environment_ids"),
		enabled: r.c.FormValue("enabled") == "on", instanceEvents: r.c.FormValue("instance_events") == "on",
		fieldErrs: map[string]string{}}
	sub.settings, sub.raw, sub.errs = parseSettingsKeeping(s, func(input string) string { return r.c.FormValue(input) }, saved)
	var err error
	if sub.projects, err = formIDs("project_ids", sub.projectIDs); err != nil {
		sub.fieldErrs["project_ids"] = problem.Classify(err).Message
	}
	if sub.environments, err = formIDs("environment_ids", sub.envIDs); err != nil {
		sub.fieldErrs["environment_ids"] = problem.Classify(err).Message
	}
	return sub
}

// place puts a service error next to the field it names: settings.X on
// the settings form, events[2] on the events, anything else on the form.
func (sub *channelSubmission) place(err error) (status int, message string) {
	var he *hostaccess.ForbiddenError
	if errors.As(err, &he) {
		sub.errs[strings.TrimPrefix(he.Field, "settings.")] = he.Message
		return fiber.StatusForbidden, ""
	}
	p := problem.Classify(err)
	field := p.Field
	if i := strings.IndexByte(field, '['); i > 0 {
		field = field[:i]
	}
	switch {
	case strings.HasPrefix(field, "settings."):
		sub.errs[strings.TrimPrefix(field, "settings.")] = p.Message
	case field == "settings":
		return p.Status(), "Settings: " + p.Message
	case field == "name" || field == "events" || field == "project_ids" || field == "environment_ids" ||
		field == "instance_events" || field == "enabled" || field == "plugin_id":
		sub.fieldErrs[field] = p.Message
	default:
		return p.Status(), p.Message
	}
	return p.Status(), ""
}

// rerender shows the submitted form again with its errors.
func (d *Dashboard) rerenderChannel(r *request, status int, ch *store.NotificationChannel, p api.PluginInfo, s *schema,
	sub channelSubmission, secrets map[string]bool, message string) error {
	form := buildForm(s, sub.raw, sub.errs)
	form.keepSecrets(secrets)
	data := channelData{Org: r.org, Channel: ch, Plugin: p, Name: sub.name, Form: form, Enabled: sub.enabled,
		InstanceEvents: sub.instanceEvents, ShowInstance: r.p.User.InstanceAdmin, Errors: sub.fieldErrs, Message: message,
		Groups: eventGroups(sub.events, r.p.User.InstanceAdmin), CanAdmin: true}
	var err error
	if data.Projects, err = d.projectPicks(r.c.UserContext(), r.org.ID, sub.projectIDs, sub.envIDs); err != nil {
		return err
	}
	title := "New notification channel"
	if ch != nil {
		title = ch.Name + " · notifications"
	}
	return r.render(status, "notification", &view{Title: title, Nav: "settings", Data: data})
}

// createChannel checks the settings against the plugin's schema and has
// the service create the channel; secret settings are never shown again.
func (d *Dashboard) createChannel(r *request) error {
	ctx := r.c.UserContext()
	p, s, err := d.notifierPlugin(ctx, r.c.FormValue("plugin_id"))
	if err != nil {
		return err
	}
	sub := d.readChannelForm(r, s, nil)
	status, message := fiber.StatusUnprocessableEntity, ""
	if len(sub.errs) == 0 && len(sub.fieldErrs) == 0 {
		settings, err := destinationSettings(sub.settings)
		if err != nil {
			return err
		}
		in := service.NewChannel{Name: sub.name, PluginID: p.ID, Settings: settings, Events: sub.events,
			ProjectIDs: sub.projects, EnvironmentIDs: sub.environments, Enabled: &sub.enabled}
		if sub.instanceEvents {
			in.InstanceEvents = &sub.instanceEvents // refused unless an instance administrator asks
		}
		ch, err := d.svc.Notifications.Create(ctx, r.p, r.org.ID, in)
		switch {
		case err == nil:
			return r.seeOther(notificationsURL(r.org.ID), "Notification channel "+ch.Name+" added. Send it a test to check it.")
		case problem.IsInput(err) || errors.As(err, new(*hostaccess.ForbiddenError)):
			status, message = sub.place(err)
		default:
			return err
		}
	}
	return d.rerenderChannel(r, status, nil, p, s, sub, nil, message)
}

// updateChannel saves the form over a channel: settings are merged key by
// key (a secret left empty keeps its saved value, another setting left
// empty is removed), the lists replace the saved ones.
func (d *Dashboard) updateChannel(r *request) error {
	ctx := r.c.UserContext()
	ch, err := d.channelOf(r)
	if err != nil {
		return err
	}
	p, s, err := d.notifierPlugin(ctx, ch.PluginID)
	if err != nil {
		return err
	}
	secrets := writeonly.Secrets(p.Schema, ch.Settings)
	sub := d.readChannelForm(r, s, secrets)
	status, message := fiber.StatusUnprocessableEntity, ""
	if len(sub.errs) == 0 && len(sub.fieldErrs) == 0 {
		patch := map[string]any{}
		for _, prop := range s.Properties {
			if !editable(prop.Schema, prop.Schema.typeName()) {
				continue // set through the API only: kept
			}
			if v, ok := sub.settings[prop.Name]; ok {
				patch[prop.Name] = v
			} else if !secrets[prop.Name] {
				patch[prop.Name] = nil // emptied: removed
			}
		}
		settings, err := destinationSettings(patch)
		if err != nil {
			return err
		}
		events := sub.events
		in := service.ChannelChange{Name: &sub.name, Settings: settings, Events: &events,
			ProjectIDs: &sub.projects, EnvironmentIDs: &sub.environments, Enabled: &sub.enabled}
		if r.p.User.InstanceAdmin {
			in.InstanceEvents = &sub.instanceEvents
		}
		updated, err := d.svc.Notifications.Update(ctx, r.p, ch, in)
		switch {
		case err == nil:
			return r.seeOther(notificationsURL(r.org.ID), "Notification channel "+updated.Name+" saved.")
		case problem.IsInput(err) || errors.As(err, new(*hostaccess.ForbiddenError)):
			status, message = sub.place(err)
		default:
			return err
		}
	}
	return d.rerenderChannel(r, status, &ch, p, s, sub, secrets, message)
}

// testChannel sends a test event through the channel and shows whether it
// was delivered, with the plugin's message.
func (d *Dashboard) testChannel(r *request) error {
	ch, err := d.channelOf(r)
	if err != nil {
		return err
	}
	message, err := d.svc.Notifications.Test(r.c.UserContext(), r.p, ch)
	var pe *problem.Error
	switch {
	case errors.As(err, &pe):
		return err // refused: not allowed, or notifications unavailable
	case err != nil:
		message = "Test of " + ch.Name + " failed: " + err.Error()
	default:
		message = "Test of " + ch.Name + " passed: " + message
	}
	msg := message
	return r.seeOther(notificationsURL(r.org.ID)+"#channel-"+ch.ID.String(), msg)
}

func (d *Dashboard) deleteChannel(r *request) error {
	ch, err := d.channelOf(r)
	if err != nil {
		return err
	}
	back := notificationsURL(r.org.ID)
	if r.c.FormValue("confirmed") != "yes" {
		return r.confirm("Delete notification channel "+ch.Name+"?",
			"berth forgets this channel and its settings; events are no longer sent to it.", "Delete channel", back)
	}
	if err := d.svc.Notifications.Delete(r.c.UserContext(), r.p, ch); err != nil && problem.Classify(err).Kind != problem.NotFound {
		return err
	}
	return r.seeOther(back, "Notification channel "+ch.Name+" deleted.")
}
