package swarm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
)

// TestScale stops a service's containers and brings them back, keeping its
// spec, and reports the replicas it had.
func TestScale(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := e.spec("scaled", e.image("v1", "ENV MESSAGE=v1"))
	s.Replicas = 2
	if _, err := e.deploy(ctx, s); err != nil {
		t.Fatal(err)
	}
	before := e.inspect(s.Name)
	running := func() int {
		t.Helper()
		cs, err := e.cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
			filters.Arg("label", "com.docker.swarm.service.name="+s.Name), filters.Arg("status", "running"))})
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	tests := []struct {
		name         string
		replicas     uint64
		wantPrevious uint64
	}{
		{"stop", 0, 2},
		{"stopped again", 0, 0},
		{"start one", 1, 0},
		{"back to two", 2, 1},
	}
	for _, tt := range tests {
		prev, err := e.m.Scale(ctx, s.Name, tt.replicas)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if prev != tt.wantPrevious {
			t.Errorf("%s: previous = %d, want %d", tt.name, prev, tt.wantPrevious)
		}
		// Scale returns once the containers reached the count.
		if n := running(); n != int(tt.replicas) {
			t.Errorf("%s: %d running containers right after Scale, want %d", tt.name, n, tt.replicas)
		}
		if st := e.inspect(s.Name); st.Desired != tt.replicas || st.Running != tt.replicas {
			t.Errorf("%s: desired %d running %d, want %d", tt.name, st.Desired, st.Running, tt.replicas)
		}
	}
	if after := e.inspect(s.Name); after.Image != before.Image {
		t.Errorf("scaling changed the image: %q -> %q", before.Image, after.Image)
	}
	if _, err := e.m.Scale(ctx, e.prefix+"-missing", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("scaling a missing service = %v, want ErrNotFound", err)
	}
}

// TestStopForCopyIsResumedAfterACrash: StopForCopy records the replicas on
// the service as it scales it to zero; a later process (berth restarted
// after a kill) gives them back with ResumeStopped, and only to services
// matching its labels.
func TestStopForCopyIsResumedAfterACrash(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	img := e.image("v1", "ENV MESSAGE=v1")
	mine := e.spec("mine", img)
	mine.Replicas = 2
	mine.Labels = map[string]string{"dev.berth.instance": e.prefix}
	other := e.spec("other", img)
	other.Labels = map[string]string{"dev.berth.instance": e.prefix + "-other"}
	for _, s := range []ServiceSpec{mine, other} {
		if _, err := e.deploy(ctx, s); err != nil {
			t.Fatal(err)
		}
		prev, err := e.m.StopForCopy(ctx, s.Name)
		if err != nil || prev != s.Replicas {
			t.Fatalf("StopForCopy(%s) = %d, %v; want %d", s.Name, prev, err, s.Replicas)
		}
		if st := e.inspect(s.Name); st.Desired != 0 || st.Running != 0 {
			t.Fatalf("%s after StopForCopy: desired %d running %d", s.Name, st.Desired, st.Running)
		}
	}
	// The process that stopped them is gone; a new one resumes its own.
	names, err := NewManager(e.cli, nil).ResumeStopped(ctx, map[string]string{"dev.berth.instance": e.prefix})
	if err != nil || len(names) != 1 || names[0] != mine.Name {
		t.Fatalf("ResumeStopped = %v, %v; want [%s]", names, err, mine.Name)
	}
	if st := e.inspect(mine.Name); st.Desired != 2 || st.Running != 2 {
		t.Fatalf("after ResumeStopped: desired %d running %d, want 2", st.Desired, st.Running)
	}
	if st := e.inspect(other.Name); st.Desired != 0 {
		t.Fatalf("another instance's service was resumed: desired %d", st.Desired)
	}
	// Resumed services carry no mark: a second pass does nothing.
	if names, err := e.m.ResumeStopped(ctx, map[string]string{"dev.berth.instance": e.prefix}); err != nil || len(names) != 0 {
		t.Fatalf("second ResumeStopped = %v, %v", names, err)
	}
	// Scaling back normally also clears the mark.
	if _, err := e.m.Scale(ctx, other.Name, 1); err != nil {
		t.Fatal(err)
	}
	if names, err := e.m.ResumeStopped(ctx, map[string]string{"dev.berth.instance": e.prefix + "-other"}); err != nil || len(names) != 0 {
		t.Fatalf("ResumeStopped after Scale = %v, %v", names, err)
	}
}
