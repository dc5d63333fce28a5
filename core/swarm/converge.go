package swarm

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// Without a rolling update to watch (a create or a scale-up), the new spec
// is failed once its tasks failed failureLimit times, or once a task has been
// unschedulable (pending with an error, e.g. "no suitable node") for
// pendingLimit.
const (
	failureLimit = 3
	pendingLimit = 30 * time.Second
)

// rollout is one Deploy's change being watched.
type rollout struct {
	name, serviceID string
	action          Action
	// hash is the new task template's LabelSpecHash.
	hash     string
	replicas uint64
	// known holds the ids of the tasks that existed before the change;
	// before holds those tasks as they were.
	known         map[string]bool
	before        []swarm.Task
	healthChecked bool
	// monitor is how long new tasks are watched after they are ready.
	monitor time.Duration
	started time.Time
}

// rolloutFailure is why new tasks are judged failed.
type rolloutFailure struct {
	// swarmMessage is Swarm's update status message, if it gave up.
	swarmMessage string
	// task is the new task whose failure explains it, when known.
	task *swarm.Task
	// detail explains a failure that is not one task's (e.g. "tasks keep
	// failing").
	detail string
}

func (f *rolloutFailure) Error() string {
	switch {
	case f.task != nil:
		return fmt.Sprintf("task %s: %s %s", f.task.ID, f.task.Status.State, f.task.Status.Err)
	case f.swarmMessage != "":
		return f.swarmMessage
	}
	return f.detail
}

// judgement is what one look at the service and its tasks says.
type judgement struct {
	// ready: every replica of the new spec runs (healthy, when checked)
	// and no other task is meant to.
	ready bool
	// fresh: some of those replicas started in this rollout.
	fresh bool
	// updateDone: no Swarm rolling update is in progress.
	updateDone bool
	// failure is set when the rollout failed.
	failure *rolloutFailure
}

// await polls the service until the rollout converges (nil), fails
// (*rolloutFailure), ctx ends (ctx.Err()) or Docker fails. It returns how
// long the new replicas took to be ready.
//
// A rolling update is done when Swarm says so, after its monitoring window.
// Tasks started without one (a create, a scale-up) must stay ready for the
// same window, so a process that exits right after starting is caught.
func (m *Manager) await(ctx context.Context, ro *rollout, tr *tracker) (time.Duration, error) {
	var ready time.Duration
	var readySince time.Time
	tick := time.NewTicker(m.poll)
	defer tick.Stop()
	for {
		svc, _, err := m.docker.ServiceInspectWithRaw(ctx, ro.serviceID, swarm.ServiceInspectOptions{})
		if err != nil {
			return ready, m.pollError(ctx, err)
		}
		tasks, err := m.tasks(ctx, ro.serviceID)
		if err != nil {
			return ready, m.pollError(ctx, err)
		}
		now := time.Now()
		tr.observe(svc, tasks)
		j := judge(ro, svc, tasks, now)
		if j.failure != nil {
			return ready, j.failure
		}
		switch {
		case !j.ready:
			readySince = time.Time{}
		case readySince.IsZero():
			readySince = now
			if ready == 0 {
				ready = now.Sub(ro.started)
				tr.allReady(ready)
			}
		}
		if j.ready && j.updateDone && (!j.fresh || now.Sub(readySince) >= ro.monitor) {
			return ready, nil
		}
		select {
		case <-ctx.Done():
			return ready, ctx.Err()
		case <-tick.C:
		}
	}
}

func (m *Manager) pollError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("watch rollout: %w", err)
}

// judge reads one snapshot of the service and its tasks. The rollout failed
// when Swarm rolled back or paused the update, when new tasks keep failing,
// or when one cannot be scheduled.
func judge(ro *rollout, svc swarm.Service, tasks []swarm.Task, now time.Time) judgement {
	var running, active, failures, retrying uint64
	var fresh bool
	var lastFailed, stuck *swarm.Task
	for i := range tasks {
		t := &tasks[i]
		ours := taskHash(t) == ro.hash
		if wanted(t) && !terminal(t.Status.State) {
			active++
		}
		if !ours {
			continue
		}
		if t.DesiredState == swarm.TaskStateRunning && t.Status.State == swarm.TaskStateRunning {
			running++
			fresh = fresh || !ro.known[t.ID]
		}
		if ro.known[t.ID] {
			continue
		}
		if wanted(t) {
			// Alive, or failed and not yet replaced by the orchestrator.
			retrying++
		}
		if failedState(t.Status.State) {
			failures++
			if lastFailed == nil || t.Status.Timestamp.After(lastFailed.Status.Timestamp) {
				lastFailed = t
			}
		}
		if t.Status.State == swarm.TaskStatePending && t.Status.Err != "" && now.Sub(t.CreatedAt) > pendingLimit {
			stuck = t
		}
	}
	us := svc.UpdateStatus
	j := judgement{
		ready:      running == ro.replicas && active == ro.replicas,
		fresh:      fresh,
		updateDone: us == nil || us.State == swarm.UpdateStateCompleted,
	}
	if us != nil {
		switch us.State {
		case swarm.UpdateStatePaused, swarm.UpdateStateRollbackStarted, swarm.UpdateStateRollbackPaused, swarm.UpdateStateRollbackCompleted:
			j.failure = &rolloutFailure{swarmMessage: us.Message, task: taskNamedIn(us.Message, tasks, lastFailed)}
			return j
		}
	}
	switch {
	case failures >= failureLimit:
		j.failure = &rolloutFailure{task: lastFailed, detail: fmt.Sprintf("new tasks failed %d times", failures)}
	case failures > 0 && retrying == 0 && us == nil:
		// The restart policy gave up and no update is running to roll back.
		j.failure = &rolloutFailure{task: lastFailed, detail: "new tasks failed and will not be restarted"}
	case stuck != nil:
		j.failure = &rolloutFailure{task: stuck}
	}
	return j
}

// taskNamedIn finds the task Swarm's update message names ("update rolled
// back due to failure or early termination of task <id>"), else fallback.
func taskNamedIn(msg string, tasks []swarm.Task, fallback *swarm.Task) *swarm.Task {
	for i := range tasks {
		if tasks[i].ID != "" && strings.Contains(msg, tasks[i].ID) {
			return &tasks[i]
		}
	}
	return fallback
}

// taskHash is the LabelSpecHash of the template t was made from.
func taskHash(t *swarm.Task) string {
	if t.Spec.ContainerSpec == nil {
		return ""
	}
	return t.Spec.ContainerSpec.Labels[LabelSpecHash]
}

// wanted reports whether the orchestrator wants t to run (start-first
// replacements are created with desired state "ready").
func wanted(t *swarm.Task) bool {
	return t.DesiredState == swarm.TaskStateRunning || t.DesiredState == swarm.TaskStateReady
}

// terminal reports whether a task in state s has stopped for good.
func terminal(s swarm.TaskState) bool {
	switch s {
	case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed,
		swarm.TaskStateRejected, swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		return true
	}
	return false
}

// failedState reports whether a service task in state s failed: a
// long-running application's task that completed failed too.
func failedState(s swarm.TaskState) bool {
	return s == swarm.TaskStateFailed || s == swarm.TaskStateRejected || s == swarm.TaskStateComplete
}

// tasks lists the service's tasks (Swarm keeps a few stopped ones per slot).
func (m *Manager) tasks(ctx context.Context, serviceID string) ([]swarm.Task, error) {
	tasks, err := m.docker.TaskList(ctx, swarm.TaskListOptions{
		Filters: filters.NewArgs(filters.Arg("service", serviceID)),
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return tasks, nil
}
