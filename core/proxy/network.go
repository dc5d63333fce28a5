package proxy

import (
	"context"
	"fmt"
	"strings"

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

// gatewayBridge is the bridge Docker attaches Swarm-network containers to
// for published ports and egress.
const gatewayBridge = "docker_gwbridge"

// APIAllowFrom returns the source ranges from which Traefik's API answers:
// the host's loopback and the gateway of docker_gwbridge, which is where
// connections to the loopback-published API port arrive from. Containers on
// the shared overlay network come from other addresses and are refused.
func (t *Traefik) APIAllowFrom(ctx context.Context) ([]string, error) {
	ranges := []string{"127.0.0.1/32"}
	nw, err := t.docker.NetworkInspect(ctx, gatewayBridge, network.InspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", gatewayBridge, err)
	}
	for _, c := range nw.IPAM.Config {
		if c.Gateway != "" && !strings.Contains(c.Gateway, ":") {
			ranges = append(ranges, c.Gateway+"/32")
		}
	}
	return ranges, nil
}
