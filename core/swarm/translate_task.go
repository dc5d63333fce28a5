package swarm

import (
	"sort"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
)

// defaultFileMode is the mode of a File that gives none.
const defaultFileMode = 0o444

// taskTemplate is the spec of each task, its container labelled with the
// hash of the rest of it.
func taskTemplate(s ServiceSpec, configIDs map[string]string) swarm.TaskSpec {
	cs := &swarm.ContainerSpec{
		Image:       s.Image,
		Labels:      containerLabels(s),
		Command:     s.Command,
		Args:        s.Args,
		Env:         envList(s.Env),
		Mounts:      mounts(s),
		Healthcheck: healthConfig(s.HealthCheck),
		Configs:     configRefs(s, configIDs),
	}
	if s.StopGracePeriod > 0 {
		d := s.StopGracePeriod
		cs.StopGracePeriod = &d
	}
	t := swarm.TaskSpec{
		ContainerSpec: cs,
		Resources:     resources(s.Resources),
		RestartPolicy: restartPolicy(s.RestartPolicy),
		Networks:      networks(s.Networks),
	}
	if len(s.Placement) > 0 {
		t.Placement = &swarm.Placement{Constraints: s.Placement}
	}
	cs.Labels[LabelSpecHash] = specHash(t)
	return t
}

// envList is env as sorted NAME=value pairs.
func envList(env map[string]string) []string {
	if len(env) == 0 {
		return nil
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func mounts(s ServiceSpec) []mount.Mount {
	var out []mount.Mount
	for _, m := range s.Mounts {
		mm := mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		if m.Type == MountVolume {
			mm.VolumeOptions = &mount.VolumeOptions{Labels: volumeLabels(s)}
		}
		out = append(out, mm)
	}
	return out
}

// healthConfig translates a spec health check to Docker's, in exec form.
func healthConfig(h *HealthCheck) *container.HealthConfig {
	if h == nil {
		return nil
	}
	test := h.Test
	switch test[0] {
	case "CMD", "CMD-SHELL", "NONE":
	default:
		test = append([]string{"CMD"}, test...)
	}
	return &container.HealthConfig{
		Test:        test,
		Interval:    h.Interval,
		Timeout:     h.Timeout,
		StartPeriod: h.StartPeriod,
		Retries:     h.Retries,
	}
}

// configRefs mounts each file from its config, sorted by target.
func configRefs(s ServiceSpec, configIDs map[string]string) []*swarm.ConfigReference {
	var out []*swarm.ConfigReference
	for _, f := range s.Files {
		name := configName(s.Name, f.Data)
		mode := f.Mode
		if mode == 0 {
			mode = defaultFileMode
		}
		out = append(out, &swarm.ConfigReference{
			File:       &swarm.ConfigReferenceFileTarget{Name: f.Target, UID: "0", GID: "0", Mode: mode},
			ConfigID:   configIDs[name],
			ConfigName: name,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File.Name < out[j].File.Name })
	return out
}

// nanoCPUs converts cores to Swarm's billionths of a core.
func nanoCPUs(cores float64) int64 { return int64(cores * 1e9) }

func resources(r Resources) *swarm.ResourceRequirements {
	if r == (Resources{}) {
		return nil
	}
	out := &swarm.ResourceRequirements{}
	if r.CPULimit > 0 || r.MemoryLimit > 0 {
		out.Limits = &swarm.Limit{NanoCPUs: nanoCPUs(r.CPULimit), MemoryBytes: r.MemoryLimit}
	}
	if r.CPUReservation > 0 || r.MemoryReservation > 0 {
		out.Reservations = &swarm.Resources{NanoCPUs: nanoCPUs(r.CPUReservation), MemoryBytes: r.MemoryReservation}
	}
	return out
}

func restartPolicy(p RestartPolicy) *swarm.RestartPolicy {
	cond := p.Condition
	if cond == "" {
		cond = RestartAny
	}
	out := &swarm.RestartPolicy{Condition: swarm.RestartPolicyCondition(cond)}
	if p.MaxAttempts > 0 {
		n := p.MaxAttempts
		out.MaxAttempts = &n
	}
	if p.Delay > 0 {
		d := p.Delay
		out.Delay = &d
	}
	if p.Window > 0 {
		w := p.Window
		out.Window = &w
	}
	return out
}

func networks(names []string) []swarm.NetworkAttachmentConfig {
	var out []swarm.NetworkAttachmentConfig
	for _, n := range names {
		out = append(out, swarm.NetworkAttachmentConfig{Target: n})
	}
	return out
}
