package dashboard

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/writeonly"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// pluginRow is one installed plugin with whether its settings have a form.
type pluginRow struct {
	api.PluginInfo
	HasSettings bool
}

func (d *Dashboard) listPlugins(r *request) ([]api.PluginInfo, error) {
	if d.opts.Plugins == nil {
		return nil, nil
	}
	return d.opts.Plugins.ListPlugins(r.c.UserContext())
}

func (d *Dashboard) pluginsPage(r *request) error {
	items, err := d.listPlugins(r)
	if err != nil {
		return err
	}
	rows := make([]pluginRow, 0, len(items))
	for _, p := range items {
		s, err := parseSchema(p.Schema)
		rows = append(rows, pluginRow{PluginInfo: p, HasSettings: err == nil && len(s.Properties) > 0})
	}
	return r.render(fiber.StatusOK, "plugins", &view{Title: "Plugins", Nav: "plugins", Data: rows})
}

type pluginData struct {
	Plugin  api.PluginInfo
	Form    settingsForm
	CanEdit bool
	// Checked is set after settings passed validation.
	Checked bool
	// App is set when the form edits an application's build settings
	// (the builder's per-app schema) rather than the plugin's own settings.
	App *store.Application
}

func (d *Dashboard) findPlugin(r *request) (api.PluginInfo, *schema, error) {
	items, err := d.listPlugins(r)
	if err != nil {
		return api.PluginInfo{}, nil, err
	}
	id := r.c.Params("plugin")
	for _, p := range items {
		if p.ID == id {
			s, err := parseSchema(p.Schema)
			if err != nil {
				return p, nil, &pageError{status: fiber.StatusUnprocessableEntity, title: "Unreadable settings schema",
					msg: "The plugin " + p.ID + " describes its settings with a schema the dashboard cannot read: " + err.Error()}
			}
			return p, s, nil
		}
	}
	return api.PluginInfo{}, nil, notFound("plugin")
}

func (d *Dashboard) pluginSettingsPage(r *request) error {
	p, s, err := d.findPlugin(r)
	if err != nil {
		return err
	}
	admin, err := d.isInstanceAdmin(r)
	if err != nil {
		return err
	}
	// Saved settings are for instance administrators only, as in the API
	// (GET /api/v1/plugins/{id}/settings): a notifier's URL can be a secret.
	var values map[string]string // nil: the schema's defaults
	var saved json.RawMessage
	if admin {
		if saved, err = d.store.PluginSettings(r.c.UserContext(), p.ID); err != nil {
			return err
		}
		if saved != nil {
			shown, err := writeonly.Redact(p.Schema, saved) // secrets never reach the page
			if err != nil {
				return err
			}
			values = settingsValues(shown)
		}
	}
	form := buildForm(s, values, nil)
	form.keepSecrets(writeonly.Secrets(p.Schema, saved))
	data := pluginData{Plugin: p, Form: form, CanEdit: admin}
	return r.render(fiber.StatusOK, "plugin", &view{Title: p.ID + " settings", Nav: "plugins", Data: data})
}

// pluginSettingsSubmit validates settings against the plugin's schema, then
// has the plugin itself check and apply them (its field errors are shown
// next to the fields), and saves them sealed so they survive restarts.
func (d *Dashboard) pluginSettingsSubmit(r *request) error {
	admin, err := d.isInstanceAdmin(r)
	if err != nil {
		return err
	}
	if !admin {
		return errForbidden
	}
	p, s, err := d.findPlugin(r)
	if err != nil {
		return err
	}
	saved, err := d.store.PluginSettings(r.c.UserContext(), p.ID)
	if err != nil {
		return err
	}
	// A secret left empty keeps its saved value.
	secrets := writeonly.Secrets(p.Schema, saved)
	doc, raw, errs := parseSettingsKeeping(s, func(input string) string { return r.c.FormValue(input) }, secrets)
	if len(errs) == 0 {
		var settings json.RawMessage
		settings, errs, err = d.applyPluginSettings(r, p, saved, doc)
		if err != nil {
			return err
		}
		if len(errs) == 0 {
			secrets = writeonly.Secrets(p.Schema, settings)
		}
	}
	form := buildForm(s, raw, errs)
	form.keepSecrets(secrets)
	data := pluginData{Plugin: p, Form: form, CanEdit: true, Checked: len(errs) == 0}
	status := fiber.StatusOK
	if len(errs) > 0 {
		status = fiber.StatusUnprocessableEntity
	}
	return r.render(status, "plugin", &view{Title: p.ID + " settings", Nav: "plugins", Data: data})
}

type keysData struct {
	Keys []store.APIKey
	// Created is the key just created, with its token shown once.
	Created *api.CreatedAPIKey
}

func (d *Dashboard) keysPage(r *request) error {
	return d.renderKeys(r, fiber.StatusOK, nil, "", nil)
}

// renderKeys renders the keys page (which also changes the password) with
// the form named name (key or password) showing f, when f is set.
func (d *Dashboard) renderKeys(r *request, status int, created *api.CreatedAPIKey, name string, f *form) error {
	keys, _, err := d.store.ListAPIKeys(r.c.UserContext(), r.p.User.ID, store.Page{Limit: maxListed})
	if err != nil {
		return err
	}
	v := &view{Title: "API keys", Nav: "keys", Data: keysData{Keys: keys, Created: created}}
	if f != nil {
		v.forms = map[string]*form{name: f}
	}
	return r.render(status, "keys", v)
}

func (d *Dashboard) createKey(r *request) error {
	name := strings.TrimSpace(r.c.FormValue("name"))
	days, err := formInt("expires_in_days", r.c.FormValue("expires_in_days"), 0)
	if err == nil {
		err = validateText("name", name, 1, 100)
	}
	if err == nil && (days < 0 || days > 3650) {
		err = invalid("expires_in_days", "must be from 1 to 3650 days (empty: never expires)")
	}
	if err != nil {
		return d.renderKeys(r, fiber.StatusUnprocessableEntity, nil, "key", formWith(r, err, "name", "expires_in_days"))
	}
	var expires *time.Time
	if days > 0 {
		t := time.Now().Add(time.Duration(days) * 24 * time.Hour)
		expires = &t
	}
	token := auth.NewToken(auth.APIKeyPrefix)
	k, err := d.store.CreateAPIKey(r.c.UserContext(), r.p.User.ID, name, token, expires)
	if err != nil {
		return err
	}
	// Rendered (not redirected) so the token is shown exactly once; the
	// page is no-store.
	return d.renderKeys(r, fiber.StatusOK, &api.CreatedAPIKey{APIKey: k, Token: token}, "", nil)
}

func (d *Dashboard) revokeKey(r *request) error {
	id, err := uuid.Parse(r.c.Params("key"))
	if err != nil {
		return notFound("API key")
	}
	if r.c.FormValue("confirmed") != "yes" {
		return r.confirm("Revoke this API key?", "Programs using it will no longer be able to call the API.", "Revoke key", "/keys")
	}
	if err := d.store.DeleteAPIKey(r.c.UserContext(), r.p.User.ID, id); err != nil {
		return err
	}
	return r.seeOther("/keys", "API key revoked.")
}

// applyPluginSettings merges the form's document over the saved settings
// (secrets left out keep their saved values), sends the result to the
// plugin and saves it when the plugin accepts it; the plugin's refusals
// come back as field errors.
func (d *Dashboard) applyPluginSettings(r *request, p api.PluginInfo, saved json.RawMessage, doc map[string]any) (json.RawMessage, map[string]string, error) {
	if d.opts.PluginSettings == nil {
		return nil, map[string]string{"": "plugins are not available on this server"}, nil
	}
	next, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, err
	}
	settings, err := writeonly.Merge(p.Schema, saved, next)
	if err != nil {
		return nil, nil, err
	}
	if err := d.opts.PluginSettings.ConfigurePlugin(r.c.UserContext(), p.ID, settings); err != nil {
		return nil, pluginFieldErrors(err), nil
	}
	return settings, nil, d.store.SetPluginSettings(r.c.UserContext(), p.ID, settings, r.p.User.ID)
}

// settingsValues turns saved settings into form input values.
func settingsValues(saved json.RawMessage) map[string]string {
	if len(saved) == 0 {
		return nil
	}
	var doc map[string]any
	if json.Unmarshal(saved, &doc) != nil {
		return nil
	}
	out := make(map[string]string, len(doc))
	for k, v := range doc {
		switch v := v.(type) {
		case string:
			out[k] = v
		case nil:
		default:
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	return out
}

// isInstanceAdmin reports whether the caller may configure instance-wide
// plugins: an instance administrator (users.instance_admin).
func (d *Dashboard) isInstanceAdmin(r *request) (bool, error) {
	return r.p != nil && r.p.User.InstanceAdmin, nil
}
