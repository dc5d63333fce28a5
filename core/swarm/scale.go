package swarm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/filters"
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
//
// Scaling to a positive count also removes LabelStoppedReplicas: the
// service runs again.
func (m *Manager) Scale(ctx context.Context, name string, replicas uint64) (previous uint64, err error) {
	return m.scale(ctx, name, replicas, false)
}

// LabelStoppedReplicas is put on a service StopForCopy scaled to zero: the
// replicas to give it back. It is written in the same service update that
// scales to zero, so it is durable before any task stops.
const LabelStoppedReplicas = "dev.berth.stopped-replicas"

// StopForCopy scales service name to zero like Scale, recording its
// previous replica count on the service (LabelStoppedReplicas) in the same
// update, so that a berth killed while the service is stopped gives the
// replicas back at start-up (ResumeStopped). Scale it back with Scale.
func (m *Manager) StopForCopy(ctx context.Context, name string) (previous uint64, err error) {
	return m.scale(ctx, name, 0, true)
}

// ResumeStopped scales every service matching labels (e.g. one berth
// instance's) that carries LabelStoppedReplicas back to the recorded
// replicas, and returns their names. Call it at start-up, before anything
// may stop a service for a copy.
func (m *Manager) ResumeStopped(ctx context.Context, labels map[string]string) ([]string, error) {
	f := filters.NewArgs(filters.Arg("label", LabelStoppedReplicas))
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	services, err := m.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list stopped services: %w", err)
	}
	var names []string
	var errs []error
	for _, svc := range services {
		n, err := strconv.ParseUint(svc.Spec.Labels[LabelStoppedReplicas], 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("service %s: bad %s label: %w", svc.Spec.Name, LabelStoppedReplicas, err))
			continue
		}
		if _, err := m.Scale(ctx, svc.Spec.Name, n); err != nil {
			errs = append(errs, err)
			continue
		}
		m.log.WarnContext(ctx, "service stopped for a copy by a previous berth process scaled back", "service", svc.Spec.Name, "replicas", n)
		names = append(names, svc.Spec.Name)
	}
	return names, errors.Join(errs...)
}

func (m *Manager) scale(ctx context.Context, name string, replicas uint64, record bool) (previous uint64, err error) {
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
		_, marked := svc.Spec.Labels[LabelStoppedReplicas]
		mark := record && previous > 0
		if previous == replicas && !mark && !(marked && replicas > 0) {
			break
		}
		spec := svc.Spec
		n := replicas
		spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}
		spec.Labels = maps.Clone(spec.Labels)
		switch {
		case mark:
			if spec.Labels == nil {
				spec.Labels = map[string]string{}
			}
			spec.Labels[LabelStoppedReplicas] = strconv.FormatUint(previous, 10)
		case replicas > 0:
			delete(spec.Labels, LabelStoppedReplicas)
		}
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
