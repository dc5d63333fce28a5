package swarm

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// TaskView is one task of a service as a release follows it.
type TaskView struct {
	ID string
	// Running: Swarm runs the task (healthy, when it has a health check)
	// and wants it to.
	Running bool
	// Stopped: the task ended for good (failed, exited, rejected, shut down).
	Stopped bool
	// Failed: it ended on its own (not told to stop: a task told to stop
	// ends shut down). Swarm sets the desired state of a failed task to
	// shutdown as soon as it replaces it, so that state does not tell.
	Failed bool
	// Pending is set while the task cannot be scheduled, with why.
	Pending string
	// Address is the task's IP address on the network asked for.
	Address string
	// Since is when the task reached its current state.
	Since time.Time
	// CreatedAt is when Swarm created the task.
	CreatedAt time.Time
}

// ServiceTasks lists the tasks of the service named name, with their
// addresses on network. A missing service has no tasks.
func (m *Manager) ServiceTasks(ctx context.Context, name, network string) ([]TaskView, error) {
	svc, _, err := m.docker.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspect service %q: %w", name, err)
	}
	tasks, err := m.tasks(ctx, svc.ID)
	if err != nil {
		return nil, err
	}
	out := make([]TaskView, 0, len(tasks))
	for i := range tasks {
		t := &tasks[i]
		v := TaskView{ID: t.ID, Since: t.Status.Timestamp, CreatedAt: t.CreatedAt,
			Running: t.DesiredState == swarm.TaskStateRunning && t.Status.State == swarm.TaskStateRunning,
			Stopped: terminal(t.Status.State),
			Failed:  failedState(t.Status.State),
		}
		if t.Status.State == swarm.TaskStatePending && t.Status.Err != "" {
			v.Pending = t.Status.Err
		}
		if addrs := servingAddrs([]swarm.Task{withRunning(*t)}, network); len(addrs) > 0 {
			v.Address = addrs[0]
		}
		out = append(out, v)
	}
	return out, nil
}

// withRunning returns t as servingAddrs counts it whatever its state, so
// its address can be read.
func withRunning(t swarm.Task) swarm.Task {
	t.DesiredState, t.Status.State = swarm.TaskStateRunning, swarm.TaskStateRunning
	return t
}

// Create creates the service spec describes, replacing a service of that
// name left over by an earlier attempt. It returns at once: the caller
// follows the tasks (ServiceTasks).
func (m *Manager) Create(ctx context.Context, spec ServiceSpec) error {
	if err := spec.validate(); err != nil {
		return err
	}
	if err := m.Remove(ctx, spec.Name); err != nil {
		return err
	}
	imageHealth := m.imageHealth(ctx, spec.Image)
	configIDs, err := m.ensureConfigs(ctx, spec)
	if err != nil {
		return fmt.Errorf("create service %q: %w", spec.Name, err)
	}
	resp, err := m.docker.ServiceCreate(ctx, swarmSpec(spec, configIDs, imageHealth), createOptions())
	if err != nil {
		return fmt.Errorf("create service %q: %w", spec.Name, err)
	}
	m.logWarnings(ctx, spec.Name, resp.Warnings)
	return nil
}

// ExplainTask says in words a user can act on why task id of the service
// named service stopped: its exit code and last output, a failed health
// check, or Swarm's error.
func (m *Manager) ExplainTask(ctx context.Context, service, id string) string {
	svc, _, err := m.docker.ServiceInspectWithRaw(ctx, service, swarm.ServiceInspectOptions{})
	if err != nil {
		return "task " + id + " stopped"
	}
	tasks, err := m.tasks(ctx, svc.ID)
	if err != nil {
		return "task " + id + " stopped"
	}
	for i := range tasks {
		if tasks[i].ID == id {
			return m.explain(ctx, &rolloutFailure{task: &tasks[i]}, false)
		}
	}
	return "task " + id + " stopped"
}

// StartFirst reports whether a new version of spec can run next to the
// old one: not when it asks for stop-first or publishes a fixed
// host-mode port.
func StartFirst(spec ServiceSpec) bool { return effectiveOrder(spec) == UpdateStartFirst }

// ServiceRef names a service and its labels.
type ServiceRef struct {
	Name   string
	Labels map[string]string
}

// ServicesLabeled lists the berth-managed services carrying every label
// in labels.
func (m *Manager) ServicesLabeled(ctx context.Context, labels map[string]string) ([]ServiceRef, error) {
	args := filters.NewArgs(filters.Arg("label", LabelManaged+"=true"))
	for k, v := range labels {
		args.Add("label", k+"="+v)
	}
	svcs, err := m.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: args})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out := make([]ServiceRef, 0, len(svcs))
	for _, s := range svcs {
		out = append(out, ServiceRef{Name: s.Spec.Name, Labels: s.Spec.Labels})
	}
	return out, nil
}
