package app

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/berth-dev/berth/core/config"
	"github.com/berth-dev/berth/core/dbservice"
	coreswarm "github.com/berth-dev/berth/core/swarm"
	"github.com/berth-dev/berth/core/teardown"
)

// newDockerClient returns a client for the configured engine; it does not
// connect yet.
func newDockerClient(cfg config.Config) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if cfg.DockerHost != "" {
		opts = append(opts, client.WithHost(cfg.DockerHost))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return c, nil
}

// swarmManager reports whether the engine is reachable and a Swarm manager
// (the node berth creates services on).
func swarmManager(ctx context.Context, docker *client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	info, err := docker.Info(ctx)
	if err != nil {
		return fmt.Errorf("docker engine: %w", err)
	}
	if info.Swarm.LocalNodeState != swarm.LocalNodeStateActive || !info.Swarm.ControlAvailable {
		return fmt.Errorf("this engine is not a Swarm manager (swarm state %q)", info.Swarm.LocalNodeState)
	}
	return nil
}

// newTeardown builds the service that deletes projects and environments
// with their Swarm objects. It removes them whenever Docker Swarm is
// reachable, whether or not berth manages the proxy (BERTH_DISABLE_PROXY);
// without Swarm it refuses to delete what may still run there.
func (s *Server) newTeardown(ctx context.Context) *teardown.Service {
	deps := teardown.Deps{Store: s.store, Instance: s.cfg.Name, Logger: s.log.With("component", "teardown")}
	if s.pipeline != nil {
		deps.Deployments = s.deployments
	}
	if err := swarmManager(ctx, s.docker); err != nil {
		s.log.Warn("Docker Swarm is not available: projects and environments that ran services cannot be deleted until it is",
			"err", err)
		return teardown.New(deps)
	}
	mgr := coreswarm.NewManager(s.docker, s.log.With("component", "swarm"))
	deps.Swarm = mgr
	deps.Databases = dbservice.New(mgr, s.docker, s.cfg.Name)
	return teardown.New(deps)
}
