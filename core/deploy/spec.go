package deploy

import (
	"io/fs"
	"time"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// EnvironmentNetwork names the overlay network shared by one environment's
// services (apps reach each other there by service name).
func EnvironmentNetwork(instance string, a store.Application) string {
	return EnvironmentNetworkOf(instance, a.EnvironmentID)
}

// EnvironmentNetworkOf names environment env's overlay network (databases
// join it too, so applications reach them by service name).
func EnvironmentNetworkOf(instance string, env uuid.UUID) string {
	id := env.String()
	return instance + "-env-" + id[len(id)-12:]
}

// ServiceSpec translates an application into the Swarm service berth runs.
func ServiceSpec(instance, proxyNetwork string, a store.Application, d store.Deployment, image string, env map[string]string) swarm.ServiceSpec {
	spec := swarm.ServiceSpec{
		Name:         a.ServiceName,
		AppID:        a.ID.String(),
		DeploymentID: d.ID.String(),
		Image:        image,
		Env:          env,
		Replicas:     uint64(a.Replicas),
		Resources: swarm.Resources{
			CPULimit:          a.CPULimit,
			MemoryLimit:       int64(a.MemoryLimitMB) << 20,
			CPUReservation:    a.CPUReservation,
			MemoryReservation: int64(a.MemoryReservationMB) << 20,
		},
		RestartPolicy:   swarm.RestartPolicy{Condition: swarm.RestartCondition(a.RestartPolicy), Delay: 2 * time.Second},
		Placement:       a.Placement,
		Labels:          labels(instance, a.Labels),
		Networks:        []string{EnvironmentNetwork(instance, a), proxyNetwork},
		StopGracePeriod: a.StopGrace(),
		UpdateOrder:     swarm.UpdateStartFirst,
	}
	if len(a.Command) > 0 {
		spec.Args = a.Command
	}
	for _, m := range a.Mounts {
		spec.Mounts = append(spec.Mounts, swarm.Mount{Type: swarm.MountType(m.Type), Source: mountSource(a, m), Target: m.Target, ReadOnly: m.ReadOnly})
	}
	for _, f := range a.Files {
		spec.Files = append(spec.Files, swarm.File{Target: f.Target, Data: []byte(f.Content), Mode: fs.FileMode(f.Mode)})
	}
	for _, p := range a.Ports {
		proto := swarm.Protocol(p.Protocol)
		if proto == "" {
			proto = swarm.TCP
		}
		spec.Ports = append(spec.Ports, swarm.Port{Target: uint16(p.Target), Published: uint16(p.Published),
			Protocol: proto, Mode: swarm.PublishMode(p.Mode)})
	}
	if hc := a.HealthCheck; hc != nil && len(hc.Test) > 0 {
		spec.HealthCheck = &swarm.HealthCheck{Test: hc.Test, Interval: seconds(hc.IntervalSeconds),
			Timeout: seconds(hc.TimeoutSeconds), StartPeriod: seconds(hc.StartPeriodSeconds), Retries: hc.Retries}
	}
	return spec
}

// LabelInstance names the berth instance (BERTH_NAME) owning a service.
const LabelInstance = "dev.berth.instance"

func labels(instance string, user map[string]string) map[string]string {
	out := make(map[string]string, len(user)+1)
	for k, v := range user {
		out[k] = v
	}
	out[LabelInstance] = instance
	return out
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }
