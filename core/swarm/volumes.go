package swarm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
)

// ErrNoService is returned when the service to switch or inspect does not
// exist.
var ErrNoService = errors.New("service does not exist")

// SwitchVolumes switches the named volume mounts of a service from one
// Docker volume to another (swap: current volume -> new volume) in ONE
// service update, rolled out like a deploy (the service's update config:
// start-first for berth's applications, health-gated, Swarm's monitoring
// window), and waits until every replica runs with the new volumes. When
// the new tasks fail, or ctx ends first, the service is rolled back to its
// previous spec (the previous volumes) and an error is returned; after a
// Docker error the service is left as it is (MountedVolumes tells which
// volumes it mounts). Mounts not named in swap stay as they are; a service
// already mounting the new volumes is left alone.
func (m *Manager) SwitchVolumes(ctx context.Context, service string, swap map[string]string, progress func(string)) error {
	if progress == nil {
		progress = func(string) {}
	}
	start := time.Now()
	svc, _, err := m.docker.ServiceInspectWithRaw(ctx, service, swarm.ServiceInspectOptions{})
	if isNotFound(err) {
		return fmt.Errorf("switch volumes of %q: %w", service, ErrNoService)
	}
	if err != nil {
		return fmt.Errorf("switch volumes of %q: inspect: %w", service, err)
	}
	desired, changed := withVolumes(svc.Spec, swap)
	if !changed {
		return nil
	}
	if desired.Mode.Replicated == nil || desired.Mode.Replicated.Replicas == nil || desired.UpdateConfig == nil {
		return fmt.Errorf("switch volumes of %q: not a replicated service with an update config", service)
	}
	ro, err := m.apply(ctx, desired)
	if err != nil {
		return fmt.Errorf("switch volumes of %q: %w", service, err)
	}
	ro.started = start
	ro.healthChecked = desired.TaskTemplate.ContainerSpec.Healthcheck != nil
	tr := newTracker(progress, ro)
	progress(fmt.Sprintf("switching service %s to the restored volume(s), %d replica(s)", service, ro.replicas))
	_, waitErr := m.await(ctx, ro, tr)
	if waitErr == nil {
		m.pruneUnused(ctx, ro)
		progress(fmt.Sprintf("switched in %s", time.Since(start).Round(100*time.Millisecond)))
		return nil
	}
	_, err = m.recoverFrom(ctx, ro, tr, Result{}, waitErr)
	return fmt.Errorf("switch volumes: %w", err)
}

// withVolumes returns spec with the volume mounts' sources swapped and the
// task template's hash label recomputed, and whether anything changed. The
// spec's maps and slices are copied, never modified.
func withVolumes(spec swarm.ServiceSpec, swap map[string]string) (swarm.ServiceSpec, bool) {
	if spec.TaskTemplate.ContainerSpec == nil {
		return spec, false
	}
	cs := *spec.TaskTemplate.ContainerSpec
	cs.Mounts = slices.Clone(cs.Mounts)
	changed := false
	for i, mt := range cs.Mounts {
		if mt.Type != mount.TypeVolume {
			continue
		}
		if to, ok := swap[mt.Source]; ok && to != mt.Source {
			cs.Mounts[i].Source = to
			changed = true
		}
	}
	if !changed {
		return spec, false
	}
	cs.Labels = maps.Clone(cs.Labels)
	if cs.Labels == nil {
		cs.Labels = map[string]string{}
	}
	delete(cs.Labels, LabelSpecHash)
	spec.TaskTemplate.ContainerSpec = &cs
	cs.Labels[LabelSpecHash] = specHash(spec.TaskTemplate)
	return spec, true
}

// MountedVolumes returns the named volumes the service's spec mounts, once
// no update or rollback of it is in progress any more (or ctx ends: then
// the spec as it is). A missing service is ErrNoService.
func (m *Manager) MountedVolumes(ctx context.Context, service string) ([]string, error) {
	for {
		svc, _, err := m.docker.ServiceInspectWithRaw(ctx, service, swarm.ServiceInspectOptions{})
		if isNotFound(err) {
			return nil, fmt.Errorf("volumes of %q: %w", service, ErrNoService)
		}
		if err != nil {
			return nil, fmt.Errorf("volumes of %q: inspect: %w", service, err)
		}
		us := svc.UpdateStatus
		moving := us != nil && (us.State == swarm.UpdateStateUpdating || us.State == swarm.UpdateStateRollbackStarted)
		if !moving || ctx.Err() != nil {
			var out []string
			if cs := svc.Spec.TaskTemplate.ContainerSpec; cs != nil {
				for _, mt := range cs.Mounts {
					if mt.Type == mount.TypeVolume {
						out = append(out, mt.Source)
					}
				}
			}
			return out, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(m.poll * 5):
		}
	}
}

// ManagedVolumes lists the names of the volumes berth created (labelled
// LabelManaged) that carry the label key=value.
func (m *Manager) ManagedVolumes(ctx context.Context, key, value string) ([]string, error) {
	resp, err := m.docker.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", key+"="+value), filters.Arg("label", LabelManaged+"=true"))})
	if err != nil {
		return nil, fmt.Errorf("list volumes labelled %s=%s: %w", key, value, err)
	}
	out := make([]string, 0, len(resp.Volumes))
	for _, v := range resp.Volumes {
		out = append(out, v.Name)
	}
	slices.Sort(out)
	return out, nil
}

// RemoveVolume removes the volume name as the package's RemoveVolume does.
func (m *Manager) RemoveVolume(ctx context.Context, name string) error {
	return RemoveVolume(ctx, m.docker, name)
}
