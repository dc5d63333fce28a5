package swarm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
)

// releaseTimeout bounds how long a network or volume removal waits for a
// container that just stopped to let go of it.
const releaseTimeout = 30 * time.Second

// ErrNotManaged is wrapped by removals refused because the object carries
// no berth label: berth never removes what it did not create.
var ErrNotManaged = errors.New("not managed by berth")

// RemoveNetwork removes the overlay network name that berth created,
// first removing every berth service still attached to it (with its
// configs, waiting until its tasks are gone). A missing network is not an
// error; a network without berth's label, or one a service berth does not
// manage still uses, is left alone and reported with an error wrapping
// ErrNotManaged.
func (m *Manager) RemoveNetwork(ctx context.Context, name string) error {
	n, err := m.docker.NetworkInspect(ctx, name, network.InspectOptions{})
	if isNotFound(err) || (err == nil && n.Name != name) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove network %q: %w", name, err)
	}
	if n.Labels[LabelManaged] != "true" {
		return fmt.Errorf("remove network %q: %w (no %s label); remove it yourself", name, ErrNotManaged, LabelManaged)
	}
	services, err := m.docker.ServiceList(ctx, swarm.ServiceListOptions{})
	if err != nil {
		return fmt.Errorf("remove network %q: list services: %w", name, err)
	}
	for _, s := range services {
		if !joins(s, n.ID, name) {
			continue
		}
		if s.Spec.Labels[LabelManaged] != "true" {
			return fmt.Errorf("remove network %q: service %q, %w, still uses it", name, s.Spec.Name, ErrNotManaged)
		}
		if err := m.Remove(ctx, s.Spec.Name); err != nil {
			return fmt.Errorf("remove network %q: %w", name, err)
		}
	}
	err = retryWhileInUse(ctx, func() error { return m.docker.NetworkRemove(ctx, n.ID) })
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("remove network %q: %w", name, err)
	}
	m.log.InfoContext(ctx, "network removed", "network", name)
	return nil
}

// joins reports whether service s joins the network with id or name.
func joins(s swarm.Service, id, name string) bool {
	nets := s.Spec.TaskTemplate.Networks
	if len(nets) == 0 {
		nets = s.Spec.Networks //nolint:staticcheck // older services keep them here
	}
	return slices.ContainsFunc(nets, func(a swarm.NetworkAttachmentConfig) bool {
		return a.Target == id || a.Target == name
	})
}

// RemoveVolumes removes every volume berth created that carries the label
// key=value (e.g. an application's id), waiting briefly for containers
// that just stopped to release them. It returns the names removed.
func (m *Manager) RemoveVolumes(ctx context.Context, key, value string) ([]string, error) {
	resp, err := m.docker.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", key+"="+value), filters.Arg("label", LabelManaged+"=true"))})
	if err != nil {
		return nil, fmt.Errorf("list volumes labelled %s=%s: %w", key, value, err)
	}
	var removed []string
	for _, v := range resp.Volumes {
		if err := RemoveVolume(ctx, m.docker, v.Name); err != nil {
			return removed, err
		}
		removed = append(removed, v.Name)
	}
	return removed, nil
}

// VolumeRemover removes Docker volumes; *client.Client implements it.
type VolumeRemover interface {
	VolumeRemove(ctx context.Context, volumeID string, force bool) error
}

// RemoveVolume removes the volume name, retrying for a while when it is
// still in use (a task's container may release it a moment after the task
// is reported gone). A missing volume is not an error.
func RemoveVolume(ctx context.Context, docker VolumeRemover, name string) error {
	err := retryWhileInUse(ctx, func() error { return docker.VolumeRemove(ctx, name, false) })
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

// retryWhileInUse calls remove until it succeeds, fails otherwise than
// with "in use", or releaseTimeout passes.
func retryWhileInUse(ctx context.Context, remove func() error) error {
	deadline := time.Now().Add(releaseTimeout)
	for {
		err := remove()
		if err == nil || !inUse(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// inUse reports whether a removal failed because something still uses
// the object (Docker answers 409 or 403 with such a message).
func inUse(err error) bool {
	if cerrdefs.IsConflict(err) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "in use") || strings.Contains(s, "active endpoints")
}
