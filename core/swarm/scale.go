package swarm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// ErrNotReplicated is returned (wrapped) by Scale for a service that is
// not in replicated mode (a global service cannot be scaled).
var ErrNotReplicated = errors.New("service is not replicated")

// Scale sets the replicas of service name, keeping the rest of its spec
// (no new version is rolled out), and waits until exactly that many of
// its tasks run and no other task of it is running or starting: after
// Scale(ctx, name, 0) no container of the service runs. It returns the
// replicas the service had before, so a caller can scale it back.
// Scaling a missing service wraps ErrNotFound.
func (m *Manager) Scale(ctx context.Context, name string, replicas uint64) (previous uint64, err error) {
	var svc swarm.Service
	for attempt := 1; ; attempt++ {
		svc, _, err = m.docker.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
		if isNotFound(err) {
			return 0, fmt.Errorf("scale %q: %w", name, ErrNotFound)
		}
		if err != nil {
			return 0, fmt.Errorf("scale %q: inspect: %w", name, err)
		}
		if svc.Spec.Mode.Replicated == nil {
			return 0, fmt.Errorf("scale %q: %w", name, ErrNotReplicated)
		}
		previous = replicasOf(svc)
		if previous == replicas {
			break
		}
		spec := svc.Spec
		n := replicas
		spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}
		_, err = m.docker.ServiceUpdate(ctx, svc.ID, svc.Version, spec, updateOptions())
		if err == nil {
			break
		}
		if !isVersionConflict(err) || attempt == maxApplyAttempts {
			return previous, fmt.Errorf("scale %q to %d: %w", name, replicas, err)
		}
	}
	if err := m.waitScaled(ctx, svc.ID, replicas); err != nil {
		return previous, fmt.Errorf("scale %q to %d: %w", name, replicas, err)
	}
	m.log.InfoContext(ctx, "service scaled", "service", name, "from", previous, "to", replicas)
	return previous, nil
}

// waitScaled polls the service's tasks until replicas of them run and
// no unwanted one is still running or starting.
func (m *Manager) waitScaled(ctx context.Context, serviceID string, replicas uint64) error {
	tick := time.NewTicker(m.poll)
	defer tick.Stop()
	var running, stopping uint64
	var lastErr string
	for {
		tasks, err := m.tasks(ctx, serviceID)
		if err != nil {
			return err
		}
		running, stopping = 0, 0
		for i := range tasks {
			t := &tasks[i]
			active := t.Status.State == swarm.TaskStateRunning || t.Status.State == swarm.TaskStateStarting
			switch {
			case t.DesiredState == swarm.TaskStateRunning && t.Status.State == swarm.TaskStateRunning:
				running++
			case !wanted(t) && active:
				stopping++
			case wanted(t) && failedState(t.Status.State):
				lastErr = taskError(t)
			}
		}
		if running == replicas && stopping == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("%d task(s) running, %d still stopping", running, stopping)
			if lastErr != "" {
				msg += ", last task error: " + lastErr
			}
			return fmt.Errorf("waiting (%s): %w", msg, ctx.Err())
		case <-tick.C:
		}
	}
}
