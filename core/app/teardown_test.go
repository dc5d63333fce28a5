package app

import (
	"log/slog"
	"testing"

	"github.com/berth-dev/berth/core/config"
	"github.com/berth-dev/berth/test/dockertest"
)

// TestTeardownUsesSwarmWithoutProxy checks that BERTH_DISABLE_PROXY does
// not turn Swarm teardown off: deleting projects must still remove their
// services and networks when Docker Swarm is there.
func TestTeardownUsesSwarmWithoutProxy(t *testing.T) {
	dockertest.Client(t) // fails loudly without Docker Swarm
	cfg := config.Config{Name: "berth", DisableProxy: true}
	docker, err := newDockerClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { docker.Close() })
	s := &Server{cfg: cfg, log: slog.New(slog.DiscardHandler), docker: docker}
	if td := s.newTeardown(t.Context()); !td.UsesSwarm() {
		t.Fatal("with the proxy disabled the teardown does not use Docker Swarm")
	}

	// An unreachable engine gives a teardown that refuses rather than
	// silently skipping.
	cfg.DockerHost = "unix:///nonexistent/docker.sock"
	unreachable, err := newDockerClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unreachable.Close() })
	s = &Server{cfg: cfg, log: slog.New(slog.DiscardHandler), docker: unreachable}
	if td := s.newTeardown(t.Context()); td.UsesSwarm() {
		t.Fatal("a teardown without a reachable engine claims to use Swarm")
	}
}
