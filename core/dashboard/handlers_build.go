package dashboard

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
)

// builderOf finds the application's builder plugin and its per-app schema.
func (d *Dashboard) builderOf(r *request) (api.PluginInfo, *schema, error) {
	if r.app.BuildType == service.BuildTypeAuto {
		return api.PluginInfo{}, nil, &pageError{status: fiber.StatusConflict, title: "No build settings for auto",
			msg: "The build type auto chooses a builder at each deployment and builds with that builder's defaults. To set build settings, choose a build type in the application's settings."}
	}
	items, err := d.listPlugins(r)
	if err != nil {
		return api.PluginInfo{}, nil, err
	}
	id := "builder." + r.app.BuildType
	for _, p := range items {
		if p.ID != id {
			continue
		}
		raw := p.AppSchema
		if len(raw) == 0 {
			raw = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		s, err := parseSchema(raw)
		if err != nil {
			return p, nil, &pageError{status: fiber.StatusUnprocessableEntity, title: "Unreadable build settings schema",
				msg: "The builder " + p.ID + " describes its build settings with a schema the dashboard cannot read: " + err.Error()}
		}
		return p, s, nil
	}
	return api.PluginInfo{}, nil, &pageError{status: fiber.StatusNotFound, title: "No such builder",
		msg: "The builder " + id + " is not installed; choose another build type."}
}

// buildSettingsPage renders the builder's per-app settings as a form.
func (d *Dashboard) buildSettingsPage(r *request) error {
	p, s, err := d.builderOf(r)
	if err != nil {
		return err
	}
	app := r.app
	data := pluginData{Plugin: p, App: &app, Form: buildForm(s, settingsValues(app.BuildSettings), nil),
		CanEdit: r.can(app.OrganizationID, store.RoleMember)}
	return r.render(fiber.StatusOK, "plugin", &view{Title: "Build settings of " + app.Name, Nav: "projects", Data: data})
}

// buildSettingsSubmit validates the form against the builder's schema and
// stores it as the application's build settings.
func (d *Dashboard) buildSettingsSubmit(r *request) error {
	p, s, err := d.builderOf(r)
	if err != nil {
		return err
	}
	doc, raw, errs := parseSettings(s, func(input string) string { return r.c.FormValue(input) })
	app := r.app
	status := fiber.StatusOK
	if len(errs) == 0 {
		settings, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		saved, err := d.svc.Applications.SetBuildSettings(r.c.UserContext(), r.p, app, settings)
		var pe *problem.Error
		switch {
		case errors.As(err, &pe) && strings.HasPrefix(pe.Field, "build_settings."):
			// The builder's schema, checked by the service, refused a
			// value: shown next to its field.
			errs[strings.SplitN(strings.TrimPrefix(pe.Field, "build_settings."), ".", 2)[0]] = pe.Message
		case err != nil:
			return err
		default:
			app = saved
		}
	}
	if len(errs) > 0 {
		status = fiber.StatusUnprocessableEntity
	}
	data := pluginData{Plugin: p, App: &app, Form: buildForm(s, raw, errs), CanEdit: true, Checked: len(errs) == 0}
	return r.render(status, "plugin", &view{Title: "Build settings of " + app.Name, Nav: "projects", Data: data})
}
