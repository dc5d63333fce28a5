package proxy

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
)

// ensureNetwork creates the attachable overlay network unless it exists, and
// checks an existing one can carry Traefik's traffic.
func (t *Traefik) ensureNetwork(ctx context.Context) error {
	name := t.opts.Network
	for attempt := 0; ; attempt++ {
		nw, err := t.docker.NetworkInspect(ctx, name, network.InspectOptions{})
		if err == nil {
			if nw.Name != name {
				return fmt.Errorf("network %q: inspect returned network %q", name, nw.Name)
			}
			if nw.Driver != "overlay" || !nw.Attachable {
				return fmt.Errorf("network %q exists with driver %q attachable=%t; want an attachable overlay network", name, nw.Driver, nw.Attachable)
			}
			return nil
		}
		if !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("inspect network %q: %w", name, err)
		}
		_, err = t.docker.NetworkCreate(ctx, name, network.CreateOptions{
			Driver:     "overlay",
			Attachable: true,
			Labels:     t.labels(),
		})
		if err == nil {
			return nil
		}
		// Someone else created it meanwhile: inspect it once more.
		if !cerrdefs.IsConflict(err) || attempt > 0 {
			return fmt.Errorf("create network %q: %w", name, err)
		}
	}
}

// RemoveNetwork removes the overlay network. It fails while services or
// containers are still attached; a missing network is not an error.
func (t *Traefik) RemoveNetwork(ctx context.Context) error {
	if err := t.docker.NetworkRemove(ctx, t.opts.Network); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove network %q: %w", t.opts.Network, err)
	}
	return nil
}
