package swarm

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// Observer receives what DeployObserved sees while a rollout runs.
type Observer struct {
	// Progress receives human-readable progress lines; nil discards them.
	Progress func(line string)
	// Serving, when set, receives the IP addresses on Network of the
	// service's tasks that may take traffic: those Swarm runs (so healthy,
	// when they have a health check: Swarm only reports such a task
	// running once it is) and has not told to stop. It is called whenever
	// the set changes during the rollout or the restore after a failure
	// (not for the set found at the start, which DNS already serves), and
	// then, if it was called, finally with nil once no task outside the set
	// is still running, so the caller can go back to Swarm's DNS. The
	// explicit list thus only lives while tasks are being replaced.
	//
	// A proxy that follows Serving hands traffic over without relying on
	// DNS: a new task gets requests as soon as it runs, and an old one
	// gets none from the moment Swarm decides to stop it, which is at
	// least two seconds (Docker's delay for DNS to converge) before Docker
	// signals it.
	Serving func(addrs []string)
	// Network names the network whose addresses Serving receives (the
	// proxy's).
	Network string
}

// servingLimit bounds the final wait for old tasks to stop before Serving
// is called with nil: Docker's two-second delay, the stop grace period and
// some slack.
func servingLimit(spec ServiceSpec) time.Duration {
	grace := spec.StopGracePeriod
	if grace == 0 {
		grace = 10 * time.Second
	}
	return 2*time.Second + grace + 5*time.Second
}

// handoff reports the serving set of one rollout to an Observer.
type handoff struct {
	report  func([]string)
	network string
	last    []string
	// seen: the set at the start is known; reported: a change was reported.
	seen, reported bool
}

// observe reports the serving set of tasks if it changed since the
// previous snapshot; the first snapshot is only recorded.
func (h *handoff) observe(tasks []swarm.Task) {
	if h == nil {
		return
	}
	addrs := servingAddrs(tasks, h.network)
	switch {
	case !h.seen:
		h.last, h.seen = addrs, true
		return
	case slices.Equal(addrs, h.last):
		return
	}
	h.last, h.reported = addrs, true
	h.report(addrs)
}

// finish waits (up to limit, or until ctx ends) until every running task
// of the service is in the serving set, so that nothing the proxy stopped
// sending to still answers, then reports nil.
func (h *handoff) finish(ctx context.Context, m *Manager, serviceID string, limit time.Duration) {
	if h == nil || !h.reported {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		tasks, err := m.tasks(ctx, serviceID)
		if err != nil || !stillStopping(tasks) {
			break
		}
		h.observe(tasks)
		timer := time.NewTimer(m.poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			h.report(nil)
			return
		case <-timer.C:
		}
	}
	h.report(nil)
}

// servingAddrs returns, sorted, the addresses on network of the tasks
// running with desired state running.
func servingAddrs(tasks []swarm.Task, network string) []string {
	var out []string
	for i := range tasks {
		t := &tasks[i]
		if t.DesiredState != swarm.TaskStateRunning || t.Status.State != swarm.TaskStateRunning {
			continue
		}
		for _, na := range t.NetworksAttachments {
			if na.Network.Spec.Name != network {
				continue
			}
			for _, a := range na.Addresses {
				if p, err := netip.ParsePrefix(a); err == nil {
					out = append(out, p.Addr().String())
				} else if ip, err := netip.ParseAddr(a); err == nil {
					out = append(out, ip.String())
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// stillStopping reports whether a task Swarm told to stop still runs.
func stillStopping(tasks []swarm.Task) bool {
	for i := range tasks {
		t := &tasks[i]
		if t.DesiredState != swarm.TaskStateRunning && !terminal(t.Status.State) &&
			(t.Status.State == swarm.TaskStateRunning || t.Status.State == swarm.TaskStateStarting) {
			return true
		}
	}
	return false
}
