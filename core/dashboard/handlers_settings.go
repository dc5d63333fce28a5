package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/deploy"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// GitProviders reaches git provider plugins by id (git.<name>).
type GitProviders interface {
	GitProvider(ctx context.Context, id string) (sdk.GitProvider, error)
}

// settingsData is an organization's settings page: its backup
// destinations and git connections.
type settingsData struct {
	Org  store.Organization
	Role store.Role
	// Orgs are the caller's organizations, to switch between them.
	Orgs          []orgView
	Destinations  []store.BackupDestination
	BackupPlugins []string
	Connections   []store.GitConnection
	GitProviders  []string
	CanEdit       bool
	CanAdmin      bool
}

func orgSettingsURL(id uuid.UUID) string { return "/orgs/" + id.String() + "/settings" }

// settingsIndex opens the settings of the caller's first organization.
func (d *Dashboard) settingsIndex(r *request) error {
	orgs, err := d.orgs(r.c.UserContext(), r.p)
	if err != nil {
		return err
	}
	if len(orgs) == 0 {
		return notFound("organization")
	}
	return &redirect{to: orgSettingsURL(orgs[0].ID)}
}

// pluginIDs lists installed plugins whose id starts with prefix.
func (d *Dashboard) pluginIDs(ctx context.Context, prefix string) []string {
	var out []string
	if d.opts.Plugins == nil {
		return nil
	}
	items, err := d.opts.Plugins.ListPlugins(ctx)
	if err != nil {
		d.log.Warn("list plugins", "err", err)
		return nil
	}
	for _, p := range items {
		if strings.HasPrefix(p.ID, prefix) {
			out = append(out, p.ID)
		}
	}
	sort.Strings(out)
	return out
}

func (d *Dashboard) settingsPage(r *request) error {
	return d.renderSettings(r, fiber.StatusOK, nil)
}

func (d *Dashboard) renderSettings(r *request, status int, forms map[string]*form) error {
	ctx := r.c.UserContext()
	org := r.org
	data := settingsData{Org: org, Role: r.p.Roles[org.ID], CanEdit: r.can(org.ID, store.RoleMember), CanAdmin: r.can(org.ID, store.RoleAdmin),
		BackupPlugins: d.pluginIDs(ctx, "backup."), GitProviders: d.pluginIDs(ctx, "git.")}
	var err error
	if data.Orgs, err = d.orgs(ctx, r.p); err != nil {
		return err
	}
	if data.Destinations, _, err = d.store.ListBackupDestinations(ctx, []uuid.UUID{org.ID}, store.Page{Limit: maxListed}); err != nil {
		return err
	}
	if data.Connections, _, err = d.store.ListGitConnections(ctx, []uuid.UUID{org.ID}, store.Page{Limit: maxListed}); err != nil {
		return err
	}
	return r.render(status, "settings", &view{Title: org.Name + " settings", Nav: "settings", Data: data, forms: forms})
}

// destinationData is the "new backup destination" page: a name and the
// backup plugin's settings form.
type destinationData struct {
	Org      store.Organization
	Plugin   api.PluginInfo
	Name     string
	NameErr  string
	Form     settingsForm
	CanAdmin bool
}

// backupPlugin finds an installed backup plugin and its settings schema.
func (d *Dashboard) backupPlugin(ctx context.Context, id string) (api.PluginInfo, *schema, error) {
	return d.kindPlugin(ctx, "backup", id, "backup.local, backup.s3, …")
}

// kindPlugin finds installed plugin id of kind (its id starts with
// "kind.") and its settings schema; examples name some in the error.
func (d *Dashboard) kindPlugin(ctx context.Context, kind, id, examples string) (api.PluginInfo, *schema, error) {
	if d.opts.Plugins != nil && strings.HasPrefix(id, kind+".") {
		items, err := d.opts.Plugins.ListPlugins(ctx)
		if err != nil {
			return api.PluginInfo{}, nil, err
		}
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
	}
	return api.PluginInfo{}, nil, &pageError{status: fiber.StatusUnprocessableEntity, title: "No such " + kind + " plugin",
		msg: "Choose a " + kind + " plugin installed on this server (" + examples + ")."}
}

// newDestinationPage shows the form of the backup plugin named by ?plugin=
// (default: the first installed).
func (d *Dashboard) newDestinationPage(r *request) error {
	ctx := r.c.UserContext()
	id := r.c.Query("plugin")
	if ids := d.pluginIDs(ctx, "backup."); id == "" && len(ids) > 0 {
		id = ids[0]
	}
	p, s, err := d.backupPlugin(ctx, id)
	if err != nil {
		return err
	}
	data := destinationData{Org: r.org, Plugin: p, Form: buildForm(s, nil, nil), CanAdmin: r.can(r.org.ID, store.RoleAdmin)}
	return r.render(fiber.StatusOK, "destination", &view{Title: "New backup destination", Nav: "settings", Data: data})
}

// createDestination checks the settings against the plugin's schema and
// saves them sealed; secret (writeOnly) fields are never shown again.
func (d *Dashboard) createDestination(r *request) error {
	ctx := r.c.UserContext()
	p, s, err := d.backupPlugin(ctx, r.c.FormValue("plugin_id"))
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.c.FormValue("name"))
	doc, raw, errs := parseSettings(s, func(input string) string { return r.c.FormValue(input) })
	nameErr := ""
	if err := service.DestinationName(name); err != nil {
		nameErr = problem.Classify(err).Message
	}
	if len(errs) == 0 {
		if errs, err = d.checkOutboundSettings(r, p.Schema, doc); err != nil {
			return err
		}
	}
	status := fiber.StatusUnprocessableEntity
	if nameErr == "" && len(errs) == 0 {
		settings, err := destinationSettings(doc)
		if err != nil {
			return err
		}
		dest, err := d.svc.Backups.CreateDestination(ctx, r.p, r.org.ID,
			service.NewDestination{Name: name, PluginID: p.ID, Settings: settings, Schema: p.Schema})
		var he *hostaccess.ForbiddenError
		pe := problem.Classify(err)
		switch {
		case errors.As(err, &he):
			errs[strings.TrimPrefix(he.Field, "settings.")] = he.Message
			status = fiber.StatusForbidden
		case err != nil && problem.IsInput(err) && (pe.Field == "name" || pe.Field == ""):
			nameErr, status = pe.Message, pe.Status()
		case err != nil && problem.IsInput(err):
			errs[strings.TrimPrefix(pe.Field, "settings.")], status = pe.Message, pe.Status()
		case err != nil:
			return err
		default:
			return r.seeOther(orgSettingsURL(r.org.ID)+"#destinations", "Backup destination "+dest.Name+" added. Test it before relying on it.")
		}
	}
	data := destinationData{Org: r.org, Plugin: p, Name: name, NameErr: nameErr, Form: buildForm(s, raw, errs), CanAdmin: true}
	return r.render(status, "destination", &view{Title: "New backup destination", Nav: "settings", Data: data})
}

// destinationSettings is a settings document as the service's settings
// (one JSON value per key).
func destinationSettings(doc any) (map[string]json.RawMessage, error) {
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	if string(data) == "null" {
		return out, nil
	}
	return out, json.Unmarshal(data, &out)
}

func (d *Dashboard) testDestination(r *request) error {
	if err := d.svc.Databases.Require(); err != nil {
		return err
	}
	dest := r.dest
	back := orgSettingsURL(dest.OrganizationID) + "#destinations"
	var schema json.RawMessage // nil when unknown: failures are summarized
	if p, _, err := d.backupPlugin(r.c.UserContext(), dest.PluginID); err == nil {
		schema = p.Schema
	}
	outbound, err := d.recheckDestination(r.c.UserContext(), r, dest, schema)
	if err != nil {
		return r.seeOther(back, "Test of "+dest.Name+" failed: "+netguard.Describe(err))
	}
	msg, err := d.svc.Backups.TestDestination(r.c.UserContext(), r.p, dest)
	var pe *problem.Error
	if errors.As(err, &pe) {
		return err
	} else if err != nil {
		why := err.Error()
		if outbound {
			why = d.describeOutbound("backup destination "+dest.Name, err)
		}
		return r.seeOther(back, "Test of "+dest.Name+" failed: "+why)
	}
	if msg == "" {
		msg = "reachable and writable"
	}
	return r.seeOther(orgSettingsURL(dest.OrganizationID)+"#destinations", "Test of "+dest.Name+" passed: "+msg)
}

func (d *Dashboard) deleteDestination(r *request) error {
	dest := r.dest
	back := orgSettingsURL(dest.OrganizationID) + "#destinations"
	if r.c.FormValue("confirmed") != "yes" {
		return r.confirm("Delete backup destination "+dest.Name+"?",
			"berth forgets this destination and its settings. The backups stored there are not deleted.", "Delete destination", back)
	}
	err := d.svc.Backups.DeleteDestination(r.c.UserContext(), r.p, dest)
	switch pe := problem.Classify(err); {
	case err != nil && pe.Kind == problem.Conflict:
		return r.seeOther(back, "Cannot delete "+dest.Name+": "+pe.Message)
	case err != nil && pe.Kind != problem.NotFound:
		return err
	}
	return r.seeOther(back, "Backup destination "+dest.Name+" deleted.")
}

var connectionFields = []string{"name", "provider", "base_url", "credential_kind", "username", "app_id", "installation_id"}

// createConnection adds a git connection; its credentials are sealed and
// never rendered back, even when the form is shown again with an error.
func (d *Dashboard) createConnection(r *request) error {
	ctx := r.c.UserContext()
	kind := r.c.FormValue("credential_kind")
	name, provider, baseURL := r.c.FormValue("name"), r.c.FormValue("provider"), r.c.FormValue("base_url")
	in := service.ConnectionChange{Name: &name, Provider: &provider, BaseURL: &baseURL,
		Credentials: &store.ConnectionCredentials{}, CredentialKind: kind}
	switch kind {
	case "token":
		in.Credentials.Token = strings.TrimSpace(r.c.FormValue("token"))
	case "app_password":
		in.Credentials.Username = strings.TrimSpace(r.c.FormValue("username"))
		in.Credentials.AppPassword = strings.TrimSpace(r.c.FormValue("app_password"))
	case "app":
		in.Credentials.AppID = strings.TrimSpace(r.c.FormValue("app_id"))
		in.Credentials.InstallationID = strings.TrimSpace(r.c.FormValue("installation_id"))
		in.Credentials.PrivateKey = strings.TrimSpace(strings.ReplaceAll(r.c.FormValue("private_key"), "\r\n", "\n")) + "\n"
	}
	var conn store.GitConnection
	err := installedProvider(strings.TrimSpace(provider), d.pluginIDs(ctx, "git."))
	if err == nil {
		conn, err = d.svc.Connections.Create(ctx, r.p, r.org.ID, in, d.outbound(r))
	}
	if isInputError(err) {
		return d.renderSettings(r, inputStatus(err), map[string]*form{"connection": formWith(r, connectionField(err), connectionFields...)})
	}
	if err != nil {
		return err
	}
	return r.seeOther(orgSettingsURL(r.org.ID)+"#connections", "Git connection "+conn.Name+" added.")
}

// installedProvider checks the form's choice of provider is one of the
// installed git provider plugins the form offers.
func installedProvider(provider string, installed []string) error {
	for _, p := range installed {
		if p == provider {
			return nil
		}
	}
	return invalid("provider", "choose an installed git provider")
}

// connectionField shows a problem of the service's credentials.X field
// next to the form's input X (credentials as a whole: the kind chosen).
func connectionField(err error) error {
	p := problem.Classify(err)
	switch {
	case p.Field == "credentials":
		return &problem.Error{Kind: p.Kind, Code: p.Code, Field: "credential_kind", Message: p.Message, Err: p.Err}
	case strings.HasPrefix(p.Field, "credentials."):
		return &problem.Error{Kind: p.Kind, Code: p.Code, Field: strings.TrimPrefix(p.Field, "credentials."), Message: p.Message, Err: p.Err}
	}
	return err
}

func (d *Dashboard) testConnection(r *request) error {
	conn := r.conn
	back := orgSettingsURL(conn.OrganizationID) + "#connections"
	if d.opts.GitProviders == nil {
		return r.seeOther(back, "Git providers are not available on this server.")
	}
	ctx := r.c.UserContext()
	if err := d.outbound(r).RecheckURL(ctx, "base_url", conn.BaseURL); err != nil {
		return r.seeOther(back, "Test of "+conn.Name+" failed: "+netguard.Describe(err))
	}
	gp, err := d.opts.GitProviders.GitProvider(ctx, conn.Provider)
	if err != nil {
		return r.seeOther(back, "Test of "+conn.Name+" failed: "+err.Error())
	}
	resp, err := gp.ListRepositories(ctx, &sdk.ListRepositoriesRequest{Credentials: deploy.ConnectionCredentials(conn), PageSize: 100})
	if err != nil {
		return r.seeOther(back, "Test of "+conn.Name+" failed: "+d.describeOutbound("git connection "+conn.Name, err))
	}
	more := ""
	if resp.NextPageToken != "" {
		more = " or more"
	}
	return r.seeOther(back, fmt.Sprintf("Test of %s passed: the credentials see %d repositories%s.", conn.Name, len(resp.Repositories), more))
}

func (d *Dashboard) deleteConnection(r *request) error {
	conn := r.conn
	back := orgSettingsURL(conn.OrganizationID) + "#connections"
	if r.c.FormValue("confirmed") != "yes" {
		return r.confirm("Delete git connection "+conn.Name+"?",
			"Applications using it fall back to their own credentials; private repositories may stop deploying.", "Delete connection", back)
	}
	if err := d.svc.Connections.Delete(r.c.UserContext(), r.p, conn); err != nil {
		return err
	}
	return r.seeOther(back, "Git connection "+conn.Name+" deleted.")
}
