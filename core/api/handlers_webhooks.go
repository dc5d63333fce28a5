package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/webhook"
	"github.com/gofiber/fiber/v2"
)

// Webhooks acts on incoming webhooks and removes previews.
type Webhooks interface {
	Git(ctx context.Context, hook string, header http.Header, body []byte) (webhook.Result, error)
	AuthenticateToken(ctx context.Context, hook, token string) error
	Deploy(ctx context.Context, hook, token, ref string) (webhook.Result, error)
	Image(ctx context.Context, hook, token string, body []byte) (webhook.Result, error)
	RemovePreviews(ctx context.Context, previews []store.Application) error
}

// DeployHookRequest is the optional body of the generic deploy webhook.
type DeployHookRequest struct {
	// Ref deploys this branch, tag or commit instead of the application's ref.
	Ref string `json:"ref"`
}

// WebhookInfo tells how to call an application's webhooks.
type WebhookInfo struct {
	// GitURL receives the git host's signed webhooks (push, tag, pull request).
	GitURL string `json:"git_url"`
	// DeployURL deploys the configured ref; send the deploy token as
	// 'Authorization: Bearer <token>' or ?token=.
	DeployURL string `json:"deploy_url"`
	// ImageURL receives registry push notifications (image-sourced apps).
	ImageURL string `json:"image_url"`
	// Secret is the webhook signing secret, shown to admins and owners.
	Secret string `json:"secret,omitempty"`
	// DeployTokenSet says whether a deploy token exists (it is shown once).
	DeployTokenSet bool `json:"deploy_token_set"`
}

// DeployToken is a new deploy token, shown once.
type DeployToken struct {
	Token     string `json:"token"`
	DeployURL string `json:"deploy_url"`
	ImageURL  string `json:"image_url"`
}

func (s *Server) webhookRoutes() []Route {
	p := Prefix
	return []Route{
		{Method: "POST", Path: p + "/webhooks/git/:hook", Summary: "A git host's signed webhook (push, tag, pull request, ping)", Tag: "webhooks", Webhook: true, Response: webhook.Result{}, Status: 202, Handler: s.gitWebhook},
		{Method: "POST", Path: p + "/webhooks/deploy/:hook", Summary: "Deploy from CI with the application's deploy token", Tag: "webhooks", Webhook: true, Body: DeployHookRequest{}, Query: []QueryParam{{"token", "the deploy token (or send Authorization: Bearer)", "string"}}, Response: webhook.Result{}, Status: 202, Handler: s.deployWebhook},
		{Method: "POST", Path: p + "/webhooks/image/:hook", Summary: "A registry push (Docker Hub or Distribution notifications) for an image-sourced application", Tag: "webhooks", Webhook: true, Query: []QueryParam{{"token", "the deploy token (or send Authorization: Bearer)", "string"}}, Response: webhook.Result{}, Status: 202, Handler: s.imageWebhook},

		{Method: "GET", Path: p + "/applications/:id/webhook", Summary: "The application's webhook URLs (and signing secret, for admins)", Tag: "webhooks", Access: forMembers, Resource: service.ApplicationResource, Do: Plain(s.getWebhook)},
		{Method: "POST", Path: p + "/applications/:id/webhook/secret", Summary: "Replace the webhook signing secret (admins)", Tag: "webhooks", Access: forAdmins, Resource: service.ApplicationResource, Do: Plain(s.rotateWebhookSecret)},
		{Method: "POST", Path: p + "/applications/:id/webhook/deploy-token", Summary: "Create a new deploy token, replacing the old one; shown once (admins)", Tag: "webhooks", Status: 201, Access: forAdmins, Resource: service.ApplicationResource, Do: Plain(s.rotateDeployToken)},
		{Method: "GET", Path: p + "/applications/:id/previews", Summary: "The application's preview deployments, by pull request", Tag: "applications", Access: forViewers, Resource: service.ApplicationResource, Do: Plain(s.listPreviews)},
	}
}

func (s *Server) webhooks() (Webhooks, error) {
	if s.opts.Webhooks == nil {
		return nil, &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable", Message: "webhooks are not available on this server"}
	}
	return s.opts.Webhooks, nil
}

// webhookError maps the receiver's errors; an unknown hook and a bad
// signature look the same.
func webhookError(err error) error {
	var invalidErr *webhook.InvalidError
	var providerErr *webhook.ProviderError
	switch {
	case errors.Is(err, webhook.ErrUnauthenticated):
		return &Error{Status: fiber.StatusUnauthorized, Code: "unauthenticated", Message: webhook.ErrUnauthenticated.Error()}
	case errors.Is(err, webhook.ErrUnavailable):
		return &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable", Message: err.Error()}
	case errors.As(err, &invalidErr):
		return badRequest("", "%s", invalidErr.Msg)
	case errors.As(err, &providerErr):
		return &Error{Status: fiber.StatusBadGateway, Code: "provider_failed", Message: providerErr.Error()}
	}
	return err
}

func (s *Server) gitWebhook(c *fiber.Ctx) error {
	wh, err := s.webhooks()
	if err != nil {
		return err
	}
	header := http.Header{}
	c.Request().Header.VisitAll(func(k, v []byte) { header.Add(string(k), string(v)) })
	body := append([]byte(nil), c.Body()...)
	res, err := wh.Git(c.UserContext(), c.Params("hook"), header, body)
	if err != nil {
		return webhookError(err)
	}
	return c.Status(res.Status).JSON(res)
}

// deployToken reads the token from Authorization: Bearer or ?token=.
func deployToken(c *fiber.Ctx) string {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return c.Query("token")
}

func (s *Server) deployWebhook(c *fiber.Ctx) error {
	wh, err := s.webhooks()
	if err != nil {
		return err
	}
	token := deployToken(c)
	// Authenticate before reporting anything about the body.
	if err := wh.AuthenticateToken(c.UserContext(), c.Params("hook"), token); err != nil {
		return webhookError(err)
	}
	var req DeployHookRequest
	if len(strings.TrimSpace(string(c.Body()))) > 0 {
		if err := decodeBody(c, &req); err != nil {
			return err
		}
	}
	if req.Ref != "" && validateGitRef(req.Ref) != nil {
		return invalid("ref", "%q is not a valid branch, tag or commit", req.Ref)
	}
	res, err := wh.Deploy(c.UserContext(), c.Params("hook"), token, req.Ref)
	if err != nil {
		return webhookError(err)
	}
	return c.Status(res.Status).JSON(res)
}

func (s *Server) imageWebhook(c *fiber.Ctx) error {
	wh, err := s.webhooks()
	if err != nil {
		return err
	}
	body := append([]byte(nil), c.Body()...)
	res, err := wh.Image(c.UserContext(), c.Params("hook"), deployToken(c), body)
	if err != nil {
		return webhookError(err)
	}
	return c.Status(res.Status).JSON(res)
}

func (s *Server) webhookURLs(a store.Application) WebhookInfo {
	base := strings.TrimRight(s.opts.PublicURL, "/") + Prefix + "/webhooks/"
	return WebhookInfo{GitURL: base + "git/" + a.WebhookID, DeployURL: base + "deploy/" + a.WebhookID, ImageURL: base + "image/" + a.WebhookID}
}

func (s *Server) getWebhook(c *fiber.Ctx) (WebhookInfo, error) {
	a := resolved(c).Application
	if a.PreviewOf != nil {
		return WebhookInfo{}, conflict("id", "previews have no webhooks; see the parent application")
	}
	info := s.webhookURLs(a)
	var err error
	if principal(c).Roles[a.OrganizationID].Rank() >= store.RoleAdmin.Rank() {
		if info.Secret, err = s.store.WebhookSecret(c.UserContext(), a.ID); err != nil {
			return info, err
		}
	}
	info.DeployTokenSet, err = s.store.DeployTokenSet(c.UserContext(), a.ID)
	return info, err
}

func (s *Server) rotateWebhookSecret(c *fiber.Ctx) (WebhookInfo, error) {
	a := resolved(c).Application
	secret, err := s.svc.Applications.RotateWebhookSecret(c.UserContext(), principal(c), a)
	if err != nil {
		return WebhookInfo{}, err
	}
	info := s.webhookURLs(a)
	info.Secret = secret
	info.DeployTokenSet, err = s.store.DeployTokenSet(c.UserContext(), a.ID)
	return info, err
}

func (s *Server) rotateDeployToken(c *fiber.Ctx) (DeployToken, error) {
	a := resolved(c).Application
	token, err := s.svc.Applications.RotateDeployToken(c.UserContext(), principal(c), a)
	if err != nil {
		return DeployToken{}, err
	}
	info := s.webhookURLs(a)
	return DeployToken{Token: token, DeployURL: info.DeployURL, ImageURL: info.ImageURL}, nil
}

func (s *Server) listPreviews(c *fiber.Ctx) (List[store.Application], error) {
	previews, err := s.svc.Applications.Previews(c.UserContext(), principal(c), resolved(c).Application)
	return List[store.Application]{Items: previews}, err
}
