package dashboard

import (
	"errors"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// instanceData is what the Instance page shows to instance administrators.
type instanceData struct {
	Settings store.InstanceSettings
	Users    []store.User
	// Me is the signed-in administrator, who may not revoke themself here
	// when they are the last one (the store refuses it).
	Me uuid.UUID
}

var instanceFields = []string{"allow_organization_creation", "bind_mount_roots", "local_backup_roots", "outbound_allow", "default_builder",
	"metrics_interval_seconds", "metrics_retention_days"}

func (d *Dashboard) instancePage(r *request) error {
	return d.renderInstance(r, fiber.StatusOK, nil)
}

func (d *Dashboard) renderInstance(r *request, status int, f *form) error {
	ctx := r.c.UserContext()
	in, err := d.store.InstanceSettings(ctx)
	if err != nil {
		return err
	}
	users, _, err := d.store.ListUsers(ctx, store.Page{Limit: store.MaxPageSize})
	if err != nil {
		return err
	}
	if f == nil {
		f = &form{Values: map[string]string{
			"bind_mount_roots":   strings.Join(in.BindMountRoots, "\n"),
			"local_backup_roots": strings.Join(in.LocalBackupRoots, "\n"),
			"outbound_allow":     strings.Join(in.OutboundAllow, "\n"),
			"default_builder":    in.DefaultBuilder,
			// metrics
			"metrics_interval_seconds": strconv.Itoa(in.MetricsIntervalSeconds),
			"metrics_retention_days":   strconv.Itoa(in.MetricsRetentionDays),
		}}
		if in.AllowOrganizationCreation {
			f.Values["allow_organization_creation"] = "on"
		}
	}
	data := instanceData{Settings: in, Users: users, Me: r.p.User.ID}
	return r.render(status, "instance", &view{Title: "Instance", Nav: "instance", Data: data, forms: map[string]*form{"settings": f}})
}

// lines splits a textarea into its non-empty trimmed lines.
func lines(v string) []string {
	out := []string{}
	for _, l := range strings.Split(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (d *Dashboard) instanceSettingsSubmit(r *request) error {
	allow := r.c.FormValue("allow_organization_creation") == "on"
	binds, backups, outbound := lines(r.c.FormValue("bind_mount_roots")), lines(r.c.FormValue("local_backup_roots")), lines(r.c.FormValue("outbound_allow"))
	change := service.InstanceSettingsChange{
		AllowOrganizationCreation: &allow, BindMountRoots: &binds, LocalBackupRoots: &backups, OutboundAllow: &outbound}
	if def := r.c.FormValue("default_builder"); def != "" {
		change.DefaultBuilder = &def
	}
	// metrics
	for _, n := range []struct {
		field string
		dst   **int
	}{{"metrics_interval_seconds", &change.MetricsIntervalSeconds}, {"metrics_retention_days", &change.MetricsRetentionDays}} {
		v := strings.TrimSpace(r.c.FormValue(n.field))
		if v == "" {
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil {
			return d.renderInstance(r, fiber.StatusUnprocessableEntity, formWith(r, invalid(n.field, "must be a whole number"), instanceFields...))
		}
		*n.dst = &i
	}
	_, err := d.svc.Instance.UpdateSettings(r.c.UserContext(), r.p, change)
	if isInputError(err) {
		return d.renderInstance(r, inputStatus(err), formWith(r, fromListAPI(err), instanceFields...))
	}
	if err != nil {
		return err
	}
	return r.seeOther("/instance", "Instance settings saved.")
}

// fromListAPI reports an API validation error of a list entry
// (bind_mount_roots[1]) on the list's form field.
func fromListAPI(err error) error {
	if !problem.IsInput(err) {
		return err
	}
	e := problem.Classify(err)
	field := e.Field
	if i := strings.IndexByte(field, '['); i > 0 {
		field = field[:i]
	}
	return invalid(field, "%s", e.Message)
}

func (d *Dashboard) instanceAdminSubmit(r *request) error {
	id, err := uuid.Parse(r.c.FormValue("user_id"))
	if err != nil {
		return notFound("user")
	}
	grant := r.c.FormValue("instance_admin") == "true"
	u, err := d.svc.Instance.SetAdmin(r.c.UserContext(), r.p, id, grant)
	switch {
	case errors.Is(err, store.ErrLastInstanceAdmin):
		return &pageError{status: fiber.StatusConflict, title: "Conflict", msg: err.Error() + ": grant another user first."}
	case err != nil:
		return err
	}
	if grant {
		return r.seeOther("/instance#users", u.Email+" is now an instance administrator.")
	}
	if u.ID == r.p.User.ID {
		return r.seeOther("/", "You are no longer an instance administrator.")
	}
	return r.seeOther("/instance#users", u.Email+" is no longer an instance administrator.")
}
