package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/testhook"
	"github.com/berth-dev/berth/sdk"
)

// Previews opens, updates and removes the preview applications of pull
// requests. Signed webhooks call them as System; the parent application's
// settings, chosen by someone allowed to, are what a preview inherits.
type Previews struct {
	s *Services
	// events receives preview.created and preview.removed (SetEvents).
	events EventEmitter
}

// PreviewInput opens or updates the preview of one pull request.
type PreviewInput struct {
	Spec store.PreviewSpec
	// Host is the preview's domain, rendered from the parent's pattern.
	Host string
	// Deployment deploys the pull request's head.
	Deployment store.NewDeployment
	// PullRequestURL is the pull request's page, for the preview.created
	// notification (optional).
	PullRequestURL string
}

// ErrPreviewHostTaken is returned when another domain already uses the
// preview's host; nothing was created.
var ErrPreviewHostTaken = errors.New("preview host is already used by another domain")

// Upsert creates the preview application of a pull request (with its
// domain) or finds the existing one, and queues its deployment: the
// application, its domain, the deployment and the deployment's job are
// written in one transaction, all or nothing.
func (ps *Previews) Upsert(ctx context.Context, p *store.Principal, parent store.Application, in PreviewInput) (store.Application, store.Deployment, error) {
	var (
		preview store.Application
		d       store.Deployment
	)
	if err := Authorize(p, parent.OrganizationID, store.RoleMember, "application"); err != nil {
		return preview, d, err
	}
	dep := ps.s.deps.Deployer
	if dep == nil {
		return preview, d, ErrNoDeployer
	}
	err := ps.s.deps.Store.WithTx(ctx, func(tx *store.Tx) error {
		var created bool
		var err error
		preview, created, err = tx.UpsertPreview(ctx, parent, in.Spec)
		if err != nil {
			return err
		}
		if created {
			_, err := tx.CreateDomain(ctx, preview.ID, store.DomainSpec{Host: in.Host, HTTPS: parent.Preview.HTTPS})
			var conflict *store.ConflictError
			if errors.As(err, &conflict) {
				return fmt.Errorf("%s: %w", in.Host, ErrPreviewHostTaken) // rolls the preview back
			}
			if err != nil {
				return err
			}
			ps.emitTx(ctx, tx, preview, previewEvent(sdk.EventPreviewCreated, preview, in.Host, in.PullRequestURL))
		}
		d, err = dep.DeployTx(ctx, tx, preview, in.Deployment)
		if err != nil {
			return err
		}
		return testhook.Pause(ctx, "preview.create")
	})
	return preview, d, err
}

// Remove removes preview applications: their deployments are cancelled,
// then their services, release images, domains and rows go.
func (ps *Previews) Remove(ctx context.Context, p *store.Principal, previews []store.Application) error {
	st := ps.s.deps.Store
	for _, pv := range previews {
		if err := Authorize(p, pv.OrganizationID, store.RoleMember, "application"); err != nil {
			return err
		}
		if dep := ps.s.deps.Deployer; dep != nil {
			ds, _, err := st.ListDeployments(ctx, pv.ID, store.Page{Limit: 20})
			if err != nil {
				return err
			}
			for _, d := range ds {
				if !d.Finished() {
					_ = dep.Cancel(ctx, d)
				}
			}
			if err := dep.RemoveApplications(ctx, []store.Application{pv}); err != nil {
				return fmt.Errorf("remove preview service: %w", err)
			}
			if err := dep.RemoveReleaseImages(ctx, pv); err != nil {
				ps.s.deps.Logger.Warn("removing preview images failed", "preview", pv.ID, "err", err)
			}
		}
		if err := ps.delete(ctx, pv); err != nil {
			return err
		}
	}
	return nil
}
