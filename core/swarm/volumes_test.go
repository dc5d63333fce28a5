package swarm

import (
	"testing"

	"github.com/docker/docker/api/types/mount"
)

func TestWithVolumes(t *testing.T) {
	spec := swarmSpec(ServiceSpec{Name: "web-1", Image: "web:1", Replicas: 2, Mounts: []Mount{
		{Type: MountVolume, Source: "web-1_data", Target: "/data"},
		{Type: MountVolume, Source: "web-1_cache", Target: "/cache"},
		{Type: MountBind, Source: "/srv", Target: "/srv"},
	}}, nil, nil)
	hash := spec.TaskTemplate.ContainerSpec.Labels[LabelSpecHash]
	tests := []struct {
		name    string
		swap    map[string]string
		changed bool
		want    []string
	}{
		{"one volume", map[string]string{"web-1_data": "web-1_data_r1"}, true, []string{"web-1_data_r1", "web-1_cache", "/srv"}},
		{"already switched", map[string]string{"web-1_data": "web-1_data"}, false, []string{"web-1_data", "web-1_cache", "/srv"}},
		{"not mounted", map[string]string{"other": "x"}, false, []string{"web-1_data", "web-1_cache", "/srv"}},
		{"bind mounts are not volumes", map[string]string{"/srv": "/etc"}, false, []string{"web-1_data", "web-1_cache", "/srv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := withVolumes(spec, tt.swap)
			if changed != tt.changed {
				t.Fatalf("changed = %v, want %v", changed, tt.changed)
			}
			var sources []string
			for _, m := range got.TaskTemplate.ContainerSpec.Mounts {
				sources = append(sources, m.Source)
			}
			if len(sources) != len(tt.want) {
				t.Fatalf("mounts = %v, want %v", sources, tt.want)
			}
			for i := range sources {
				if sources[i] != tt.want[i] {
					t.Fatalf("mounts = %v, want %v", sources, tt.want)
				}
			}
			newHash := got.TaskTemplate.ContainerSpec.Labels[LabelSpecHash]
			if changed == (newHash == hash) {
				t.Errorf("spec hash %s -> %s; changed %v", hash, newHash, changed)
			}
			if spec.TaskTemplate.ContainerSpec.Mounts[0].Source != "web-1_data" || spec.TaskTemplate.ContainerSpec.Labels[LabelSpecHash] != hash {
				t.Fatal("withVolumes modified the spec it was given")
			}
			if got.TaskTemplate.ContainerSpec.Mounts[0].Type != mount.TypeVolume {
				t.Fatal("mount type changed")
			}
		})
	}
	// The recomputed hash is the one a deploy of the switched spec computes.
	switched, _ := withVolumes(spec, map[string]string{"web-1_data": "web-1_data_r1"})
	direct := swarmSpec(ServiceSpec{Name: "web-1", Image: "web:1", Replicas: 2, Mounts: []Mount{
		{Type: MountVolume, Source: "web-1_data_r1", Target: "/data"},
		{Type: MountVolume, Source: "web-1_cache", Target: "/cache"},
		{Type: MountBind, Source: "/srv", Target: "/srv"},
	}}, nil, nil)
	if a, b := switched.TaskTemplate.ContainerSpec.Labels[LabelSpecHash], direct.TaskTemplate.ContainerSpec.Labels[LabelSpecHash]; a != b {
		t.Errorf("switched hash %s, a deploy of the same spec hashes %s", a, b)
	}
}
