package service

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/validate"
	"github.com/google/uuid"
)

// Connections creates, changes and deletes git connections (admins):
// accounts on git hosts whose write-only credentials applications deploy
// private repositories with.
type Connections struct{ s *Services }

// ConnectionChange creates (all fields) or changes (nil fields stay) a git
// connection; credentials are replaced as a whole.
type ConnectionChange struct {
	Name *string
	// Provider is the git provider plugin, "github" or "git.github".
	Provider *string
	// BaseURL is the API root of a self-hosted instance ("" the public service).
	BaseURL     *string
	Credentials *store.ConnectionCredentials
	// CredentialKind, when set (token, app_password or app), is the kind
	// of credentials the caller chose, whose fields are then each required;
	// empty infers it from the fields given.
	CredentialKind string
}

// apply returns spec with the change made, values trimmed.
func (in ConnectionChange) apply(spec store.GitConnectionSpec) store.GitConnectionSpec {
	if in.Name != nil {
		spec.Name = strings.TrimSpace(*in.Name)
	}
	if in.Provider != nil {
		spec.Provider = strings.TrimSpace(*in.Provider)
		if spec.Provider != "" && !strings.HasPrefix(spec.Provider, "git.") {
			spec.Provider = "git." + spec.Provider
		}
	}
	if in.BaseURL != nil {
		spec.BaseURL = strings.TrimRight(strings.TrimSpace(*in.BaseURL), "/")
	}
	if in.Credentials != nil {
		spec.Credentials = *in.Credentials
	}
	return spec
}

// ValidateConnection checks a git connection as it would be saved; kind
// is ConnectionChange.CredentialKind.
func ValidateConnection(spec store.GitConnectionSpec, kind string) error {
	if err := validate.Text("name", spec.Name, 1, 60); err != nil {
		return err
	}
	if spec.Provider == "" {
		return problem.InvalidField("provider", "is required, e.g. github, gitlab, gitea, bitbucket")
	}
	if err := validate.Slug("provider", strings.TrimPrefix(spec.Provider, "git."), 40); err != nil {
		return err
	}
	if spec.BaseURL != "" {
		u, err := url.Parse(spec.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return problem.InvalidField("base_url", "%q is not an http(s) URL without credentials (empty: the public service)", spec.BaseURL)
		}
	}
	return validateCredentials(spec.Credentials, kind)
}

func validateCredentials(c store.ConnectionCredentials, kind string) error {
	required := func(fields ...[2]string) error {
		for _, f := range fields {
			if f[1] == "" {
				return problem.InvalidField("credentials."+f[0], "is required")
			}
		}
		return nil
	}
	switch kind {
	case "":
		kind = c.Kind()
	case "token":
		if err := required([2]string{"token", c.Token}); err != nil {
			return err
		}
	case "app_password":
		if err := required([2]string{"username", c.Username}, [2]string{"app_password", c.AppPassword}); err != nil {
			return err
		}
	case "app":
	default:
		return problem.InvalidField("credentials", "choose a token, a username and app password, or a GitHub App")
	}
	switch kind {
	case "token":
	case "app_password":
		if c.Username == "" || c.AppPassword == "" {
			return problem.InvalidField("credentials", "username and app_password go together")
		}
		if c.Token != "" {
			return problem.InvalidField("credentials", "send either a token or a username and app_password")
		}
	case "app":
		if _, err := strconv.ParseUint(c.AppID, 10, 64); err != nil {
			return problem.InvalidField("credentials.app_id", "must be a number")
		}
		if _, err := strconv.ParseUint(c.InstallationID, 10, 64); err != nil {
			return problem.InvalidField("credentials.installation_id", "must be a number")
		}
		if !strings.Contains(c.PrivateKey, "-----BEGIN") {
			return problem.InvalidField("credentials.private_key", "must be a PEM private key")
		}
		if c.Token != "" || c.AppPassword != "" {
			return problem.InvalidField("credentials", "send one kind of credentials")
		}
	default:
		return problem.InvalidField("credentials", "are required: a token, a username and app_password, or app_id, installation_id and private_key")
	}
	for _, f := range [][2]string{{"token", c.Token}, {"username", c.Username}, {"app_password", c.AppPassword}} {
		if len(f[1]) > 4096 || strings.ContainsAny(f[1], "\r\n\x00") {
			return problem.InvalidField("credentials."+f[0], "must be one line of at most 4096 characters")
		}
	}
	if len(c.PrivateKey) > 16<<10 {
		return problem.InvalidField("credentials.private_key", "must be at most 16 KiB")
	}
	return nil
}

// Create adds a git connection to org (admins and above); org may be
// uuid.Nil when the caller belongs to exactly one organization. The base
// URL is checked with outbound (the caller's outbound guard).
func (cs *Connections) Create(ctx context.Context, p *store.Principal, org uuid.UUID, in ConnectionChange, outbound *netguard.Guard) (store.GitConnection, error) {
	if org == uuid.Nil {
		if p == System || p == nil || len(p.Roles) != 1 {
			return store.GitConnection{}, problem.InvalidField("organization_id", "is required: you belong to several organizations")
		}
		org = OrganizationsOf(p)[0]
	}
	if err := Authorize(p, org, store.RoleAdmin, "organization"); err != nil {
		return store.GitConnection{}, err
	}
	spec := in.apply(store.GitConnectionSpec{})
	if err := ValidateConnection(spec, in.CredentialKind); err != nil {
		return store.GitConnection{}, err
	}
	if err := outbound.CheckURL(ctx, "base_url", spec.BaseURL); err != nil {
		return store.GitConnection{}, err
	}
	return cs.s.deps.Store.CreateGitConnection(ctx, org, spec)
}

// Update changes a git connection (admins and above). Saved credentials
// are never sent to a new host: changing the base URL needs them again.
func (cs *Connections) Update(ctx context.Context, p *store.Principal, conn store.GitConnection, in ConnectionChange, outbound *netguard.Guard) (store.GitConnection, error) {
	if err := Authorize(p, conn.OrganizationID, store.RoleAdmin, "git connection"); err != nil {
		return conn, err
	}
	spec := in.apply(store.GitConnectionSpec{Name: conn.Name, Provider: conn.Provider, BaseURL: conn.BaseURL, Credentials: conn.Credentials})
	if spec.BaseURL != conn.BaseURL && in.Credentials == nil {
		return conn, problem.InvalidField("credentials", "must be sent again when base_url changes, so saved credentials are never sent to a new host")
	}
	if err := ValidateConnection(spec, in.CredentialKind); err != nil {
		return conn, err
	}
	if spec.BaseURL != conn.BaseURL {
		if err := outbound.CheckURL(ctx, "base_url", spec.BaseURL); err != nil {
			return conn, err
		}
	}
	return cs.s.deps.Store.UpdateGitConnection(ctx, conn.ID, spec)
}

// Delete deletes a git connection (admins and above); its applications
// fall back to their own credentials.
func (cs *Connections) Delete(ctx context.Context, p *store.Principal, conn store.GitConnection) error {
	if err := Authorize(p, conn.OrganizationID, store.RoleAdmin, "git connection"); err != nil {
		return err
	}
	err := cs.s.deps.Store.DeleteGitConnection(ctx, conn.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // already gone: what the caller wanted
	}
	return err
}
