package swarm

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
)

// EnsureNetwork creates the attachable overlay network name with labels
// (plus berth's) unless it exists. An existing network of that name that is
// not an attachable Swarm overlay is an error.
func (m *Manager) EnsureNetwork(ctx context.Context, name string, labels map[string]string) error {
	if err := m.checkNetwork(ctx, name); err == nil || !isNotFound(err) {
		return err
	}
	all := map[string]string{LabelManaged: "true"}
	for k, v := range labels {
		all[k] = v
	}
	_, err := m.docker.NetworkCreate(ctx, name, network.CreateOptions{
		Driver:     "overlay",
		Scope:      "swarm",
		Attachable: true,
		Labels:     all,
	})
	if err != nil && isAlreadyExists(err) {
		return m.checkNetwork(ctx, name)
	}
	if err != nil {
		return fmt.Errorf("create network %q: %w", name, err)
	}
	m.log.InfoContext(ctx, "network created", "network", name)
	return nil
}

// checkNetwork returns nil when name is an attachable overlay network, an
// error satisfying isNotFound when it does not exist.
func (m *Manager) checkNetwork(ctx context.Context, name string) error {
	n, err := m.docker.NetworkInspect(ctx, name, network.InspectOptions{})
	// Right after a create, Engine 20.10 can answer for a swarm network
	// before its driver is filled in: ask again briefly.
	for i := 0; err == nil && n.Driver == "" && i < 20; i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		n, err = m.docker.NetworkInspect(ctx, name, network.InspectOptions{})
	}
	if err != nil {
		if isNotFound(err) {
			return err
		}
		return fmt.Errorf("inspect network %q: %w", name, err)
	}
	if n.Name != name {
		return fmt.Errorf("network %q not found (%q matched instead): %w", name, n.Name, errdefs.ErrNotFound)
	}
	if n.Driver != "overlay" || !n.Attachable {
		return fmt.Errorf("network %q exists but is not an attachable overlay network (driver %q, attachable %t)", name, n.Driver, n.Attachable)
	}
	return nil
}
