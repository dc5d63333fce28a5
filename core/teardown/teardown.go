// Package teardown deletes projects and environments together with
// everything berth created for them in Docker Swarm: the services of their
// applications (previews included) and databases with their configs, and
// the environments' overlay networks. Volumes stay unless the caller asks
// for them to go. The records are deleted only once the Swarm objects are
// gone; when a removal fails the records stay, so the deletion can simply
// be retried. The REST API and the dashboard both delete through here.
package teardown

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/deploy"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// Store is the part of *store.Store teardown reads and deletes.
type Store interface {
	ListEnvironments(ctx context.Context, project uuid.UUID, p store.Page) ([]store.Environment, bool, error)
	CountEnvironments(ctx context.Context, project uuid.UUID) (int, error)
	ListApplications(ctx context.Context, f store.ApplicationFilter, p store.Page) ([]store.Application, bool, error)
	ListDatabases(ctx context.Context, f store.DatabaseFilter, p store.Page) ([]store.Database, bool, error)
	ListDeployments(ctx context.Context, app uuid.UUID, p store.Page) ([]store.Deployment, bool, error)
	GetDeployment(ctx context.Context, id uuid.UUID) (store.Deployment, error)
	DeleteProject(ctx context.Context, id uuid.UUID) error
	DeleteEnvironment(ctx context.Context, id uuid.UUID) error
	// RecordedVolumes and VolumeMappedBy tell which Docker volumes an
	// application's volume mounts map to and which other applications
	// map a volume.
	RecordedVolumes(ctx context.Context, app uuid.UUID) ([]string, error)
	VolumeMappedBy(ctx context.Context, name string, except []uuid.UUID) ([]uuid.UUID, error)
}

// Swarm removes berth's Swarm objects; *swarm.Manager implements it.
type Swarm interface {
	// Remove removes a service and its configs and waits until its tasks
	// are gone; a missing service is not an error.
	Remove(ctx context.Context, service string) error
	// RemoveNetwork removes a network berth created, with any berth
	// service still attached; a missing network is not an error.
	RemoveNetwork(ctx context.Context, name string) error
	// RemoveVolumes removes the volumes berth created carrying the label
	// key=value.
	RemoveVolumes(ctx context.Context, key, value string) ([]string, error)
}

// Databases removes a database's service, and its volume when asked;
// *dbservice.Service implements it.
type Databases interface {
	Delete(ctx context.Context, db store.Database, deleteVolume bool) error
}

// Deployments cancels deployments; *deploy.Enqueuer implements it.
type Deployments interface {
	Cancel(ctx context.Context, d store.Deployment) error
}

// Deps are what a Service works with. Swarm and Databases are nil when
// Docker Swarm is not available: then only projects and environments that
// never ran anything there can be deleted. Deployments is
// optional.
type Deps struct {
	Store       Store
	Swarm       Swarm
	Databases   Databases
	Deployments Deployments
	// Instance is berth's instance name (BERTH_NAME); it prefixes network
	// names.
	Instance string
	// CancelWait bounds the wait for cancelled deployments to stop
	// (default 3 minutes).
	CancelWait time.Duration
	Logger     *slog.Logger
}

// Options choose what a deletion removes beyond services and networks.
type Options struct {
	// DeleteVolumes removes the databases' volumes and the named volumes
	// berth created for the applications, and with them their data.
	DeleteVolumes bool
}

// ErrNoSwarm is wrapped when something to delete may still run in Docker
// Swarm while berth has no Swarm to remove it from.
var ErrNoSwarm = errors.New("docker swarm is not available")

// ErrLastEnvironment is wrapped when deleting a project's only
// environment.
var ErrLastEnvironment = errors.New("a project keeps at least one environment; delete the project instead")

// Service deletes projects and environments with their Swarm objects.
type Service struct {
	d Deps
}

// New returns a Service.
func New(d Deps) *Service {
	if d.CancelWait <= 0 {
		d.CancelWait = 3 * time.Minute
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

// UsesSwarm reports whether s removes Swarm objects (Docker Swarm was
// available when it was built).
func (s *Service) UsesSwarm() bool { return s.d.Swarm != nil && s.d.Databases != nil }

// scope is what one deletion covers.
type scope struct {
	envs []uuid.UUID
	apps []store.Application
	dbs  []store.Database
}

// DeleteProject removes everything berth runs for project p, then p with
// its environments, applications and databases.
func (s *Service) DeleteProject(ctx context.Context, p store.Project, opts Options) error {
	envs, err := all(func(pg store.Page) ([]store.Environment, bool, error) {
		return s.d.Store.ListEnvironments(ctx, p.ID, pg)
	}, func(e store.Environment) uuid.UUID { return e.ID })
	if err != nil {
		return fmt.Errorf("delete project %s: %w", p.Name, err)
	}
	sc := scope{}
	for _, e := range envs {
		sc.envs = append(sc.envs, e.ID)
	}
	if err := s.collect(ctx, &sc, p.OrganizationID, p.ID, uuid.Nil); err != nil {
		return fmt.Errorf("delete project %s: %w", p.Name, err)
	}
	if err := s.teardown(ctx, sc, opts); err != nil {
		return fmt.Errorf("delete project %s: %w", p.Name, err)
	}
	if err := s.d.Store.DeleteProject(ctx, p.ID); err != nil {
		return err
	}
	s.d.Logger.InfoContext(ctx, "project deleted", "project", p.ID, "applications", len(sc.apps),
		"databases", len(sc.dbs), "environments", len(sc.envs), "volumes_deleted", opts.DeleteVolumes)
	return nil
}

// DeleteEnvironment removes everything berth runs for environment e, then
// e with its applications and databases. A project's last environment is
// refused with ErrLastEnvironment.
func (s *Service) DeleteEnvironment(ctx context.Context, e store.Environment, opts Options) error {
	n, err := s.d.Store.CountEnvironments(ctx, e.ProjectID)
	if err != nil {
		return fmt.Errorf("delete environment %s: %w", e.Name, err)
	}
	if n <= 1 {
		return fmt.Errorf("delete environment %s: %w", e.Name, ErrLastEnvironment)
	}
	sc := scope{envs: []uuid.UUID{e.ID}}
	if err := s.collect(ctx, &sc, e.OrganizationID, uuid.Nil, e.ID); err != nil {
		return fmt.Errorf("delete environment %s: %w", e.Name, err)
	}
	if err := s.teardown(ctx, sc, opts); err != nil {
		return fmt.Errorf("delete environment %s: %w", e.Name, err)
	}
	if err := s.d.Store.DeleteEnvironment(ctx, e.ID); err != nil {
		return err
	}
	s.d.Logger.InfoContext(ctx, "environment deleted", "environment", e.ID, "applications", len(sc.apps),
		"databases", len(sc.dbs), "volumes_deleted", opts.DeleteVolumes)
	return nil
}

// RemoveApplications removes the Swarm services (with their configs) of
// applications about to be deleted, after cancelling their deployments in
// flight; their volumes stay. Without Swarm it refuses applications that
// were ever deployed.
func (s *Service) RemoveApplications(ctx context.Context, apps []store.Application) error {
	if !s.UsesSwarm() {
		return s.checkNothingRuns(ctx, scope{apps: apps})
	}
	if err := s.stopDeployments(ctx, apps); err != nil {
		return err
	}
	return each(apps, func(a store.Application) error {
		// A release's candidate service (core/release) goes with it.
		for _, name := range []string{store.CandidateServiceName(a.ServiceName), a.ServiceName} {
			if err := s.d.Swarm.Remove(ctx, name); err != nil {
				return fmt.Errorf("remove the service of application %s: %w", a.Name, err)
			}
		}
		return nil
	})
}

// collect lists the applications (previews included) and databases of a
// project or an environment.
func (s *Service) collect(ctx context.Context, sc *scope, org, project, env uuid.UUID) error {
	var err error
	sc.apps, err = all(func(pg store.Page) ([]store.Application, bool, error) {
		return s.d.Store.ListApplications(ctx, store.ApplicationFilter{Orgs: []uuid.UUID{org}, Project: project,
			Environment: env, IncludePreviews: true}, pg)
	}, func(a store.Application) uuid.UUID { return a.ID })
	if err != nil {
		return err
	}
	sc.dbs, err = all(func(pg store.Page) ([]store.Database, bool, error) {
		return s.d.Store.ListDatabases(ctx, store.DatabaseFilter{Orgs: []uuid.UUID{org}, Project: project, Environment: env}, pg)
	}, func(d store.Database) uuid.UUID { return d.ID })
	return err
}

// teardown removes the Swarm objects of sc: deployments in flight are
// cancelled first (so none recreates a service), then services (all at
// once: each waits for its tasks' stop grace period), volumes when asked,
// and networks last (services must have left them).
func (s *Service) teardown(ctx context.Context, sc scope, opts Options) error {
	if !s.UsesSwarm() {
		return s.checkNothingRuns(ctx, sc)
	}
	var apps, dbs error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		apps = s.RemoveApplications(ctx, sc.apps)
	}()
	go func() {
		defer wg.Done()
		dbs = each(sc.dbs, func(db store.Database) error {
			if err := s.d.Databases.Delete(ctx, db, opts.DeleteVolumes); err != nil {
				return fmt.Errorf("remove the service of database %s: %w", db.Name, err)
			}
			return nil
		})
	}()
	wg.Wait()
	if err := errors.Join(apps, dbs); err != nil {
		return err
	}
	if opts.DeleteVolumes {
		if err := s.removeAppVolumes(ctx, sc.apps); err != nil {
			return err
		}
	}
	return each(sc.envs, func(env uuid.UUID) error {
		return s.d.Swarm.RemoveNetwork(ctx, deploy.EnvironmentNetworkOf(s.d.Instance, env))
	})
}

// volumeSwarm lists and removes single volumes (*swarm.Manager).
type volumeSwarm interface {
	ManagedVolumes(ctx context.Context, key, value string) ([]string, error)
	RemoveVolume(ctx context.Context, name string) error
}

// removeAppVolumes removes the Docker volumes of the applications: those
// their mounts map to (recorded, e.g. after a restore or for a service
// older than per-application volumes, or the default ones) and any other
// berth created for them (labelled with their id). Only volumes berth
// created are removed, and none another application outside apps still
// maps (a volume two applications shared before volumes were per
// application).
func (s *Service) removeAppVolumes(ctx context.Context, apps []store.Application) error {
	vs, ok := s.d.Swarm.(volumeSwarm)
	if !ok {
		return each(apps, func(a store.Application) error {
			if _, err := s.d.Swarm.RemoveVolumes(ctx, swarm.LabelAppID, a.ID.String()); err != nil {
				return fmt.Errorf("remove the volumes of application %s: %w", a.Name, err)
			}
			return nil
		})
	}
	managed, err := vs.ManagedVolumes(ctx, swarm.LabelManaged, "true")
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, 0, len(apps))
	for _, a := range apps {
		ids = append(ids, a.ID)
	}
	return each(apps, func(a store.Application) error {
		names, err := s.d.Store.RecordedVolumes(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, v := range a.Volumes {
			names = append(names, v)
		}
		names = slices.DeleteFunc(names, func(n string) bool { _, found := slices.BinarySearch(managed, n); return !found })
		labelled, err := vs.ManagedVolumes(ctx, swarm.LabelAppID, a.ID.String())
		if err != nil {
			return err
		}
		names = append(names, labelled...)
		slices.Sort(names)
		var errs []error
		for _, n := range slices.Compact(names) {
			users, err := s.d.Store.VolumeMappedBy(ctx, n, ids)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if len(users) > 0 {
				s.d.Logger.InfoContext(ctx, "volume kept: another application maps it", "volume", n, "app", a.Name)
				continue
			}
			if err := vs.RemoveVolume(ctx, n); err != nil {
				errs = append(errs, fmt.Errorf("remove the volumes of application %s: %w", a.Name, err))
			}
		}
		return errors.Join(errs...)
	})
}

// each calls fn for every item concurrently and joins the errors.
func each[T any](items []T, fn func(T) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(it)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// checkNothingRuns refuses, without Swarm, a deletion whose databases or
// deployed applications may still run there: deleting their records would
// leave services nobody manages.
func (s *Service) checkNothingRuns(ctx context.Context, sc scope) error {
	if len(sc.dbs) > 0 {
		return fmt.Errorf("%w: cannot remove the service of database %s; start berth where Docker Swarm is reachable and retry",
			ErrNoSwarm, sc.dbs[0].Name)
	}
	for _, a := range sc.apps {
		ds, _, err := s.d.Store.ListDeployments(ctx, a.ID, store.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(ds) > 0 {
			return fmt.Errorf("%w: cannot remove the service of application %s; start berth where Docker Swarm is reachable and retry",
				ErrNoSwarm, a.Name)
		}
	}
	return nil
}

// stopDeployments cancels the applications' queued and running
// deployments and waits until none runs any more.
func (s *Service) stopDeployments(ctx context.Context, apps []store.Application) error {
	if s.d.Deployments == nil {
		return nil
	}
	var running []store.Deployment
	for _, a := range apps {
		ds, _, err := s.d.Store.ListDeployments(ctx, a.ID, store.Page{Limit: 50})
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.Finished() {
				continue
			}
			if err := s.d.Deployments.Cancel(ctx, d); err != nil {
				var conflict *store.ConflictError
				if !errors.As(err, &conflict) { // a conflict means it just finished
					return fmt.Errorf("cancel deployment %s of application %s: %w", d.ID, a.Name, err)
				}
			}
			running = append(running, d)
		}
	}
	deadline := time.Now().Add(s.d.CancelWait)
	for _, d := range running {
		for {
			cur, err := s.d.Store.GetDeployment(ctx, d.ID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && cur.Finished()) {
				break
			}
			if err != nil {
				return err
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("deployment %s is still %s after it was cancelled; retry once it stopped", d.ID, cur.Status)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	return nil
}

// all reads every page of a list.
func all[T any](list func(store.Page) ([]T, bool, error), id func(T) uuid.UUID) ([]T, error) {
	var out []T
	page := store.Page{Limit: store.MaxPageSize}
	for {
		items, more, err := list(page)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if !more || len(items) == 0 {
			return out, nil
		}
		page.After = id(items[len(items)-1])
	}
}
