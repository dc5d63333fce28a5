package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// GitConnection is an organization's account on a git host: the provider
// plugin that talks to it and the credentials (sealed, never returned).
type GitConnection struct {
	ID             uuid.UUID `json:"id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	Name           string    `json:"name"`
	// Provider is the git provider plugin id, e.g. "git.github".
	Provider string `json:"provider"`
	// BaseURL is the API root of a self-hosted instance; empty for the
	// provider's public service.
	BaseURL     string                `json:"base_url"`
	Credentials ConnectionCredentials `json:"-"`
	// CredentialKind says which credentials are stored: token,
	// app_password or app.
	CredentialKind string    `json:"credential_kind"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// ConnectionCredentials authenticate a git connection: a token, a user name
// with an app password, or a GitHub App installation.
type ConnectionCredentials struct {
	Token          string `json:"token,omitempty"`
	Username       string `json:"username,omitempty"`
	AppPassword    string `json:"app_password,omitempty"`
	AppID          string `json:"app_id,omitempty"`
	InstallationID string `json:"installation_id,omitempty"`
	PrivateKey     string `json:"private_key,omitempty"`
}

// Kind names the kind of credentials held: token, app_password, app or "".
func (c ConnectionCredentials) Kind() string {
	switch {
	case c.AppID != "" || c.InstallationID != "" || c.PrivateKey != "":
		return "app"
	case c.AppPassword != "" || c.Username != "":
		return "app_password"
	case c.Token != "":
		return "token"
	}
	return ""
}

// GitConnectionSpec holds the user-settable fields of a git connection.
type GitConnectionSpec struct {
	Name        string
	Provider    string
	BaseURL     string
	Credentials ConnectionCredentials
}

const connectionCols = `id, organization_id, name, provider, base_url, credentials_enc, created_at, updated_at`

func connectionContext(id uuid.UUID) string { return "git_connection:credentials:" + id.String() }

func (s *Store) scanConnection(r pgx.Row) (GitConnection, error) {
	var c GitConnection
	var sealed []byte
	err := r.Scan(&c.ID, &c.OrganizationID, &c.Name, &c.Provider, &c.BaseURL, &sealed, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	data, err := s.box.Open(connectionContext(c.ID), sealed)
	if err != nil {
		return c, fmt.Errorf("git connection credentials: %w", err)
	}
	if err := json.Unmarshal(data, &c.Credentials); err != nil {
		return c, fmt.Errorf("git connection credentials: %w", err)
	}
	c.CredentialKind = c.Credentials.Kind()
	return c, nil
}

func (s *Store) sealConnection(id uuid.UUID, c ConnectionCredentials) ([]byte, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return s.box.Seal(connectionContext(id), data), nil
}

// CreateGitConnection adds a git connection to an organization.
func (s *Store) CreateGitConnection(ctx context.Context, org uuid.UUID, in GitConnectionSpec) (GitConnection, error) {
	id := newID()
	sealed, err := s.sealConnection(id, in.Credentials)
	if err != nil {
		return GitConnection{}, err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO git_connections (id, organization_id, name, provider, base_url, credentials_enc)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, org, in.Name, in.Provider, in.BaseURL, sealed)
	if err != nil {
		return GitConnection{}, mapErr(err, "git connection")
	}
	return s.GetGitConnection(ctx, id)
}

// GetGitConnection returns one git connection with its credentials.
func (s *Store) GetGitConnection(ctx context.Context, id uuid.UUID) (GitConnection, error) {
	c, err := s.scanConnection(s.pool.QueryRow(ctx, `SELECT `+connectionCols+` FROM git_connections WHERE id = $1`, id))
	return c, mapErr(err, "git connection")
}

// ListGitConnections returns the git connections of the organizations.
func (s *Store) ListGitConnections(ctx context.Context, orgs []uuid.UUID, p Page) ([]GitConnection, bool, error) {
	items, more, err := collectPage(ctx, s.pool, p, `SELECT `+connectionCols+` FROM git_connections
		WHERE organization_id = ANY($1) AND id > $2 ORDER BY id LIMIT $3`, s.scanConnection, orgs)
	return items, more, mapErr(err, "git connections")
}

// UpdateGitConnection replaces a connection's settings and credentials.
func (s *Store) UpdateGitConnection(ctx context.Context, id uuid.UUID, in GitConnectionSpec) (GitConnection, error) {
	sealed, err := s.sealConnection(id, in.Credentials)
	if err != nil {
		return GitConnection{}, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE git_connections SET name = $2, provider = $3, base_url = $4, credentials_enc = $5,
		updated_at = now() WHERE id = $1`, id, in.Name, in.Provider, in.BaseURL, sealed)
	if err != nil {
		return GitConnection{}, mapErr(err, "git connection")
	}
	if tag.RowsAffected() == 0 {
		return GitConnection{}, mapErr(pgx.ErrNoRows, "git connection")
	}
	return s.GetGitConnection(ctx, id)
}

// DeleteGitConnection removes a connection; applications using it fall back
// to their own credentials.
func (s *Store) DeleteGitConnection(ctx context.Context, id uuid.UUID) error {
	return deleteByID(ctx, s.pool, "git_connections", id, "git connection")
}

// NewSecret returns a random URL-safe secret of 32 bytes.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func webhookSecretContext(app uuid.UUID) string { return "application:webhook_secret:" + app.String() }

func (s *Store) sealWebhookSecret(app uuid.UUID, secret string) []byte {
	return s.box.SealString(webhookSecretContext(app), secret)
}

// ApplicationByWebhook returns the application whose webhook id is hook.
func (s *Store) ApplicationByWebhook(ctx context.Context, hook string) (Application, error) {
	a, err := s.scanApp(s.pool.QueryRow(ctx, `SELECT `+appCols+appFrom+`WHERE a.webhook_id = $1`, hook))
	return a, mapErr(err, "application")
}

// WebhookSecret returns the secret the git host signs an application's
// webhooks with, creating one if the application has none yet.
func (s *Store) WebhookSecret(ctx context.Context, app uuid.UUID) (string, error) {
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT webhook_secret_enc FROM applications WHERE id = $1`, app).Scan(&sealed)
	if err != nil {
		return "", mapErr(err, "application")
	}
	if sealed == nil {
		return s.RotateWebhookSecret(ctx, app)
	}
	secret, err := s.box.OpenString(webhookSecretContext(app), sealed)
	if err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return secret, nil
}

// RotateWebhookSecret replaces an application's webhook secret and returns
// the new one.
func (s *Store) RotateWebhookSecret(ctx context.Context, app uuid.UUID) (string, error) {
	secret := NewSecret()
	tag, err := s.pool.Exec(ctx, `UPDATE applications SET webhook_secret_enc = $2, updated_at = now() WHERE id = $1`,
		app, s.sealWebhookSecret(app, secret))
	if err != nil {
		return "", mapErr(err, "application")
	}
	if tag.RowsAffected() == 0 {
		return "", mapErr(pgx.ErrNoRows, "application")
	}
	return secret, nil
}

// DeployTokenPrefix starts every deploy token, so they are recognisable in
// logs and secret scanners.
const DeployTokenPrefix = "bdt_"

// RotateDeployToken creates a new deploy token for an application's generic
// and image webhooks, replacing any earlier one. Only its digest is kept:
// the token is returned once.
func (s *Store) RotateDeployToken(ctx context.Context, app uuid.UUID) (string, error) {
	token := DeployTokenPrefix + NewSecret()
	sum := sha256.Sum256([]byte(token))
	tag, err := s.pool.Exec(ctx, `UPDATE applications SET deploy_token_hash = $2, updated_at = now() WHERE id = $1`, app, sum[:])
	if err != nil {
		return "", mapErr(err, "application")
	}
	if tag.RowsAffected() == 0 {
		return "", mapErr(pgx.ErrNoRows, "application")
	}
	return token, nil
}

// DeployTokenSet reports whether an application has a deploy token.
func (s *Store) DeployTokenSet(ctx context.Context, app uuid.UUID) (bool, error) {
	var set bool
	err := s.pool.QueryRow(ctx, `SELECT deploy_token_hash IS NOT NULL FROM applications WHERE id = $1`, app).Scan(&set)
	return set, mapErr(err, "application")
}

// CheckDeployToken reports whether token is the application's deploy token
// (false when it has none).
func (s *Store) CheckDeployToken(ctx context.Context, app uuid.UUID, token string) (bool, error) {
	var stored []byte
	err := s.pool.QueryRow(ctx, `SELECT deploy_token_hash FROM applications WHERE id = $1`, app).Scan(&stored)
	if err != nil {
		return false, mapErr(err, "application")
	}
	if stored == nil || token == "" {
		return false, nil
	}
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], stored) == 1, nil
}

// PreviewSpec identifies a preview deployment of a pull request.
type PreviewSpec struct {
	Number  int
	HeadRef string
	// Repository is what the preview fetches: the parent's repository, or
	// the fork's clone URL.
	Repository string
}

// UpsertPreview creates or refreshes the preview application of a pull
// request: a copy of the parent's settings (in the parent's environment,
// hidden from application lists) named after the pull request. created
// reports whether it is new.
func (s *Store) UpsertPreview(ctx context.Context, parent Application, in PreviewSpec) (a Application, created bool, err error) {
	spec := parent.Spec()
	spec.Name = PreviewName(parent.Name, in.Number)
	spec.GitRepository = in.Repository
	spec.AutoDeploy = false
	spec.Preview = PreviewSettings{}
	spec.Ports = nil // published ports would collide with the parent's
	spec.Mounts = previewMounts(spec.Mounts)
	var id uuid.UUID
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id FROM applications WHERE preview_of = $1 AND preview_number = $2 FOR UPDATE`,
			parent.ID, in.Number).Scan(&id)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			created = true
			if id, err = s.insertApplication(ctx, tx, parent.EnvironmentID, spec); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE applications SET preview_of = $2, preview_number = $3, preview_head_ref = $4,
			git_repository = $5, port = $6, build_type = $7, updated_at = now() WHERE id = $1`,
			id, parent.ID, in.Number, in.HeadRef, in.Repository, parent.Port, parent.BuildType)
		return err
	})
	if err != nil {
		return Application{}, false, mapErr(err, "preview")
	}
	a, err = s.GetApplication(ctx, id)
	return a, created, err
}

// PreviewName is the application name of a pull request's preview.
func PreviewName(parent string, number int) string {
	suffix := fmt.Sprintf("-pr-%d", number)
	if len(parent)+len(suffix) > 54 {
		parent = parent[:54-len(suffix)]
	}
	return parent + suffix
}

// GetPreview returns the preview of pull request number, or ErrNotFound.
func (s *Store) GetPreview(ctx context.Context, parent uuid.UUID, number int) (Application, error) {
	a, err := s.scanApp(s.pool.QueryRow(ctx, `SELECT `+appCols+appFrom+`WHERE a.preview_of = $1 AND a.preview_number = $2`, parent, number))
	return a, mapErr(err, "preview")
}

// ListPreviews returns an application's previews, by pull request number.
func (s *Store) ListPreviews(ctx context.Context, parent uuid.UUID) ([]Application, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+appCols+appFrom+`WHERE a.preview_of = $1 ORDER BY a.preview_number`, parent)
	if err != nil {
		return nil, mapErr(err, "previews")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Application, error) { return s.scanApp(r) })
	return out, mapErr(err, "previews")
}

// CountPreviews returns how many previews an application has.
func (s *Store) CountPreviews(ctx context.Context, parent uuid.UUID) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM applications WHERE preview_of = $1`, parent).Scan(&n)
	return n, mapErr(err, "previews")
}

// InheritPreview returns the application a preview deploys as: the parent's
// current settings under the preview's identity (id, name, service, domains,
// repository), without published ports and with only tmpfs mounts, so a
// preview never shares the parent's data or ports. Pass the parent's
// current row at deploy time so setting changes reach previews.
func InheritPreview(parent, preview Application) Application {
	a := parent
	a.ID, a.Name, a.ServiceName, a.WebhookID = preview.ID, preview.Name, preview.ServiceName, preview.WebhookID
	a.PreviewOf, a.PreviewNumber, a.PreviewHeadRef = preview.PreviewOf, preview.PreviewNumber, preview.PreviewHeadRef
	a.GitRepository = preview.GitRepository
	a.CreatedAt, a.UpdatedAt = preview.CreatedAt, preview.UpdatedAt
	a.Ports = []Port{}
	a.Mounts = previewMounts(parent.Mounts)
	a.AutoDeploy = false
	a.Preview = PreviewSettings{}
	if a.Replicas > 1 {
		a.Replicas = 1
	}
	return a
}

func previewMounts(in []Mount) []Mount {
	out := []Mount{}
	for _, m := range in {
		if m.Type == "tmpfs" {
			out = append(out, m)
		}
	}
	return out
}
