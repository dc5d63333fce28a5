package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/deploy"
	"github.com/berth-dev/berth/core/deploylog"
	"github.com/berth-dev/berth/core/notify"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/readiness"
	"github.com/berth-dev/berth/core/release"
	"github.com/berth-dev/berth/core/schedule"
	"github.com/berth-dev/berth/core/swarm"
	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/sdk"
)

// pluginSource adapts the plugin host to the pipeline's Plugins.
type pluginSource struct{ host *plugins.Host }

func (p pluginSource) GitProvider(ctx context.Context, id string) (sdk.GitProvider, error) {
	return p.host.GitProvider(ctx, id)
}

func (p pluginSource) Builder(ctx context.Context, id string) (sdk.Builder, error) {
	return p.host.Builder(ctx, id)
}

// dockerImages adapts the Docker client to the pipeline's Images.
type dockerImages struct{ docker *client.Client }

func (d dockerImages) ImageExists(ctx context.Context, ref string) (bool, error) {
	_, err := d.docker.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (d dockerImages) RemoveImage(ctx context.Context, ref string) error {
	_, err := d.docker.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
	return err
}

// deployments is what the front doors call: the enqueue side (deploy,
// rollback, cancel) and the worker side's removal of services and images.
type deployments struct {
	*deploy.Enqueuer
	*deploy.Pipeline
}

// startDeployments wires the enqueue side (an insert-only job client), the
// pipeline and the durable queue that works its jobs, settles deployments
// a previous process left running, and starts working jobs. Everything
// that inserts jobs is built on the insert-only client before the workers
// and the queue, so nothing is connected afterwards.
func (s *Server) startDeployments(ctx, runCtx context.Context) error {
	if err := queue.Migrate(ctx, s.store.Pool()); err != nil {
		return err
	}
	jobs, err := queue.NewJobs(s.store.Pool())
	if err != nil {
		return err
	}
	s.hub = deploylog.NewHub(s.store, s.log.With("component", "deploylog"))
	s.events = notify.NewDispatcher(s.store, jobs, s.log.With("component", "notify"))
	mgr := swarm.NewManager(s.docker, s.log.With("component", "swarm"))
	var releaser deploy.Releaser
	if s.syncer != nil && s.traefik != nil {
		releaser = release.New(mgr, s.syncer, readiness.NewChecker(s.traefik.APIURL()), s.cfg.Name+"-proxy",
			s.log.With("component", "release"))
	}
	s.pipeline = deploy.New(deploy.Deps{
		Store: s.store, Hub: s.hub, Plugins: pluginSource{s.plugins},
		Rollout: mgr, Jobs: jobs, Releaser: releaser,
		Images: dockerImages{s.docker}, Routes: s.syncer, Events: s.events, Outbound: s.outbound,
		Logger: s.log.With("component", "deploy"),
	}, deploy.Config{
		Instance: s.cfg.Name, ProxyNetwork: s.cfg.Name + "-proxy", WorkDir: filepath.Join(s.cfg.DataDir, "builds"),
		DockerHost: s.docker.DaemonHost(), PublicURL: s.cfg.PublicURL,
	})
	s.deployments = deployments{deploy.NewEnqueuer(s.store, jobs, s.log.With("component", "deploy")), s.pipeline}
	workers := river.NewWorkers()
	river.AddWorker(workers, &deploy.Worker{Pipeline: s.pipeline, JobTimeout: time.Hour})
	np := notifierPlugins{s.plugins}
	river.AddWorker(workers, &notify.Worker{Channels: s.store, Plugins: np, Outbound: channelAddresses(np, s.outbound),
		Logger: s.log.With("component", "notify")})
	s.databases = s.backupWorkers(workers, mgr, jobs)
	q, err := queue.New(s.store.Pool(), workers, queue.Options{DeployWorkers: s.cfg.DeployConcurrency,
		JobTimeout: time.Hour, Logger: s.log.With("component", "queue")})
	if err != nil {
		return err
	}
	s.queue = q
	// Settle what a killed process left before any job runs.
	if err := s.pipeline.Recover(ctx); err != nil {
		return fmt.Errorf("recover deployments: %w", err)
	}
	if err := s.databases.runner.Recover(ctx, q, map[string]string{deploy.LabelInstance: s.cfg.Name}); err != nil {
		s.log.Error("recovering interrupted backups failed", "err", err)
	}
	// Restores a killed process left running are failed now (their jobs
	// then find them not queued); their clean-up runs in the background.
	if _, err := s.databases.restores.Recover(runCtx); err != nil {
		return err
	}
	// Deliveries a killed process was sending are sent again (each
	// carries its event id, so receivers can drop a duplicate).
	if n, err := queue.RequeueRunning(ctx, s.store.Pool(), queue.Notify); err != nil {
		return err
	} else if n > 0 {
		s.log.Info("notifications interrupted by a stop are sent again", "deliveries", n)
	}
	if err := q.Start(runCtx); err != nil {
		return err
	}
	go schedule.New(s.store, q, s.events, s.log.With("component", "schedule")).Run(runCtx)
	return nil
}
