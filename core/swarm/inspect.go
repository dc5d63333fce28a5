package swarm

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// Status is a service's observed state.
type Status struct {
	ID    string
	Name  string
	Image string
	// DeploymentID is the berth deployment that applied the service's
	// current spec (its LabelDeploymentID label; after a rollback, the
	// previous deployment's).
	DeploymentID string
	// Desired is the replica count asked for; Running counts running tasks
	// of the current spec; Healthy counts those that pass their health
	// check (all running ones when there is none: Swarm only reports a
	// task running once its first check passed).
	Desired, Running, Healthy uint64
	// UpdateState is Swarm's rollout state ("updating", "completed",
	// "rollback_completed", ...), empty when no update ran.
	UpdateState   string
	UpdateMessage string
	// Tasks are the current and recently stopped tasks, by slot then age.
	Tasks []TaskStatus
}

// TaskStatus is one task, with the error that stopped it if any.
type TaskStatus struct {
	ID           string
	Slot         int
	NodeID       string
	Image        string
	State        string
	DesiredState string
	Message      string
	Error        string
	ExitCode     int
	ContainerID  string
	// Health is the container's health ("healthy", "unhealthy",
	// "starting"), empty when it has no check or is on another node.
	Health string
	// Current is true when the task runs the service's current spec.
	Current bool
	Since   time.Time
}

// Inspect reports the service's image, replicas, rollout state and tasks.
// A missing service is an error wrapping ErrNotFound.
func (m *Manager) Inspect(ctx context.Context, name string) (Status, error) {
	svc, _, err := m.docker.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
	if isNotFound(err) {
		return Status{}, fmt.Errorf("inspect service %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Status{}, fmt.Errorf("inspect service %q: %w", name, err)
	}
	tasks, err := m.tasks(ctx, svc.ID)
	if err != nil {
		return Status{}, fmt.Errorf("inspect service %q: %w", name, err)
	}
	st := Status{ID: svc.ID, Name: svc.Spec.Name, Image: servingOf(svc).image, Desired: replicasOf(svc),
		DeploymentID: svc.Spec.Labels[LabelDeploymentID]}
	if us := svc.UpdateStatus; us != nil {
		st.UpdateState, st.UpdateMessage = string(us.State), us.Message
	}
	var hash string
	if cs := svc.Spec.TaskTemplate.ContainerSpec; cs != nil {
		hash = cs.Labels[LabelSpecHash]
	}
	for i := range tasks {
		ts := m.taskStatus(ctx, &tasks[i], hash)
		if ts.Current && ts.State == string(swarm.TaskStateRunning) && ts.DesiredState == string(swarm.TaskStateRunning) {
			st.Running++
			if ts.Health == "" || ts.Health == "healthy" {
				st.Healthy++
			}
		}
		st.Tasks = append(st.Tasks, ts)
	}
	sort.SliceStable(st.Tasks, func(i, j int) bool {
		if st.Tasks[i].Slot != st.Tasks[j].Slot {
			return st.Tasks[i].Slot < st.Tasks[j].Slot
		}
		return st.Tasks[i].Since.After(st.Tasks[j].Since)
	})
	return st, nil
}

func (m *Manager) taskStatus(ctx context.Context, t *swarm.Task, hash string) TaskStatus {
	ts := TaskStatus{
		ID:           t.ID,
		Slot:         t.Slot,
		NodeID:       t.NodeID,
		State:        string(t.Status.State),
		DesiredState: string(t.DesiredState),
		Message:      t.Status.Message,
		Error:        t.Status.Err,
		Current:      taskHash(t) == hash,
		Since:        t.Status.Timestamp,
	}
	if cs := t.Spec.ContainerSpec; cs != nil {
		ts.Image = cs.Image
	}
	if c := t.Status.ContainerStatus; c != nil {
		ts.ContainerID, ts.ExitCode = c.ContainerID, c.ExitCode
	}
	if ts.ContainerID != "" && t.Status.State == swarm.TaskStateRunning {
		if c, err := m.docker.ContainerInspect(ctx, ts.ContainerID); err == nil && c.State != nil && c.State.Health != nil {
			ts.Health = string(c.State.Health.Status)
		}
	}
	return ts
}
