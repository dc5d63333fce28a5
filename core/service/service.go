// Package service is berth's one write path. Every front door (the REST
// API, the dashboard, the webhook receiver, the scheduler, the CLI through
// the API) changes state by calling an operation here, one type per
// aggregate: Projects (with environments), and the others as they move
// here. Each operation
//
//  1. validates its input (a Validate method on the input value, built
//     from core/validate's field rules: one rule, one place),
//  2. authorizes the caller against the resource's organization with the
//     role the operation declares (non-members get "not found", so ids of
//     other tenants leak nothing),
//  3. writes in one PostgreSQL transaction, durable jobs inserted in that
//     same transaction,
//  4. and leaves the announcement to PostgreSQL: triggers notify every
//     committed change of a routed object (core/changefeed), and routing
//     subscribes to them, so no caller can forget to republish routes.
//
// Failures are *problem.Error values (invalid field, not found, forbidden,
// conflict, unavailable) that each front door renders its own way.
package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/teardown"
	"github.com/google/uuid"
)

// Teardown removes what berth runs in Docker Swarm for projects,
// environments and applications; *teardown.Service implements it.
type Teardown interface {
	DeleteProject(ctx context.Context, p store.Project, opts teardown.Options) error
	DeleteEnvironment(ctx context.Context, e store.Environment, opts teardown.Options) error
	// RemoveApplications removes the Swarm services of applications about
	// to be deleted.
	RemoveApplications(ctx context.Context, apps []store.Application) error
}

// Deps are what the services use.
type Deps struct {
	Store *store.Store
	// HostAccess decides who may use host-level powers; nil uses a guard
	// on Store that reserves no extra ports.
	HostAccess *hostaccess.Guard
	// Teardown removes Swarm objects; nil uses one without Swarm, which
	// deletes only what never ran there.
	Teardown Teardown
	// Outbound checks the addresses tenants aim requests at (repositories);
	// nil uses OutboundGuard(Store).
	Outbound *netguard.Guard
	// Deployer queues and cancels deployments; nil answers deployment
	// operations with ErrNoDeployer (a server without Docker).
	Deployer Deployer
	Logger   *slog.Logger
	// Data runs databases, backups and restores (nil parts: 503).
	Data DataDeps
	// Pages runs the maintenance page server (nil: maintenance mode is
	// unavailable); PagesIdle is how long it outlives the last app in
	// maintenance (0: DefaultPagesIdle).
	Pages     PageServer
	PagesIdle time.Duration
	// Builders gives the builders' per-application settings schemas, to
	// check build settings when they are saved (nil: not checked).
	Builders BuilderSchemas
	// Notifiers gives the notifier plugins and the channels' processes
	// (nil: notification channels answer 503).
	Notifiers NotifierPlugins
}

// Services is the service layer: one field per aggregate.
type Services struct {
	deps Deps

	// Projects creates, changes and deletes projects and their environments.
	Projects *Projects
	// Applications, Domains and Variables change applications, their
	// domains and the variables of projects, environments and applications.
	Applications *Applications
	Domains      *Domains
	Variables    *Variables
	// Deployments queues, rolls back, cancels and deletes deployments.
	Deployments *Deployments
	// Previews opens and removes the preview applications of pull requests.
	Previews *Previews
	// Organizations, Accounts, Instance, Plugins and Connections: people,
	// their access and the instance-wide settings.
	Organizations *Organizations
	Accounts      *Accounts
	Instance      *Instance
	Plugins       *Plugins
	Connections   *Connections
	// Databases, Backups and Restores: databases, backup destinations,
	// policies and runs, and restores.
	Databases *Databases
	Backups   *Backups
	Restores  *Restores
	// Notifications: the organizations' notification channels.
	Notifications *Notifications
	// Alerts: threshold alert rules on servers, applications and
	// databases (alerts feature).
	Alerts *Alerts
}

// New returns the service layer on deps.
func New(deps Deps) *Services {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.HostAccess == nil {
		deps.HostAccess = hostaccess.NewGuard(deps.Store, nil)
	}
	if deps.Teardown == nil {
		deps.Teardown = teardown.New(teardown.Deps{Store: deps.Store, Logger: deps.Logger})
	}
	if deps.Outbound == nil {
		deps.Outbound = OutboundGuard(deps.Store)
	}
	s := &Services{deps: deps}
	s.Projects = &Projects{s: s}
	s.Applications, s.Domains, s.Variables = &Applications{s: s}, &Domains{s: s}, &Variables{s: s}
	s.Deployments = &Deployments{s: s}
	s.Previews = &Previews{s: s}
	s.Organizations, s.Accounts, s.Instance, s.Plugins, s.Connections = &Organizations{s}, &Accounts{s}, &Instance{s}, &Plugins{s}, &Connections{s}
	s.Databases, s.Backups, s.Restores = &Databases{s: s}, &Backups{s: s}, &Restores{s: s}
	s.Notifications = &Notifications{s: s}
	s.Alerts = &Alerts{s: s} // alerts feature
	return s
}

// Store returns the store the services write to (front doors read
// through it; they never write).
func (s *Services) Store() *store.Store { return s.deps.Store }

// HostAccess returns the host-access guard the services apply.
func (s *Services) HostAccess() *hostaccess.Guard { return s.deps.HostAccess }

// System is the caller of operations berth performs on its own behalf
// (the scheduler, signed webhooks, start-up reconciliation): it passes
// every role check. Front doors that serve people never pass it.
var System = &store.Principal{}

// Authorize checks the caller holds at least min in org. Callers who are
// not members get problem.Missing(what), members below min problem.ErrRole.
func Authorize(p *store.Principal, org uuid.UUID, min store.Role, what string) error {
	if p == System {
		return nil
	}
	if p == nil {
		return &problem.Error{Kind: problem.Unauthenticated, Message: "authentication required"}
	}
	role, ok := p.Roles[org]
	if !ok {
		return problem.Missing(what)
	}
	if role.Rank() < min.Rank() {
		return problem.ErrRole
	}
	return nil
}

// RequireInstanceAdmin refuses everyone but instance administrators (and System).
func RequireInstanceAdmin(p *store.Principal) error {
	if p == System || (p != nil && p.User.InstanceAdmin) {
		return nil
	}
	return problem.ErrNotInstanceAdmin
}

// OrganizationsOf returns the organizations the caller belongs to.
func OrganizationsOf(p *store.Principal) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(p.Roles))
	for id := range p.Roles {
		ids = append(ids, id)
	}
	return ids
}
