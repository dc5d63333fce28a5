package swarm

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// phase groups task states into what a user cares about.
type phase int

const (
	phaseNone phase = iota
	phasePreparing
	phaseStarting
	phaseRunning
	phaseStopped
	phaseFailed
)

func phaseOf(s swarm.TaskState) phase {
	switch s {
	case swarm.TaskStateStarting:
		return phaseStarting
	case swarm.TaskStateRunning:
		return phaseRunning
	case swarm.TaskStateShutdown, swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		return phaseStopped
	case swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateComplete:
		return phaseFailed
	}
	return phasePreparing
}

// tracker turns successive snapshots of a rollout into progress lines such
// as "task 1/2 starting", "task 1/2 healthy", "old task 1 stopped".
type tracker struct {
	emit   func(string)
	ro     *rollout
	phases map[string]phase
	update swarm.UpdateState
	// handoff, when not nil, reports the serving tasks at each snapshot.
	handoff *handoff
}

func newTracker(emit func(string), ro *rollout) *tracker {
	return &tracker{emit: emit, ro: ro, phases: map[string]phase{}}
}

// observe emits a line for each change since the previous snapshot. Tasks
// that existed before the rollout are first recorded silently.
func (tr *tracker) observe(svc swarm.Service, tasks []swarm.Task) {
	tr.handoff.observe(tasks)
	if us := svc.UpdateStatus; us != nil && us.State != tr.update {
		tr.update = us.State
		tr.emit(updateLine(us))
	}
	sorted := append([]swarm.Task(nil), tasks...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Slot != sorted[j].Slot {
			return sorted[i].Slot < sorted[j].Slot
		}
		return sorted[i].CreatedAt.Before(sorted[j].CreatedAt)
	})
	for i := range sorted {
		t := &sorted[i]
		now := phaseOf(t.Status.State)
		before, seen := tr.phases[t.ID]
		tr.phases[t.ID] = now
		if (!seen && tr.ro.known[t.ID]) || before == now {
			continue
		}
		if line := tr.taskLine(t, before, now); line != "" {
			tr.emit(line)
		}
	}
}

func (tr *tracker) taskLine(t *swarm.Task, before, now phase) string {
	if taskHash(t) != tr.ro.hash {
		// A task of another spec: an old one stopping, or a previous
		// version's one coming back in a rollback.
		switch {
		case now == phaseRunning:
			return fmt.Sprintf("previous-version task %d running", t.Slot)
		case (now == phaseStopped || now == phaseFailed) && (before == phaseRunning || before == phaseStarting):
			return fmt.Sprintf("old task %d stopped", t.Slot)
		}
		return ""
	}
	name := fmt.Sprintf("task %d/%d", t.Slot, tr.ro.replicas)
	switch now {
	case phasePreparing:
		return name + " preparing"
	case phaseStarting:
		if tr.ro.healthChecked {
			return name + " starting (waiting for its health check)"
		}
		return name + " starting"
	case phaseRunning:
		if tr.ro.healthChecked {
			return name + " healthy"
		}
		return name + " running"
	case phaseStopped:
		return name + " stopped"
	case phaseFailed:
		return name + " failed: " + taskError(t)
	}
	return ""
}

func (tr *tracker) allReady(after time.Duration) {
	what := "running"
	if tr.ro.healthChecked {
		what = "healthy"
	}
	tr.emit(fmt.Sprintf("all %d replica(s) of the new version %s after %s", tr.ro.replicas, what, after.Round(100*time.Millisecond)))
}

func updateLine(us *swarm.UpdateStatus) string {
	switch us.State {
	case swarm.UpdateStateUpdating:
		return "rolling update started"
	case swarm.UpdateStateCompleted:
		return "rolling update completed"
	case swarm.UpdateStateRollbackStarted:
		return "rollback started: " + us.Message
	case swarm.UpdateStateRollbackCompleted:
		return "rollback completed"
	}
	return fmt.Sprintf("update %s: %s", strings.ReplaceAll(string(us.State), "_", " "), us.Message)
}

// taskError is a task's error as Swarm reports it.
func taskError(t *swarm.Task) string {
	if t.Status.Err != "" {
		return t.Status.Err
	}
	if t.Status.ContainerStatus != nil {
		return fmt.Sprintf("exit code %d", t.Status.ContainerStatus.ExitCode)
	}
	return t.Status.Message
}
