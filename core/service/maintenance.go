package service

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/berth-dev/berth/core/pages"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
)

// PageServer runs berth's maintenance page server (core/pages) in Swarm;
// *pagesvc.Runner implements it.
type PageServer interface {
	// Ensure starts the page server if it does not run and returns its
	// Swarm service name once a task runs.
	Ensure(ctx context.Context) (string, error)
	// Remove stops the page server; a missing one is no error.
	Remove(ctx context.Context) error
}

// DefaultPagesIdle is how long the page server keeps running after the
// last application left maintenance mode: long enough for routing to
// republish and Traefik to reload, so no request in flight meets a
// removed service.
const DefaultPagesIdle = 30 * time.Second

// MaintenanceInput enters or leaves an application's maintenance mode.
// Nil Page or RetryAfter keep the saved value; an empty Page means the
// default page ("<app> is under maintenance").
type MaintenanceInput struct {
	Enabled    bool
	Page       *string
	RetryAfter *int
}

// Validate checks the page (UTF-8, at most pages.MaxPageBytes) and
// Retry-After (1 s to one week).
func (in MaintenanceInput) Validate() error {
	if in.Page != nil {
		if len(*in.Page) > pages.MaxPageBytes {
			return problem.InvalidField("page", "must be at most %d KiB", pages.MaxPageBytes>>10)
		}
		if !utf8.ValidString(*in.Page) {
			return problem.InvalidField("page", "must be UTF-8 text")
		}
	}
	if in.RetryAfter != nil && (*in.RetryAfter < 1 || *in.RetryAfter > pages.MaxRetryAfter) {
		return problem.InvalidField("retry_after_seconds", "must be %s", rangeText(1, pages.MaxRetryAfter))
	}
	return nil
}

// Maintenance returns an application's maintenance mode (viewers and above).
func (as *Applications) Maintenance(ctx context.Context, p *store.Principal, app store.Application) (store.Maintenance, error) {
	if err := Authorize(p, app.OrganizationID, store.RoleViewer, "application"); err != nil {
		return store.Maintenance{}, err
	}
	return as.s.deps.Store.GetMaintenance(ctx, app.ID)
}

// SetMaintenance enters or leaves an application's maintenance mode
// (members and above). Entering starts the page server before the
// application's row says so, so its routes never point at nothing; the
// change feed has routing republish after commit. Leaving writes the row,
// and once no application is left in maintenance the page server is
// removed after DefaultPagesIdle (Deps.PagesIdle).
func (as *Applications) SetMaintenance(ctx context.Context, p *store.Principal, app store.Application, in MaintenanceInput) (store.Maintenance, error) {
	if err := Authorize(p, app.OrganizationID, store.RoleMember, "application"); err != nil {
		return store.Maintenance{}, err
	}
	if err := in.Validate(); err != nil {
		return store.Maintenance{}, err
	}
	pagesSrv := as.s.deps.Pages
	if in.Enabled && pagesSrv == nil {
		return store.Maintenance{}, problem.Down("maintenance mode needs Docker Swarm, which this server does not use", nil)
	}
	var out store.Maintenance
	err := as.s.deps.Store.WithTx(ctx, func(tx *store.Tx) error {
		// The lock orders this against the page server's removal.
		if err := tx.LockMaintenance(ctx); err != nil {
			return err
		}
		m, err := tx.GetMaintenance(ctx, app.ID)
		if err != nil {
			return err
		}
		m.Enabled, m.Service = in.Enabled, ""
		if in.Page != nil {
			m.Page = *in.Page
		}
		if in.RetryAfter != nil {
			m.RetryAfter = *in.RetryAfter
		}
		if in.Enabled {
			if m.Service, err = pagesSrv.Ensure(ctx); err != nil {
				return problem.Down("the maintenance page server could not be started", err)
			}
		}
		out = m
		return tx.SetMaintenance(ctx, app.ID, m)
	})
	if err != nil {
		return store.Maintenance{}, err
	}
	if !in.Enabled && pagesSrv != nil {
		as.retirePages()
	}
	return out, nil
}

// SettlePages makes the page server match the stored state at start-up:
// running when an application is in maintenance mode (it may have been
// removed while berth was down), removed when none is (berth may have
// stopped before the idle removal). Without a page server it does nothing.
func (as *Applications) SettlePages(ctx context.Context) error {
	if as.s.deps.Pages == nil {
		return nil
	}
	return as.s.deps.Store.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockMaintenance(ctx); err != nil {
			return err
		}
		n, err := tx.CountInMaintenance(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return as.s.deps.Pages.Remove(ctx)
		}
		_, err = as.s.deps.Pages.Ensure(ctx)
		return err
	})
}

// retirePages removes the page server after the idle delay unless an
// application is in maintenance mode by then.
func (as *Applications) retirePages() {
	idle := as.s.deps.PagesIdle
	if idle == 0 {
		idle = DefaultPagesIdle
	}
	time.AfterFunc(idle, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := as.s.deps.Store.WithTx(ctx, func(tx *store.Tx) error {
			if err := tx.LockMaintenance(ctx); err != nil {
				return err
			}
			n, err := tx.CountInMaintenance(ctx)
			if err != nil || n > 0 {
				return err
			}
			return as.s.deps.Pages.Remove(ctx)
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			as.s.deps.Logger.Warn("removing the idle maintenance page server failed", "err", err)
		}
	})
}
