package swarm

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
)

func ptr[T any](v T) *T { return &v }

// fullSpec sets every ServiceSpec field.
func fullSpec() ServiceSpec {
	return ServiceSpec{
		Name:         "web",
		AppID:        "app1",
		DeploymentID: "dep7",
		Image:        "berth/web:3",
		Command:      []string{"/bin/server"},
		Args:         []string{"-v"},
		Env:          map[string]string{"B": "2", "A": "1=x"},
		Replicas:     3,
		Resources:    Resources{CPULimit: 1.5, MemoryLimit: 256 << 20, CPUReservation: 0.25, MemoryReservation: 64 << 20},
		Mounts: []Mount{
			{Type: MountVolume, Source: "data", Target: "/data"},
			{Type: MountBind, Source: "/srv/x", Target: "/x", ReadOnly: true},
			{Type: MountTmpfs, Target: "/tmp"},
		},
		Files: []File{
			{Target: "/etc/z.conf", Data: []byte("z")},
			{Target: "/etc/a.conf", Data: []byte("a"), Mode: 0o400},
		},
		Ports: []Port{
			{Target: 80, Published: 8080, Protocol: TCP, Mode: PublishIngress},
			{Target: 53, Published: 5353, Protocol: UDP, Mode: PublishHost},
		},
		HealthCheck:     &HealthCheck{Test: []string{"/app", "-healthcheck"}, Interval: 2 * time.Second, Timeout: time.Second, StartPeriod: 3 * time.Second, Retries: 4},
		RestartPolicy:   RestartPolicy{Condition: RestartOnFailure, MaxAttempts: 5, Delay: time.Second, Window: time.Minute},
		Placement:       []string{"node.role==manager"},
		Labels:          map[string]string{"team": "a", LabelAppID: "spoofed"},
		Networks:        []string{"env-net", "proxy"},
		StopGracePeriod: 20 * time.Second,
		UpdateOrder:     UpdateStopFirst,
	}
}

func fullSwarmSpec() swarm.ServiceSpec {
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: "web", Labels: map[string]string{
			"team": "a", LabelManaged: "true", LabelAppID: "app1", LabelDeploymentID: "dep7",
		}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image:   "berth/web:3",
				Labels:  map[string]string{LabelManaged: "true", LabelService: "web", LabelAppID: "app1"},
				Command: []string{"/bin/server"},
				Args:    []string{"-v"},
				Env:     []string{"A=1=x", "B=2"},
				Mounts: []mount.Mount{
					{Type: mount.TypeVolume, Source: "data", Target: "/data", VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{LabelManaged: "true", LabelAppID: "app1"}}},
					{Type: mount.TypeBind, Source: "/srv/x", Target: "/x", ReadOnly: true},
					{Type: mount.TypeTmpfs, Target: "/tmp"},
				},
				StopGracePeriod: ptr(20 * time.Second),
				Healthcheck:     &container.HealthConfig{Test: []string{"CMD", "/app", "-healthcheck"}, Interval: 2 * time.Second, Timeout: time.Second, StartPeriod: 3 * time.Second, Retries: 4},
				Configs: []*swarm.ConfigReference{
					{File: &swarm.ConfigReferenceFileTarget{Name: "/etc/a.conf", UID: "0", GID: "0", Mode: 0o400}, ConfigID: "id-a", ConfigName: configName("web", []byte("a"))},
					{File: &swarm.ConfigReferenceFileTarget{Name: "/etc/z.conf", UID: "0", GID: "0", Mode: 0o444}, ConfigID: "id-z", ConfigName: configName("web", []byte("z"))},
				},
			},
			Resources: &swarm.ResourceRequirements{
				Limits:       &swarm.Limit{NanoCPUs: 1_500_000_000, MemoryBytes: 256 << 20},
				Reservations: &swarm.Resources{NanoCPUs: 250_000_000, MemoryBytes: 64 << 20},
			},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionOnFailure, MaxAttempts: ptr(uint64(5)), Delay: ptr(time.Second), Window: ptr(time.Minute)},
			Placement:     &swarm.Placement{Constraints: []string{"node.role==manager"}},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: "env-net"}, {Target: "proxy"}},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: ptr(uint64(3))}},
		UpdateConfig: &swarm.UpdateConfig{
			Parallelism: 1, Order: "stop-first", FailureAction: "rollback",
			Monitor: 9 * time.Second, // 2s interval * 4 retries + 1s timeout
		},
		RollbackConfig: &swarm.UpdateConfig{Parallelism: 1, Order: "stop-first", FailureAction: "continue", Monitor: rollbackMonitor},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeVIP, Ports: []swarm.PortConfig{
			{Protocol: swarm.PortConfigProtocolTCP, TargetPort: 80, PublishedPort: 8080, PublishMode: swarm.PortConfigPublishModeIngress},
			{Protocol: swarm.PortConfigProtocolUDP, TargetPort: 53, PublishedPort: 5353, PublishMode: swarm.PortConfigPublishModeHost},
		}},
	}
}

func minimalSwarmSpec() swarm.ServiceSpec {
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: "api", Labels: map[string]string{LabelManaged: "true"}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image:  "berth/api:1",
				Labels: map[string]string{LabelManaged: "true", LabelService: "api"},
			},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny},
		},
		Mode:           swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: ptr(uint64(2))}},
		UpdateConfig:   &swarm.UpdateConfig{Parallelism: 1, Order: "start-first", FailureAction: "rollback", Monitor: minMonitor},
		RollbackConfig: &swarm.UpdateConfig{Parallelism: 1, Order: "start-first", FailureAction: "continue", Monitor: rollbackMonitor},
		EndpointSpec:   &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
}

func TestSwarmSpec(t *testing.T) {
	minimal := ServiceSpec{Name: "api", Image: "berth/api:1", Replicas: 2}
	imageCheck := &container.HealthConfig{Test: []string{"CMD", "/app", "-healthcheck"}, Interval: 10 * time.Second, Timeout: 5 * time.Second, Retries: 2}
	tests := []struct {
		name        string
		spec        ServiceSpec
		imageHealth *container.HealthConfig
		edit        func(*swarm.ServiceSpec) // applied to the expected spec
		base        func() swarm.ServiceSpec
	}{
		{name: "every field", spec: fullSpec(), base: fullSwarmSpec},
		{name: "defaults: dnsrr, start-first, restart any", spec: minimal, base: minimalSwarmSpec},
		{
			name: "image health check sizes the monitoring window",
			spec: minimal, imageHealth: imageCheck, base: minimalSwarmSpec,
			edit: func(s *swarm.ServiceSpec) { s.UpdateConfig.Monitor = 25 * time.Second },
		},
		{
			name: "slow health check is bounded",
			spec: minimal, imageHealth: &container.HealthConfig{Test: []string{"CMD", "x"}}, base: minimalSwarmSpec,
			edit: func(s *swarm.ServiceSpec) { s.UpdateConfig.Monitor = maxMonitor },
		},
		{
			name: "spec NONE disables the image's check",
			spec: with(minimal, func(s *ServiceSpec) { s.HealthCheck = &HealthCheck{Test: []string{"NONE"}} }), imageHealth: imageCheck, base: minimalSwarmSpec,
			edit: func(s *swarm.ServiceSpec) {
				s.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
			},
		},
		{
			name: "shell-form check kept as is",
			spec: with(minimal, func(s *ServiceSpec) {
				s.HealthCheck = &HealthCheck{Test: []string{"CMD-SHELL", "curl -f localhost"}, Interval: time.Second, Retries: 1}
			}), base: minimalSwarmSpec,
			edit: func(s *swarm.ServiceSpec) {
				s.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{Test: []string{"CMD-SHELL", "curl -f localhost"}, Interval: time.Second, Retries: 1}
				s.UpdateConfig.Monitor = 31 * time.Second // 1s*1 + default 30s timeout
			},
		},
		{
			name: "fixed host port forces stop-first, stays dnsrr",
			spec: with(minimal, func(s *ServiceSpec) { s.Ports = []Port{{Target: 5432, Published: 5432, Mode: PublishHost}} }), base: minimalSwarmSpec,
			edit: func(s *swarm.ServiceSpec) {
				s.UpdateConfig.Order, s.RollbackConfig.Order = "stop-first", "stop-first"
				s.EndpointSpec.Ports = []swarm.PortConfig{{Protocol: "tcp", TargetPort: 5432, PublishedPort: 5432, PublishMode: "host"}}
			},
		},
		{
			name: "ingress port needs a virtual IP",
			spec: with(minimal, func(s *ServiceSpec) { s.Ports = []Port{{Target: 80}} }), base: minimalSwarmSpec,
			edit: func(s *swarm.ServiceSpec) {
				s.EndpointSpec = &swarm.EndpointSpec{Mode: swarm.ResolutionModeVIP, Ports: []swarm.PortConfig{{Protocol: "tcp", TargetPort: 80, PublishMode: "ingress"}}}
			},
		},
		{
			name: "zero replicas stop the app",
			spec: with(minimal, func(s *ServiceSpec) { s.Replicas = 0 }), base: minimalSwarmSpec,
			edit: func(s *swarm.ServiceSpec) { s.Mode.Replicated.Replicas = ptr(uint64(0)) },
		},
	}
	hexHash := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := swarmSpec(tt.spec, map[string]string{configName("web", []byte("a")): "id-a", configName("web", []byte("z")): "id-z"}, tt.imageHealth)
			hash := got.TaskTemplate.ContainerSpec.Labels[LabelSpecHash]
			if !hexHash.MatchString(hash) {
				t.Fatalf("spec hash label = %q", hash)
			}
			delete(got.TaskTemplate.ContainerSpec.Labels, LabelSpecHash)
			if h := specHash(got.TaskTemplate); h != hash {
				t.Errorf("spec hash %s is not the hash of the template without it (%s)", hash, h)
			}
			want := tt.base()
			if tt.edit != nil {
				tt.edit(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("swarm spec mismatch\n got: %s\nwant: %s", asJSON(got), asJSON(want))
			}
		})
	}
}

func TestSpecHashIgnoresServiceLevelChanges(t *testing.T) {
	base := fullSpec()
	hash := func(s ServiceSpec) string {
		return swarmSpec(s, nil, nil).TaskTemplate.ContainerSpec.Labels[LabelSpecHash]
	}
	tests := []struct {
		name    string
		edit    func(*ServiceSpec)
		changes bool
	}{
		{"replicas", func(s *ServiceSpec) { s.Replicas = 9 }, false},
		{"deployment id", func(s *ServiceSpec) { s.DeploymentID = "dep8" }, false},
		{"service labels", func(s *ServiceSpec) { s.Labels = nil }, false},
		{"update order", func(s *ServiceSpec) { s.UpdateOrder = UpdateStartFirst }, false},
		{"image", func(s *ServiceSpec) { s.Image = "berth/web:4" }, true},
		{"env", func(s *ServiceSpec) { s.Env = map[string]string{"A": "2"} }, true},
		{"file content", func(s *ServiceSpec) { s.Files[0].Data = []byte("zz") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fullSpec()
			s.Files = append([]File(nil), base.Files...)
			tt.edit(&s)
			if changed := hash(s) != hash(base); changed != tt.changes {
				t.Errorf("hash changed = %t, want %t", changed, tt.changes)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := ServiceSpec{Name: "a", Image: "i"}
	tests := []struct {
		name string
		edit func(*ServiceSpec)
		want string // "" = valid
	}{
		{"valid", func(*ServiceSpec) {}, ""},
		{"full spec", func(s *ServiceSpec) { *s = fullSpec() }, ""},
		{"no name", func(s *ServiceSpec) { s.Name = "" }, "name is required"},
		{"no image", func(s *ServiceSpec) { s.Image = "" }, "image is required"},
		{"bad order", func(s *ServiceSpec) { s.UpdateOrder = "sideways" }, "update order"},
		{"negative cpu", func(s *ServiceSpec) { s.Resources.CPULimit = -1 }, "negative"},
		{"bad env", func(s *ServiceSpec) { s.Env = map[string]string{"A=B": "x"} }, "environment variable"},
		{"relative mount", func(s *ServiceSpec) { s.Mounts = []Mount{{Type: MountTmpfs, Target: "tmp"}} }, "absolute"},
		{"anonymous volume", func(s *ServiceSpec) { s.Mounts = []Mount{{Type: MountVolume, Target: "/d"}} }, "volume name"},
		{"relative bind", func(s *ServiceSpec) { s.Mounts = []Mount{{Type: MountBind, Source: "x", Target: "/d"}} }, "host path"},
		{"tmpfs source", func(s *ServiceSpec) { s.Mounts = []Mount{{Type: MountTmpfs, Source: "x", Target: "/d"}} }, "no source"},
		{"mount type", func(s *ServiceSpec) { s.Mounts = []Mount{{Type: "nfs", Target: "/d"}} }, "mount type"},
		{"file target", func(s *ServiceSpec) { s.Files = []File{{Target: "x"}} }, "file target"},
		{"big file", func(s *ServiceSpec) { s.Files = []File{{Target: "/x", Data: make([]byte, maxFileSize+1)}} }, "more than"},
		{"port target", func(s *ServiceSpec) { s.Ports = []Port{{}} }, "port target"},
		{"port protocol", func(s *ServiceSpec) { s.Ports = []Port{{Target: 1, Protocol: "sctp"}} }, "protocol"},
		{"port mode", func(s *ServiceSpec) { s.Ports = []Port{{Target: 1, Mode: "vip"}} }, "mode"},
		{"empty check", func(s *ServiceSpec) { s.HealthCheck = &HealthCheck{} }, "health check"},
		{"restart", func(s *ServiceSpec) { s.RestartPolicy.Condition = "always" }, "restart condition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			err := s.validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !regexp.MustCompile(regexp.QuoteMeta(tt.want)).MatchString(err.Error())):
				t.Fatalf("error = %v, want one mentioning %q", err, tt.want)
			case err != nil && !errors.Is(err, ErrInvalidSpec):
				t.Fatalf("error %v does not wrap ErrInvalidSpec", err)
			}
		})
	}
}

func with(s ServiceSpec, edit func(*ServiceSpec)) ServiceSpec {
	edit(&s)
	return s
}

func asJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
