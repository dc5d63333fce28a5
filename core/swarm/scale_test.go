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
