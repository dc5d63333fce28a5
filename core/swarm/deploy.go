package swarm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
)

// maxApplyAttempts bounds retries of a create or update that lost a race
// with another writer.
const maxApplyAttempts = 5

// Action says what a Deploy did to the service.
type Action string

// Actions.
const (
	// ActionCreate: the service did not exist and was created.
	ActionCreate Action = "create"
	// ActionUpdate: the service was updated to the new spec.
	ActionUpdate Action = "update"
	// ActionRollback: the update failed or was cancelled and the service
	// is back on its previous spec.
	ActionRollback Action = "rollback"
)

// Result describes a Deploy.
type Result struct {
	ServiceID string
	// Image and Replicas are what the service runs now (the previous ones
	// after a rollback).
	Image    string
	Replicas uint64
	Action   Action
	// Ready is how long it took until every replica of the new spec was
	// running, and healthy when it has a health check.
	Ready time.Duration
	// Duration is the whole deploy, including Swarm's monitoring window
	// (or the rollback).
	Duration time.Duration
}

// RolloutError says why the new tasks of a Deploy failed and what berth did
// about it.
type RolloutError struct {
	// Reason is for humans: "health check failed: ...", "process exited
	// with exit code 3; last output: ...".
	Reason string
	// Restored is what was done: "rolled back to the previous version" or
	// "scaled to 0 replicas".
	Restored string
}

// Error implements error.
func (e *RolloutError) Error() string {
	return e.Reason + " (" + e.Restored + ")"
}

// Deploy makes the service named spec.Name run spec: it creates the
// service, or updates it start-first (stop-first when spec asks), and waits
// until every replica of the new spec runs (and is healthy when there is a
// health check) and Swarm has finished monitoring them, sending progress
// lines to progress (which may be nil).
//
// When new tasks fail, Deploy makes sure the service is rolled back to its
// previous spec, waits for the previous version to run again and returns a
// *RolloutError (wrapped) saying why. A service this Deploy created has no
// previous version: it is scaled to 0 replicas, so it does not crash-loop,
// and kept so its tasks can be inspected; the next Deploy updates it. When
// ctx ends first, the service is restored the same way and ctx.Err() is
// returned wrapped.
func (m *Manager) Deploy(ctx context.Context, spec ServiceSpec, progress func(line string)) (Result, error) {
	return m.DeployObserved(ctx, spec, Observer{Progress: progress})
}

// DeployObserved is Deploy reporting to obs: progress lines and, when
// obs.Serving is set, the tasks that may take traffic as the rollout hands
// over from the old tasks to the new ones (see Observer).
func (m *Manager) DeployObserved(ctx context.Context, spec ServiceSpec, obs Observer) (Result, error) {
	start := time.Now()
	progress := obs.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if err := spec.validate(); err != nil {
		return Result{}, err
	}
	imageHealth := m.imageHealth(ctx, spec.Image)
	configIDs, err := m.ensureConfigs(ctx, spec)
	if err != nil {
		return Result{}, fmt.Errorf("deploy service %q: %w", spec.Name, err)
	}
	desired := swarmSpec(spec, configIDs, imageHealth)
	ro, err := m.apply(ctx, desired)
	if err != nil {
		return Result{}, fmt.Errorf("deploy service %q: %w", spec.Name, err)
	}
	ro.healthChecked = effectiveHealth(spec, imageHealth) != nil
	ro.started = start
	tr := newTracker(progress, ro)
	if obs.Serving != nil {
		// The set before the change is what DNS serves now; changes from
		// it are handed over explicitly.
		tr.handoff = &handoff{report: obs.Serving, network: obs.Network}
		tr.handoff.observe(ro.before)
		// Whatever happens, traffic goes back to DNS once old tasks stopped.
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.restoreTimeout)
			defer cancel()
			tr.handoff.finish(rctx, m, ro.serviceID, servingLimit(spec))
		}()
	}
	progress(fmt.Sprintf("%s service %s: image %s, %d replica(s), %s", ro.action, spec.Name, spec.Image, spec.Replicas, effectiveOrder(spec)))

	res := Result{ServiceID: ro.serviceID, Image: spec.Image, Replicas: spec.Replicas, Action: ro.action}
	ready, waitErr := m.await(ctx, ro, tr)
	res.Ready = ready
	if waitErr == nil {
		progress(fmt.Sprintf("deployed in %s", time.Since(start).Round(100*time.Millisecond)))
		m.pruneUnused(ctx, ro)
		res.Duration = time.Since(start)
		return res, nil
	}
	return m.recoverFrom(ctx, ro, tr, res, waitErr)
}

// recoverFrom restores the previous version after a failed or cancelled
// rollout and builds Deploy's answer.
func (m *Manager) recoverFrom(ctx context.Context, ro *rollout, tr *tracker, res Result, waitErr error) (Result, error) {
	// Restoring must finish even though ctx may be over.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.restoreTimeout)
	defer cancel()
	var failure *rolloutFailure
	if !errors.As(waitErr, &failure) {
		if ctx.Err() == nil {
			// Docker itself failed: leave the service as it is.
			res.Duration = time.Since(ro.started)
			return res, fmt.Errorf("deploy service %q: %w", ro.name, waitErr)
		}
		tr.emit("deploy cancelled: restoring the previous version")
	} else {
		tr.emit("new version failed: restoring the previous version")
	}
	restored, state, restoreErr := m.restore(rctx, ro, tr)
	res.Image, res.Replicas = state.image, state.replicas
	if ro.action == ActionUpdate {
		res.Action = ActionRollback
	}
	res.Duration = time.Since(ro.started)
	m.pruneUnused(rctx, ro)
	if failure == nil {
		if restoreErr != nil {
			return res, fmt.Errorf("deploy service %q: %w (restoring the previous version failed: %v)", ro.name, waitErr, restoreErr)
		}
		return res, fmt.Errorf("deploy service %q (%s): %w", ro.name, restored, waitErr)
	}
	rerr := &RolloutError{Reason: m.explain(rctx, failure, ro.healthChecked), Restored: restored}
	if restoreErr != nil {
		return res, fmt.Errorf("deploy service %q: %w; restoring the previous version failed: %v", ro.name, rerr, restoreErr)
	}
	return res, fmt.Errorf("deploy service %q: %w", ro.name, rerr)
}

// apply creates the service or updates it to desired, retrying when
// another writer changed it in between.
func (m *Manager) apply(ctx context.Context, desired swarm.ServiceSpec) (*rollout, error) {
	ro := &rollout{
		name:     desired.Name,
		hash:     desired.TaskTemplate.ContainerSpec.Labels[LabelSpecHash],
		replicas: *desired.Mode.Replicated.Replicas,
		monitor:  desired.UpdateConfig.Monitor,
		known:    map[string]bool{},
	}
	var err error
	for attempt := 1; attempt <= maxApplyAttempts; attempt++ {
		var svc swarm.Service
		svc, _, err = m.docker.ServiceInspectWithRaw(ctx, desired.Name, swarm.ServiceInspectOptions{})
		if isNotFound(err) {
			var resp swarm.ServiceCreateResponse
			resp, err = m.docker.ServiceCreate(ctx, desired, createOptions())
			if err == nil {
				m.logWarnings(ctx, desired.Name, resp.Warnings)
				ro.serviceID, ro.action = resp.ID, ActionCreate
				return ro, nil
			}
			if isAlreadyExists(err) {
				continue
			}
			return nil, fmt.Errorf("create: %w", err)
		}
		if err != nil {
			return nil, fmt.Errorf("inspect: %w", err)
		}
		if svc.Spec.Labels[LabelManaged] != "true" {
			return nil, fmt.Errorf("a service of that name exists and berth does not manage it (no %s label)", LabelManaged)
		}
		tasks, err := m.tasks(ctx, svc.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range tasks {
			ro.known[t.ID] = true
		}
		ro.before = tasks
		var resp swarm.ServiceUpdateResponse
		resp, err = m.docker.ServiceUpdate(ctx, svc.ID, svc.Version, desired, updateOptions())
		if err == nil {
			m.logWarnings(ctx, desired.Name, resp.Warnings)
			ro.serviceID, ro.action = svc.ID, ActionUpdate
			return ro, nil
		}
		if !isVersionConflict(err) {
			return nil, fmt.Errorf("update: %w", err)
		}
	}
	return nil, fmt.Errorf("gave up after %d attempts: %w", maxApplyAttempts, err)
}

// imageHealth is the local image's own health check, nil when it has none
// or the image cannot be inspected (its tasks will then report why).
func (m *Manager) imageHealth(ctx context.Context, ref string) *container.HealthConfig {
	img, err := m.docker.ImageInspect(ctx, ref)
	if err != nil {
		m.log.WarnContext(ctx, "inspect image", "image", ref, "err", err)
		return nil
	}
	if img.Config == nil {
		return nil
	}
	return img.Config.Healthcheck
}

// pruneUnused removes configs the service no longer references.
func (m *Manager) pruneUnused(ctx context.Context, ro *rollout) {
	svc, _, err := m.docker.ServiceInspectWithRaw(ctx, ro.serviceID, swarm.ServiceInspectOptions{})
	if err != nil {
		return
	}
	m.pruneConfigs(ctx, ro.name, &svc)
}

func (m *Manager) logWarnings(ctx context.Context, service string, warnings []string) {
	for _, w := range warnings {
		m.log.DebugContext(ctx, "docker warning", "service", service, "warning", w)
	}
}
