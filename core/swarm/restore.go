package swarm

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// serving is what a service runs after a restore.
type serving struct {
	image    string
	replicas uint64
}

// restore brings back what ran before the rollout: the previous spec for an
// update (Swarm's own rollback, requested when Swarm did not start one), zero
// replicas for a service the rollout created. It waits until that runs and
// returns what was done.
func (m *Manager) restore(ctx context.Context, ro *rollout, tr *tracker) (string, serving, error) {
	if ro.action == ActionCreate {
		state, err := m.scaleToZero(ctx, ro, tr)
		return "scaled to 0 replicas", state, err
	}
	state, err := m.rollBack(ctx, ro, tr)
	return "rolled back to the previous version", state, err
}

// rollBack makes sure Swarm rolls the service back and waits for the
// rollback to complete with every previous replica running.
func (m *Manager) rollBack(ctx context.Context, ro *rollout, tr *tracker) (serving, error) {
	for attempt := 1; ; attempt++ {
		svc, _, err := m.docker.ServiceInspectWithRaw(ctx, ro.serviceID, swarm.ServiceInspectOptions{})
		if err != nil {
			return serving{}, fmt.Errorf("inspect: %w", err)
		}
		if rollingBack(svc.UpdateStatus) {
			break
		}
		if svc.PreviousSpec == nil {
			return servingOf(svc), fmt.Errorf("no previous spec to roll back to")
		}
		_, err = m.docker.ServiceUpdate(ctx, svc.ID, svc.Version, svc.Spec, rollbackOptions())
		if err == nil {
			tr.emit("rollback to the previous version requested")
			break
		}
		if !isVersionConflict(err) || attempt == maxApplyAttempts {
			return servingOf(svc), fmt.Errorf("request rollback: %w", err)
		}
	}
	return m.waitFor(ctx, ro, tr, func(svc swarm.Service, tasks []swarm.Task) (bool, error) {
		us := svc.UpdateStatus
		if us != nil && us.State == swarm.UpdateStateRollbackPaused {
			return false, fmt.Errorf("rollback paused: %s", us.Message)
		}
		done := us != nil && us.State == swarm.UpdateStateRollbackCompleted
		return done && runningOf(svc, tasks) == replicasOf(svc), nil
	})
}

// scaleToZero stops a service that never worked and waits until none of
// its tasks runs.
func (m *Manager) scaleToZero(ctx context.Context, ro *rollout, tr *tracker) (serving, error) {
	for attempt := 1; ; attempt++ {
		svc, _, err := m.docker.ServiceInspectWithRaw(ctx, ro.serviceID, swarm.ServiceInspectOptions{})
		if err != nil {
			return serving{}, fmt.Errorf("inspect: %w", err)
		}
		spec := svc.Spec
		zero := uint64(0)
		spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}}
		_, err = m.docker.ServiceUpdate(ctx, svc.ID, svc.Version, spec, updateOptions())
		if err == nil {
			tr.emit("scaled to 0 replicas so the failing version does not restart forever")
			break
		}
		if !isVersionConflict(err) || attempt == maxApplyAttempts {
			return servingOf(svc), fmt.Errorf("scale to 0: %w", err)
		}
	}
	return m.waitFor(ctx, ro, tr, func(svc swarm.Service, tasks []swarm.Task) (bool, error) {
		for i := range tasks {
			t := &tasks[i]
			if wanted(t) || t.Status.State == swarm.TaskStateRunning || t.Status.State == swarm.TaskStateStarting {
				return false, nil
			}
		}
		return true, nil
	})
}

// waitFor polls the service until done says so, reporting progress.
func (m *Manager) waitFor(ctx context.Context, ro *rollout, tr *tracker, done func(swarm.Service, []swarm.Task) (bool, error)) (serving, error) {
	tick := time.NewTicker(m.poll)
	defer tick.Stop()
	for {
		svc, _, err := m.docker.ServiceInspectWithRaw(ctx, ro.serviceID, swarm.ServiceInspectOptions{})
		if err != nil {
			return serving{}, fmt.Errorf("inspect: %w", err)
		}
		tasks, err := m.tasks(ctx, ro.serviceID)
		if err != nil {
			return servingOf(svc), err
		}
		tr.observe(svc, tasks)
		ok, err := done(svc, tasks)
		if ok || err != nil {
			return servingOf(svc), err
		}
		select {
		case <-ctx.Done():
			return servingOf(svc), fmt.Errorf("waiting: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// rollingBack reports whether Swarm is rolling back or has rolled back.
func rollingBack(us *swarm.UpdateStatus) bool {
	return us != nil && (us.State == swarm.UpdateStateRollbackStarted ||
		us.State == swarm.UpdateStateRollbackCompleted || us.State == swarm.UpdateStateRollbackPaused)
}

func servingOf(svc swarm.Service) serving {
	s := serving{replicas: replicasOf(svc)}
	if cs := svc.Spec.TaskTemplate.ContainerSpec; cs != nil {
		s.image = cs.Image
	}
	return s
}

func replicasOf(svc swarm.Service) uint64 {
	if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		return *r.Replicas
	}
	return 0
}

// runningOf counts the running tasks of the service's current spec.
func runningOf(svc swarm.Service, tasks []swarm.Task) uint64 {
	var hash string
	if cs := svc.Spec.TaskTemplate.ContainerSpec; cs != nil {
		hash = cs.Labels[LabelSpecHash]
	}
	var n uint64
	for i := range tasks {
		t := &tasks[i]
		if t.DesiredState == swarm.TaskStateRunning && t.Status.State == swarm.TaskStateRunning && taskHash(t) == hash {
			n++
		}
	}
	return n
}
