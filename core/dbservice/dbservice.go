// Package dbservice runs managed databases as Swarm services: one replica
// with a named volume at the engine's data directory, on its environment's
// network under its service name, stop-first updates with a grace period,
// an optional host-mode published port and resource limits. Stopping scales
// to zero and keeps service and volume; deleting keeps the volume unless
// asked.
package dbservice

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/deploy"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// LabelDatabaseID marks a database's service and volume with its id.
const LabelDatabaseID = "dev.berth.database-id"

// StopGracePeriod is how long a database has to shut down cleanly before
// it is killed.
const StopGracePeriod = 30 * time.Second

// Orchestrator is the part of swarm.Manager the service uses.
type Orchestrator interface {
	EnsureNetwork(ctx context.Context, name string, labels map[string]string) error
	Deploy(ctx context.Context, spec swarm.ServiceSpec, progress func(line string)) (swarm.Result, error)
	Remove(ctx context.Context, name string) error
	// Scale sets a service's replicas and waits until its tasks reached
	// the count.
	Scale(ctx context.Context, name string, replicas uint64) (previous uint64, err error)
}

// VolumeRemover removes Docker volumes; *client.Client implements it.
type VolumeRemover interface {
	VolumeRemove(ctx context.Context, volumeID string, force bool) error
}

// Service deploys, starts, stops and deletes database services.
type Service struct {
	swarm    Orchestrator
	volumes  VolumeRemover
	instance string
}

// New returns a Service; instance is berth's instance name (it prefixes
// network names).
func New(sw Orchestrator, volumes VolumeRemover, instance string) *Service {
	return &Service{swarm: sw, volumes: volumes, instance: instance}
}

// Network is the overlay network the database joins.
func (s *Service) Network(db store.Database) string {
	return deploy.EnvironmentNetworkOf(s.instance, db.EnvironmentID)
}

// Spec is the Swarm service of db with the given replicas (0 or 1).
func Spec(network string, db store.Database, replicas uint64) (swarm.ServiceSpec, error) {
	eng, ok := database.Lookup(db.Engine)
	if !ok {
		return swarm.ServiceSpec{}, fmt.Errorf("database %s: unknown engine %q", db.Name, db.Engine)
	}
	spec := swarm.ServiceSpec{
		Name:     db.ServiceName,
		Image:    eng.ImageRef(db.Image, db.Version),
		Args:     eng.Args(db.Credentials),
		Env:      eng.Env(db.Credentials),
		Replicas: replicas,
		Resources: swarm.Resources{
			CPULimit:    db.CPULimit,
			MemoryLimit: int64(db.MemoryLimitMB) << 20,
		},
		Mounts:        []swarm.Mount{{Type: swarm.MountVolume, Source: db.VolumeName, Target: eng.DataPath}},
		RestartPolicy: swarm.RestartPolicy{Condition: swarm.RestartAny, Delay: 2 * time.Second},
		HealthCheck: &swarm.HealthCheck{Test: eng.HealthCheck(db.Credentials), Interval: 2 * time.Second,
			Timeout: 5 * time.Second, StartPeriod: 2 * time.Minute, Retries: 5},
		Labels: map[string]string{
			LabelDatabaseID:         db.ID.String(),
			"dev.berth.engine":      string(db.Engine),
			"dev.berth.environment": db.EnvironmentID.String(),
		},
		Networks:        []string{network},
		StopGracePeriod: StopGracePeriod,
		UpdateOrder:     swarm.UpdateStopFirst,
	}
	for _, f := range eng.Files(db.Credentials) {
		spec.Files = append(spec.Files, swarm.File{Target: f.Path, Data: f.Data})
	}
	if db.ExternalPort > 0 {
		spec.Ports = []swarm.Port{{Target: uint16(eng.Port), Published: uint16(db.ExternalPort),
			Protocol: swarm.TCP, Mode: swarm.PublishHost}}
	}
	return spec, nil
}

// Deploy creates or updates db's service with its desired state: one
// replica when running, none when stopped. It returns once the service
// converged (healthy when running).
func (s *Service) Deploy(ctx context.Context, db store.Database, progress func(string)) error {
	replicas := uint64(1)
	if db.DesiredState == store.DatabaseStopped {
		replicas = 0
	}
	return s.deploy(ctx, db, replicas, progress)
}

// Start runs db's service (one replica) and waits until it is healthy,
// whatever its desired state says (the backup runner restores into stopped
// databases this way).
func (s *Service) Start(ctx context.Context, db store.Database, progress func(string)) error {
	return s.deploy(ctx, db, 1, progress)
}

// Stop scales db's service to zero, keeping service and volume.
func (s *Service) Stop(ctx context.Context, db store.Database, progress func(string)) error {
	return s.deploy(ctx, db, 0, progress)
}

func (s *Service) deploy(ctx context.Context, db store.Database, replicas uint64, progress func(string)) error {
	network := s.Network(db)
	if err := s.swarm.EnsureNetwork(ctx, network, map[string]string{"dev.berth.environment": db.EnvironmentID.String()}); err != nil {
		return fmt.Errorf("database %s: %w", db.Name, err)
	}
	spec, err := Spec(network, db, replicas)
	if err != nil {
		return err
	}
	if s.instance != "" {
		// Like applications' services, so whatever cleans up after an
		// instance (tests, an operator) finds the database too.
		spec.Labels[deploy.LabelInstance] = s.instance
	}
	if _, err := s.swarm.Deploy(ctx, spec, progress); err != nil {
		return fmt.Errorf("database %s: %w", db.Name, err)
	}
	if replicas == 0 {
		// Stopped means stopped: wait until no container of it runs, so the
		// data files are closed when this returns.
		if _, err := s.swarm.Scale(ctx, db.ServiceName, 0); err != nil {
			return fmt.Errorf("database %s: wait until stopped: %w", db.Name, err)
		}
	}
	return nil
}

// Delete removes db's service and waits until its tasks are gone. The
// volume, and with it the data, stays unless deleteVolume is set.
func (s *Service) Delete(ctx context.Context, db store.Database, deleteVolume bool) error {
	if err := s.swarm.Remove(ctx, db.ServiceName); err != nil {
		return fmt.Errorf("database %s: %w", db.Name, err)
	}
	if !deleteVolume {
		return nil
	}
	if err := swarm.RemoveVolume(ctx, s.volumes, db.VolumeName); err != nil {
		return fmt.Errorf("database %s: %w", db.Name, err)
	}
	return nil
}

// Host is the hostname applications on the environment's network reach db
// by, and the port it listens on there.
func Host(db store.Database) (string, int) {
	eng, _ := database.Lookup(db.Engine)
	return db.ServiceName, eng.Port
}

// URL is db's internal connection URL.
func URL(db store.Database) string {
	eng, ok := database.Lookup(db.Engine)
	if !ok {
		return ""
	}
	host, port := Host(db)
	return eng.URL(db.Credentials, host, port)
}
