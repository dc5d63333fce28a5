package app

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/backup"
	"github.com/berth-dev/berth/core/dbservice"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/restore"
	"github.com/berth-dev/berth/core/schedule"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
	"github.com/berth-dev/berth/sdk"
)

// databaseOps implements service.DataOps with the database services, the
// backup runner and the backup queue.
type databaseOps struct {
	store   *store.Store
	svc     *dbservice.Service
	runner  *backup.Runner
	targets backup.Targets
	queue   *queue.Jobs
	// restores records, cancels and settles restores.
	restores *restore.Service
}

func (d *databaseOps) Deploy(ctx context.Context, db store.Database) error {
	return d.svc.Deploy(ctx, db, nil)
}

func (d *databaseOps) Delete(ctx context.Context, db store.Database, deleteVolume bool) error {
	return d.svc.Delete(ctx, db, deleteVolume)
}

func (d *databaseOps) TestDestination(ctx context.Context, dest store.BackupDestination) (string, error) {
	t, err := d.targets.Target(ctx, dest)
	if err != nil {
		return "", err
	}
	resp, err := t.TestConnection(ctx, &sdk.TestConnectionRequest{})
	if err != nil {
		return "", err
	}
	return resp.Message, nil
}

func (d *databaseOps) ListObjects(ctx context.Context, dest store.BackupDestination, prefix string) ([]service.BackupObject, error) {
	t, err := d.targets.Target(ctx, dest)
	if err != nil {
		return nil, err
	}
	objs, err := backup.ListObjects(ctx, t, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]service.BackupObject, 0, len(objs))
	for _, o := range objs {
		out = append(out, service.BackupObject{Key: o.Key, SizeBytes: o.Size, Modified: o.Modified, Metadata: o.Metadata})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (d *databaseOps) StartRestore(ctx context.Context, in store.NewRestore) (store.Restore, error) {
	return d.restores.Create(ctx, in)
}

func (d *databaseOps) CancelRestore(ctx context.Context, r store.Restore) (store.Restore, error) {
	r, err := d.restores.Cancel(ctx, r)
	if errors.Is(err, restore.ErrNotCancellable) {
		return r, fmt.Errorf("%w: %w", service.ErrRestoreEnded, err)
	}
	return r, err
}

// backupWorkers builds the database services and backup runner and adds
// the backup worker; call before the queue is created.
func (s *Server) backupWorkers(workers *river.Workers, mgr *swarm.Manager, jobs *queue.Jobs) *databaseOps {
	targets := backup.CheckedTargets{Targets: backup.HostTargets{Host: s.plugins}, Check: s.recheckDestination}
	svc := dbservice.New(mgr, s.docker, s.cfg.Name)
	runner := backup.New(backup.Deps{Store: s.store, Docker: s.docker, Targets: targets, Services: svc, Scaler: mgr, Switcher: mgr, Events: s.events,
		Logger: s.log.With("component", "backup")})
	river.AddWorker(workers, &schedule.Worker{Store: s.store, Runner: runner})
	river.AddWorker(workers, &restore.Worker{Store: s.store, Runner: runner, Events: s.events, Logger: s.log.With("component", "restore")})
	return &databaseOps{store: s.store, svc: svc, runner: runner, targets: targets, queue: jobs,
		restores: &restore.Service{Store: s.store, Runner: runner, Queue: jobs, Logger: s.log.With("component", "restore")}}
}

// dataDeps are the service layer's database services and backup queue:
// none on a server without Docker (their actions answer 503).
func (s *Server) dataDeps() service.DataDeps {
	if s.databases == nil {
		return service.DataDeps{}
	}
	deps := service.DataDeps{Ops: s.databases}
	if s.databases.queue != nil {
		deps.Jobs = s.databases.queue
	}
	return deps
}
