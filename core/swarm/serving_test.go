package swarm

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// attached returns t attached to the proxy network at addr and to another
// network.
func attached(t swarm.Task, addr string) swarm.Task {
	net := func(name, a string) swarm.NetworkAttachment {
		return swarm.NetworkAttachment{Network: swarm.Network{Spec: swarm.NetworkSpec{Annotations: swarm.Annotations{Name: name}}},
			Addresses: []string{a}}
	}
	t.NetworksAttachments = []swarm.NetworkAttachment{net("env", "10.9.0.1/24"), net("proxy", addr)}
	return t
}

// TestServingAddrs walks a start-first rollout of two replicas and a scale
// down: the serving set holds the tasks Swarm runs and wants running.
func TestServingAddrs(t *testing.T) {
	const running, starting, shutdown = swarm.TaskStateRunning, swarm.TaskStateStarting, swarm.TaskStateShutdown
	old1 := attached(task("old1", "old", running, running), "10.0.0.11/24")
	old2 := attached(task("old2", "old", running, running), "10.0.0.12/24")
	tests := []struct {
		name     string
		tasks    []swarm.Task
		want     []string
		stopping bool
	}{
		{"before the update", []swarm.Task{old1, old2}, []string{"10.0.0.11", "10.0.0.12"}, false},
		{"new task starting (health check pending) takes no traffic",
			[]swarm.Task{old1, old2, attached(task("new1", "new", starting, running), "10.0.0.21/24")},
			[]string{"10.0.0.11", "10.0.0.12"}, false},
		{"new task running, old one told to stop: handed over before Docker signals it",
			[]swarm.Task{attached(task("old1", "old", running, shutdown), "10.0.0.11/24"), old2,
				attached(task("new1", "new", running, running), "10.0.0.21/24")},
			[]string{"10.0.0.12", "10.0.0.21"}, true},
		{"old task stopped",
			[]swarm.Task{attached(task("old1", "old", shutdown, shutdown), "10.0.0.11/24"), old2,
				attached(task("new1", "new", running, running), "10.0.0.21/24")},
			[]string{"10.0.0.12", "10.0.0.21"}, false},
		{"IPv6 and a task without an address on the proxy network",
			[]swarm.Task{attached(task("a", "new", running, running), "fd00::5/64"), task("b", "new", running, running)},
			[]string{"fd00::5"}, false},
		{"nothing running", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := servingAddrs(tt.tasks, "proxy"); !slices.Equal(got, tt.want) {
				t.Errorf("servingAddrs = %v, want %v", got, tt.want)
			}
			if got := stillStopping(tt.tasks); got != tt.stopping {
				t.Errorf("stillStopping = %v, want %v", got, tt.stopping)
			}
		})
	}
}

// TestHandoffReportsChanges checks that only changes of the set are
// reported, not the set found at the start.
func TestHandoffReportsChanges(t *testing.T) {
	var reports [][]string
	h := &handoff{report: func(a []string) { reports = append(reports, a) }, network: "proxy"}
	a := attached(task("a", "old", swarm.TaskStateRunning, swarm.TaskStateRunning), "10.0.0.1/24")
	b := attached(task("b", "new", swarm.TaskStateRunning, swarm.TaskStateRunning), "10.0.0.2/24")
	for _, snapshot := range [][]swarm.Task{{a}, {a}, {a, b}, {b, a}, {b}} {
		h.observe(snapshot)
	}
	want := [][]string{{"10.0.0.1", "10.0.0.2"}, {"10.0.0.2"}}
	if !slices.EqualFunc(reports, want, slices.Equal) {
		t.Errorf("reports = %v, want %v", reports, want)
	}
	var none *handoff
	none.observe([]swarm.Task{a}) // a nil handoff ignores snapshots
}

// TestDeployObservedHandsOver rolls a two-replica service over to a new
// version and back down to one replica, and checks what Serving reported:
// never an empty set or an address that left the set again, the running
// tasks last, then nil once no old task runs.
func TestDeployObservedHandsOver(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := e.spec("handoff", e.image("v1", "ENV MESSAGE=v1"))
	s.Replicas = 2
	if _, err := e.deploy(ctx, s); err != nil {
		t.Fatal(err)
	}
	running := func() []string {
		svc, _, err := e.cli.ServiceInspectWithRaw(ctx, s.Name, swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := e.m.tasks(ctx, svc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stillStopping(tasks) {
			t.Error("a task told to stop still runs after DeployObserved returned")
		}
		return servingAddrs(tasks, e.network)
	}
	for _, step := range []struct {
		name string
		edit func(*ServiceSpec)
	}{
		{"new version, 2 replicas", func(s *ServiceSpec) { s.Image = e.image("v2", "ENV MESSAGE=v2") }},
		{"scale down to 1", func(s *ServiceSpec) { s.Replicas = 1 }},
	} {
		t.Run(step.name, func(t *testing.T) {
			running()
			step.edit(&s)
			var reports [][]string
			_, err := e.m.DeployObserved(ctx, s, Observer{Network: e.network, Serving: func(a []string) {
				t.Logf("serving %v", a)
				reports = append(reports, a)
			}})
			if err != nil {
				t.Fatal(err)
			}
			after := running()
			if len(reports) < 2 || reports[len(reports)-1] != nil {
				t.Fatalf("reports %v: want at least the set and a final nil", reports)
			}
			if last := reports[len(reports)-2]; !slices.Equal(last, after) || len(after) != int(s.Replicas) {
				t.Errorf("last set %v, want the %d running task(s) %v", last, s.Replicas, after)
			}
			in, left := map[string]bool{}, map[string]bool{}
			for _, r := range reports[:len(reports)-1] {
				if len(r) == 0 {
					t.Errorf("an empty set was reported during a start-first rollout: %v", reports)
				}
				for a := range in {
					if !slices.Contains(r, a) {
						left[a] = true
					}
				}
				for _, a := range r {
					if left[a] {
						t.Errorf("%s came back after leaving the set: %v", a, reports)
					}
					in[a] = true
				}
			}
		})
	}
}
