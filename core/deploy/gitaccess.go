package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/deploylog"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// gitAccess is the git provider plugin and credentials an application's
// repository is reached with.
type gitAccess struct {
	provider    string
	credentials *sdk.Credentials
}

func (g gitAccess) secrets() []string {
	c := g.credentials
	if c == nil {
		return nil
	}
	out := []string{c.Password, c.Token}
	if c.App != nil {
		out = append(out, string(c.App.PrivateKey))
	}
	return out
}

// GitAccess returns the provider plugin id and credentials for an
// application: its git connection's when it has one, else its own.
func GitAccess(a store.Application, conn *store.GitConnection) (provider string, creds *sdk.Credentials) {
	if conn != nil {
		return conn.Provider, ConnectionCredentials(*conn)
	}
	provider = "git.generic"
	if a.GitProvider != "" {
		provider = "git." + strings.TrimPrefix(a.GitProvider, "git.")
	}
	if c := a.GitCredentials; c != nil {
		creds = &sdk.Credentials{Username: c.Username, Password: c.Password, Token: c.Token,
			SSHPrivateKey: []byte(c.SSHPrivateKey), SSHKnownHosts: []byte(c.SSHKnownHosts)}
	}
	return provider, creds
}

// ConnectionCredentials converts a git connection's credentials to the
// plugin contract's.
func ConnectionCredentials(c store.GitConnection) *sdk.Credentials {
	cc := c.Credentials
	out := &sdk.Credentials{BaseURL: c.BaseURL, Token: cc.Token, Username: cc.Username, Password: cc.AppPassword}
	if cc.AppID != "" {
		out.App = &sdk.AppCredentials{AppID: cc.AppID, InstallationID: cc.InstallationID, PrivateKey: []byte(cc.PrivateKey)}
	}
	return out
}

func (p *Pipeline) gitAccess(ctx context.Context, a store.Application) (gitAccess, error) {
	var conn *store.GitConnection
	if a.GitConnectionID != nil {
		c, err := p.store.GetGitConnection(ctx, *a.GitConnectionID)
		if err != nil {
			return gitAccess{}, fmt.Errorf("load git connection: %w", err)
		}
		conn = &c
	}
	if err := p.recheck(ctx, a, conn); err != nil {
		return gitAccess{}, err
	}
	provider, creds := GitAccess(a, conn)
	return gitAccess{provider: provider, credentials: creds}, nil
}

// recheck checks the connection's base URL and the repository's host again
// before the git provider plugin is sent to them (a host name may have been
// re-pointed at an internal address since it was saved).
func (p *Pipeline) recheck(ctx context.Context, a store.Application, conn *store.GitConnection) error {
	if p.guard == nil {
		return nil
	}
	if conn != nil {
		if err := p.guard.RecheckURL(ctx, "base_url", conn.BaseURL); err != nil {
			return fmt.Errorf("git connection %s: %w", conn.Name, err)
		}
	}
	if a.SourceType == "git" {
		if err := p.guard.RecheckRepository(ctx, "git_repository", a.GitRepository); err != nil {
			return fmt.Errorf("repository: %w", err)
		}
	}
	return nil
}

// reportStatus posts a commit status for webhook-triggered deployments.
// Failures are written to the deployment's log and never fail it.
func (p *Pipeline) reportStatus(ctx context.Context, a store.Application, d store.Deployment, access gitAccess,
	state sdk.CommitState, description, target string, w *deploylog.Writer) {
	if d.StatusRepository == "" || d.CommitSHA == "" {
		return
	}
	if len(description) > 140 {
		description = description[:137] + "..."
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	gp, err := p.plugins.GitProvider(ctx, access.provider)
	if err == nil {
		_, err = gp.SetCommitStatus(ctx, &sdk.SetCommitStatusRequest{Repository: d.StatusRepository, Commit: d.CommitSHA,
			State: state, Context: d.StatusContext, Description: description, TargetURL: target, Credentials: access.credentials})
	}
	if err != nil {
		if errors.Is(err, sdk.ErrUnimplemented) {
			return
		}
		w.Info(fmt.Sprintf("warning: posting the %s commit status %q failed: %v", state, d.StatusContext, err))
		return
	}
	w.Info(fmt.Sprintf("commit status %s: %s %s", d.StatusContext, state, target))
}

// reportFinished posts the final commit status: success with the
// application's address, or failure with the error.
func (p *Pipeline) reportFinished(ctx context.Context, a store.Application, d store.Deployment, access gitAccess,
	res store.DeploymentResult, w *deploylog.Writer) {
	if res.Status == store.DeploymentSucceeded {
		target := p.appURL(ctx, a)
		if target == "" {
			target = p.deploymentURL(d)
		}
		p.reportStatus(ctx, a, d, access, sdk.CommitSuccess, "deployed", target, w)
		return
	}
	state := sdk.CommitFailure
	if res.Status == store.DeploymentCancelled {
		state = sdk.CommitError
	}
	p.reportStatus(ctx, a, d, access, state, res.Error, p.deploymentURL(d), w)
}

// appURL is the address of an application's first domain, or "".
func (p *Pipeline) appURL(ctx context.Context, a store.Application) string {
	ds, _, err := p.store.ListDomains(ctx, a.ID, store.Page{Limit: 1})
	if err != nil || len(ds) == 0 {
		return ""
	}
	scheme := "https"
	if ds[0].HTTPS == "none" {
		scheme = "http"
	}
	return (&url.URL{Scheme: scheme, Host: ds[0].Host, Path: ds[0].PathPrefix + "/"}).String()
}

func (p *Pipeline) deploymentURL(d store.Deployment) string {
	if p.cfg.PublicURL == "" {
		return ""
	}
	return p.cfg.PublicURL + "/deployments/" + d.ID.String()
}
