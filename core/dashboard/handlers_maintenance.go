package dashboard

import (
	"strconv"
	"strings"

	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
)

var maintenanceFields = []string{"enabled", "page", "retry_after_seconds"}

// maintenanceForm is the maintenance panel's form with the saved state.
func maintenanceForm(m store.Maintenance) *form {
	return &form{Values: map[string]string{"enabled": checkbox(m.Enabled), "page": m.Page,
		"retry_after_seconds": strconv.Itoa(m.RetryAfter)}}
}

// setMaintenance enters or leaves the application's maintenance mode with
// the page and Retry-After of the form (an empty page: the default one).
func (d *Dashboard) setMaintenance(r *request) error {
	in := service.MaintenanceInput{Enabled: r.c.FormValue("enabled") == "on"}
	page := r.c.FormValue("page")
	in.Page = &page
	fail := func(err error) error {
		return d.renderApp(r, inputStatus(err), map[string]*form{"maintenance": formOf(r, err, maintenanceFields...)})
	}
	if v := strings.TrimSpace(r.c.FormValue("retry_after_seconds")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fail(invalid("retry_after_seconds", "%q is not a number of seconds", v))
		}
		in.RetryAfter = &n
	}
	_, err := d.svc.Applications.SetMaintenance(r.c.UserContext(), r.p, r.app, in)
	if isInputError(err) {
		return fail(err)
	}
	if err != nil {
		return err
	}
	msg := "Maintenance mode left: the domains reach " + r.app.Name + " again."
	if in.Enabled {
		msg = "Maintenance mode on: every domain of " + r.app.Name + " answers 503 with the maintenance page."
	}
	return r.seeOther(appURL(r.app.ID)+"#maintenance", msg)
}
