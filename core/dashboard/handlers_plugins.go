package dashboard

import (
	"encoding/json"
	"errors"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
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
		settings, errs, err = d.applyPluginSettings(r, p, doc)
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
	days, err := formInt("expires_in_days", r.c.FormValue("expires_in_days"), 0)
	var k store.APIKey
	var token string
	if err == nil {
		k, token, err = d.svc.Accounts.CreateAPIKey(r.c.UserContext(), r.p, service.NewAPIKey{Name: r.c.FormValue("name"), ExpiresInDays: days})
	}
	if isInputError(err) {
		return d.renderKeys(r, inputStatus(err), nil, "key", formWith(r, err, "name", "expires_in_days"))
	}
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
	if err := d.svc.Accounts.RevokeAPIKey(r.c.UserContext(), r.p, id); err != nil {
		return err
	}
	return r.seeOther("/keys", "API key revoked.")
}

// applyPluginSettings has the service merge the form's document over the
// saved settings (secrets left out keep their saved values), send the
// result to the plugin and save it when the plugin accepts it; the
// plugin's refusals come back as field errors.
func (d *Dashboard) applyPluginSettings(r *request, p api.PluginInfo, doc map[string]any) (json.RawMessage, map[string]string, error) {
	next, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, err
	}
	settings, err := d.svc.Plugins.Configure(r.c.UserContext(), r.p, d.opts.PluginSettings,
		service.PluginSettingsChange{ID: p.ID, Schema: p.Schema, Settings: next})
	var pe *problem.Error
	if errors.As(err, &pe) && pe.Kind != problem.Internal {
		return nil, pluginFieldErrors(err), nil
	}
	return settings, nil, err
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
