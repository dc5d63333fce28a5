package swarm

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// Remove deletes the service and its configs and waits until its tasks
// and their containers on this node are gone (so its networks and volumes
// can be removed next). Removing a missing service is not an error.
func (m *Manager) Remove(ctx context.Context, name string) error {
	svc, _, err := m.docker.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
	if isNotFound(err) {
		m.pruneConfigs(ctx, name, nil)
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove service %q: %w", name, err)
	}
	if err := m.docker.ServiceRemove(ctx, svc.ID); err != nil && !isNotFound(err) {
		return fmt.Errorf("remove service %q: %w", name, err)
	}
	if err := m.waitGone(ctx, svc.ID); err != nil {
		return fmt.Errorf("remove service %q: %w", name, err)
	}
	m.pruneConfigs(ctx, name, nil)
	m.log.InfoContext(ctx, "service removed", "service", name)
	return nil
}

// waitGone waits until Swarm has no task of the service and this node no
// container of it.
func (m *Manager) waitGone(ctx context.Context, serviceID string) error {
	tick := time.NewTicker(m.poll)
	defer tick.Stop()
	for {
		gone, err := m.gone(ctx, serviceID)
		if err != nil || gone {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for its tasks to stop: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func (m *Manager) gone(ctx context.Context, serviceID string) (bool, error) {
	// Tasks cannot be filtered by a removed service: list them all.
	tasks, err := m.docker.TaskList(ctx, swarm.TaskListOptions{})
	if err != nil {
		return false, fmt.Errorf("list tasks: %w", err)
	}
	for _, t := range tasks {
		if t.ServiceID == serviceID {
			return false, nil
		}
	}
	cs, err := m.docker.ContainerList(ctx, container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.id="+serviceID)),
	})
	if err != nil {
		return false, fmt.Errorf("list containers: %w", err)
	}
	return len(cs) == 0, nil
}
