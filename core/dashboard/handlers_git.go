package dashboard

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// gitPanel is the "Git & webhooks" panel of an application page: members
// see the webhook URLs and edit the automation; admins also see the signing
// secret and rotate the deploy token.
type gitPanel struct {
	Connections       []store.GitConnection
	GitURL, DeployURL string
	ImageURL          string
	Secret            string
	DeployTokenSet    bool
	NewDeployToken    string
	CanAdmin          bool
	SettingsURL       string
	ConnectionName    string
}

// previewRow is one preview deployment of a pull request.
type previewRow struct {
	App    store.Application
	Hosts  []store.Domain
	Latest *store.Deployment
	State  string
}

// addGitPanel fills the panel and the previews of a (non-preview)
// application for members; the previews list is for everyone.
func (d *Dashboard) addGitPanel(ctx context.Context, r *request, data *appData, newToken string) error {
	a := data.App
	if a.PreviewOf != nil {
		return nil
	}
	previews, err := d.store.ListPreviews(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, p := range previews {
		row := previewRow{App: p}
		deps, _, err := d.store.ListDeployments(ctx, p.ID, store.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(deps) > 0 {
			row.Latest = &deps[0]
		}
		row.State = appState(row.Latest)
		if row.Hosts, _, err = d.store.ListDomains(ctx, p.ID, store.Page{Limit: 5}); err != nil {
			return err
		}
		data.Previews = append(data.Previews, row)
	}
	if !data.CanEdit {
		return nil
	}
	g := &gitPanel{CanAdmin: r.can(a.OrganizationID, store.RoleAdmin), NewDeployToken: newToken,
		SettingsURL: orgSettingsURL(a.OrganizationID)}
	base := strings.TrimRight(d.opts.PublicURL, "/") + api.Prefix + "/webhooks/"
	g.GitURL, g.DeployURL, g.ImageURL = base+"git/"+a.WebhookID, base+"deploy/"+a.WebhookID, base+"image/"+a.WebhookID
	if g.Connections, _, err = d.store.ListGitConnections(ctx, []uuid.UUID{a.OrganizationID}, store.Page{Limit: maxListed}); err != nil {
		return err
	}
	for _, c := range g.Connections {
		if a.GitConnectionID != nil && c.ID == *a.GitConnectionID {
			g.ConnectionName = c.Name
		}
	}
	if g.CanAdmin {
		if g.Secret, err = d.store.WebhookSecret(ctx, a.ID); err != nil {
			return err
		}
	}
	if g.DeployTokenSet, err = d.store.DeployTokenSet(ctx, a.ID); err != nil {
		return err
	}
	data.Git = g
	return nil
}

var automationFields = []string{"git_connection_id", "git_repository", "git_ref", "auto_deploy", "deploy_trigger", "tag_pattern",
	"watch_paths", "preview_enabled", "preview_host_pattern", "preview_limit", "preview_label", "preview_https", "preview_forks"}

// automationForm fills the panel's form with the stored values.
func automationForm(a store.Application) *form {
	conn := ""
	if a.GitConnectionID != nil {
		conn = a.GitConnectionID.String()
	}
	p := a.Preview
	return &form{Values: map[string]string{
		"git_connection_id": conn, "git_repository": a.GitRepository, "git_ref": a.GitRef,
		"auto_deploy": checkbox(a.AutoDeploy), "deploy_trigger": a.DeployTrigger, "tag_pattern": a.TagPattern,
		"watch_paths": strings.Join(a.WatchPaths, "\n"), "preview_enabled": checkbox(p.Enabled),
		"preview_host_pattern": p.HostPattern, "preview_limit": itoa(p.Limit), "preview_label": p.Label,
		"preview_https": p.HTTPS, "preview_forks": checkbox(p.Forks),
	}}
}

func checkbox(b bool) string {
	if b {
		return "on"
	}
	return ""
}

// updateAutomation saves the git connection, repository, branch and what
// webhooks do: push-to-deploy and preview deployments.
func (d *Dashboard) updateAutomation(r *request) error {
	ctx := r.c.UserContext()
	a := r.app
	fail := func(err error) error {
		return d.renderApp(r, inputStatus(err), map[string]*form{"automation": formOf(r, err, automationFields...)})
	}
	in := service.ApplicationSettings{ApplicationSpec: a.Spec()}
	spec := &in.ApplicationSpec
	spec.GitConnectionID = nil
	if v := r.c.FormValue("git_connection_id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return fail(invalid("git_connection_id", "%q is not a valid id", v))
		}
		spec.GitConnectionID = &id
	}
	if spec.SourceType == "git" {
		spec.GitRepository = strings.TrimSpace(r.c.FormValue("git_repository"))
		spec.GitRef = strings.TrimSpace(r.c.FormValue("git_ref"))
	}
	spec.AutoDeploy = r.c.FormValue("auto_deploy") == "on"
	spec.DeployTrigger = r.c.FormValue("deploy_trigger")
	spec.TagPattern = strings.TrimSpace(r.c.FormValue("tag_pattern"))
	spec.WatchPaths = []string{}
	for _, line := range strings.Split(r.c.FormValue("watch_paths"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			spec.WatchPaths = append(spec.WatchPaths, line)
		}
	}
	spec.Preview = store.PreviewSettings{
		Enabled:     r.c.FormValue("preview_enabled") == "on",
		HostPattern: strings.TrimSpace(r.c.FormValue("preview_host_pattern")),
		Label:       strings.TrimSpace(r.c.FormValue("preview_label")),
		HTTPS:       r.c.FormValue("preview_https"),
		Forks:       r.c.FormValue("preview_forks") == "on",
	}
	var err error
	if spec.Preview.Limit, err = formInt("preview_limit", r.c.FormValue("preview_limit"), 3); err != nil {
		return fail(err)
	}
	if _, err := d.svc.Applications.Update(ctx, r.p, a, in); err != nil {
		if isInputError(err) {
			return fail(err)
		}
		return err
	}
	return r.seeOther(appURL(a.ID)+"#git", "Git and webhook settings saved.")
}

func (d *Dashboard) rotateWebhookSecret(r *request) error {
	a := r.app
	if r.c.FormValue("confirmed") != "yes" {
		return r.confirm("Replace the webhook secret of "+a.Name+"?",
			"The git host's webhook stops being accepted until you paste the new secret into its settings.", "Replace secret", appURL(a.ID)+"#git")
	}
	if _, err := d.svc.Applications.RotateWebhookSecret(r.c.UserContext(), r.p, a); err != nil {
		return err
	}
	return r.seeOther(appURL(a.ID)+"#git", "Webhook secret replaced: update it in the git host's webhook settings.")
}

// rotateDeployToken creates a new deploy token and shows it once: the page
// is rendered (not redirected) and no-store; only its digest is kept.
func (d *Dashboard) rotateDeployToken(r *request) error {
	a := r.app
	if r.c.FormValue("confirmed") != "yes" {
		return r.confirm("Create a new deploy token for "+a.Name+"?",
			"The current token, if any, stops working at once.", "Create token", appURL(a.ID)+"#git")
	}
	token, err := d.svc.Applications.RotateDeployToken(r.c.UserContext(), r.p, a)
	if err != nil {
		return err
	}
	return d.renderAppWith(r, fiber.StatusOK, nil, token)
}
