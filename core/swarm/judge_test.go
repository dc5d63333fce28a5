package swarm

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

var judgeNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// task builds a task of the given spec hash in state, wanted or not.
func task(id, hash string, state swarm.TaskState, desired swarm.TaskState) swarm.Task {
	return swarm.Task{
		ID:           id,
		Meta:         swarm.Meta{CreatedAt: judgeNow.Add(-time.Minute)},
		Spec:         swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Labels: map[string]string{LabelSpecHash: hash}}},
		Status:       swarm.TaskStatus{State: state, Timestamp: judgeNow},
		DesiredState: desired,
	}
}

func TestJudge(t *testing.T) {
	const running, shutdown, ready = swarm.TaskStateRunning, swarm.TaskStateShutdown, swarm.TaskStateReady
	ro := &rollout{hash: "new", replicas: 2, known: map[string]bool{"old1": true, "old2": true, "same": true}}
	update := func(state swarm.UpdateState, msg string) swarm.Service {
		return swarm.Service{UpdateStatus: &swarm.UpdateStatus{State: state, Message: msg}}
	}
	failedTask := func(id string) swarm.Task {
		t := task(id, "new", swarm.TaskStateFailed, shutdown)
		t.Status.Err = "task: non-zero exit (1)"
		return t
	}
	pending := task("p", "new", swarm.TaskStatePending, running)
	pending.Status.Err = "no suitable node (insufficient resources on 1 node)"
	tests := []struct {
		name               string
		svc                swarm.Service
		tasks              []swarm.Task
		ready, fresh, done bool
		failure            string // substring of the failure, "" = none
		failedTaskID       string
	}{
		{
			name:  "created and running",
			tasks: []swarm.Task{task("a", "new", running, running), task("b", "new", running, running)},
			ready: true, fresh: true, done: true,
		},
		{
			name:  "one still starting",
			tasks: []swarm.Task{task("a", "new", running, running), task("b", "new", swarm.TaskStateStarting, running)},
			fresh: true, done: true,
		},
		{
			name: "start-first: new running, old still wanted",
			svc:  update(swarm.UpdateStateUpdating, "update in progress"),
			tasks: []swarm.Task{
				task("a", "new", running, running), task("b", "new", running, running),
				task("old1", "old", running, running),
			},
			fresh: true,
		},
		{
			name: "all new, Swarm still monitoring",
			svc:  update(swarm.UpdateStateUpdating, ""),
			tasks: []swarm.Task{
				task("a", "new", running, running), task("b", "new", running, running),
				task("old1", "old", running, shutdown), task("old2", "old", shutdown, shutdown),
			},
			ready: true, fresh: true,
		},
		{
			name: "update completed",
			svc:  update(swarm.UpdateStateCompleted, "update completed"),
			tasks: []swarm.Task{
				task("a", "new", running, running), task("b", "new", running, running),
				task("old1", "old", shutdown, shutdown),
			},
			ready: true, fresh: true, done: true,
		},
		{
			name:  "scale down of the same spec: ready, nothing new to watch",
			tasks: []swarm.Task{task("same", "new", running, running), task("old1", "new", running, running), task("old2", "new", running, shutdown)},
			ready: true, done: true,
		},
		{
			name:    "Swarm rolled back",
			svc:     update(swarm.UpdateStateRollbackStarted, "update rolled back due to failure or early termination of task f1"),
			tasks:   []swarm.Task{failedTask("f1"), failedTask("f0"), task("old1", "old", running, running)},
			failure: "rolled back", failedTaskID: "f1",
		},
		{
			name:    "update paused",
			svc:     update(swarm.UpdateStatePaused, "update paused due to failure"),
			tasks:   []swarm.Task{task("old1", "old", running, running)},
			failure: "paused",
		},
		{
			name:  "one failure, replacement waiting to restart",
			tasks: []swarm.Task{failedTask("f1"), task("r1", "new", swarm.TaskStateNew, ready)},
			fresh: false, done: true,
		},
		{
			name:    "failures reach the limit",
			tasks:   []swarm.Task{failedTask("f1"), failedTask("f2"), failedTask("f3"), task("r1", "new", swarm.TaskStateNew, ready)},
			failure: "failed 3 times", done: true,
		},
		{
			name:    "restart policy gave up",
			tasks:   []swarm.Task{failedTask("f1")},
			failure: "will not be restarted", done: true,
		},
		{
			name:  "known failures are history",
			tasks: []swarm.Task{task("old1", "new", swarm.TaskStateFailed, shutdown), task("a", "new", running, running), task("b", "new", running, running)},
			ready: true, fresh: true, done: true,
		},
		{
			name:    "unschedulable for too long",
			tasks:   []swarm.Task{pending},
			failure: "task p", done: true, failedTaskID: "p",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := judge(ro, tt.svc, tt.tasks, judgeNow)
			if j.ready != tt.ready || j.fresh != tt.fresh || j.updateDone != tt.done {
				t.Errorf("ready/fresh/done = %t/%t/%t, want %t/%t/%t", j.ready, j.fresh, j.updateDone, tt.ready, tt.fresh, tt.done)
			}
			switch {
			case tt.failure == "" && j.failure != nil:
				t.Errorf("unexpected failure %v", j.failure)
			case tt.failure != "" && (j.failure == nil || !strings.Contains(j.failure.Error()+" "+j.failure.swarmMessage+" "+j.failure.detail, tt.failure)):
				t.Errorf("failure = %v, want one mentioning %q", j.failure, tt.failure)
			case tt.failedTaskID != "" && (j.failure.task == nil || j.failure.task.ID != tt.failedTaskID):
				t.Errorf("failed task = %+v, want %s", j.failure.task, tt.failedTaskID)
			}
		})
	}
}
