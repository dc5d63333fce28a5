package swarm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
)

// Monitoring windows: how long Swarm watches a new task after it started
// (after it became healthy, when it has a health check) before it counts
// the update as done. Long enough to see a health check turn unhealthy,
// bounded so a deploy never waits for minutes.
const (
	minMonitor = 5 * time.Second
	maxMonitor = 60 * time.Second
	// A rollback restores a known-good version and continues past
	// failures: its window only delays "rollback completed".
	rollbackMonitor = time.Second
)

// Docker's health check defaults, used to size the monitoring window.
const (
	defaultHealthInterval = 30 * time.Second
	defaultHealthTimeout  = 30 * time.Second
	defaultHealthRetries  = 3
)

// swarmSpec translates s into the Swarm service spec berth submits. It is
// pure: configIDs maps each file's config name (see configName) to its Swarm
// config id, and imageHealth is the image's own health check (nil if none),
// which with s.HealthCheck sizes the window in which Swarm watches new tasks.
func swarmSpec(s ServiceSpec, configIDs map[string]string, imageHealth *container.HealthConfig) swarm.ServiceSpec {
	replicas := s.Replicas
	order := string(effectiveOrder(s))
	return swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: s.Name, Labels: serviceLabels(s)},
		TaskTemplate: taskTemplate(s, configIDs),
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		UpdateConfig: &swarm.UpdateConfig{
			Parallelism:     1,
			Order:           order,
			FailureAction:   swarm.UpdateFailureActionRollback,
			Monitor:         monitorPeriod(effectiveHealth(s, imageHealth)),
			MaxFailureRatio: 0,
		},
		// A rollback restores a version known to work: it keeps going when
		// a task fails (a paused rollback would leave a mixed service) and
		// uses the update's order, so a stop-first database is never run
		// twice on its volume.
		RollbackConfig: &swarm.UpdateConfig{
			Parallelism:     1,
			Order:           order,
			FailureAction:   swarm.UpdateFailureActionContinue,
			Monitor:         rollbackMonitor,
			MaxFailureRatio: 0,
		},
		EndpointSpec: endpointSpec(s.Ports),
	}
}

// effectiveOrder is the update order: start-first unless the spec asks for
// stop-first or publishes a fixed host-mode port, which a second task on the
// same node could not bind.
func effectiveOrder(s ServiceSpec) UpdateOrder {
	if s.UpdateOrder == UpdateStopFirst {
		return UpdateStopFirst
	}
	for _, p := range s.Ports {
		if p.Mode == PublishHost && p.Published != 0 {
			return UpdateStopFirst
		}
	}
	return UpdateStartFirst
}

// endpointSpec resolves tasks by DNS round-robin (tasks.<service>), which
// needs no IPVS, unless a port is published through the ingress routing
// mesh, which needs a virtual IP.
func endpointSpec(ports []Port) *swarm.EndpointSpec {
	ep := &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR}
	for _, p := range ports {
		mode := swarm.PortConfigPublishModeIngress
		if p.Mode == PublishHost {
			mode = swarm.PortConfigPublishModeHost
		} else {
			ep.Mode = swarm.ResolutionModeVIP
		}
		proto := swarm.PortConfigProtocolTCP
		if p.Protocol == UDP {
			proto = swarm.PortConfigProtocolUDP
		}
		ep.Ports = append(ep.Ports, swarm.PortConfig{
			Protocol:      proto,
			TargetPort:    uint32(p.Target),
			PublishedPort: uint32(p.Published),
			PublishMode:   mode,
		})
	}
	return ep
}

// effectiveHealth is the health check tasks run: the spec's, else the
// image's; nil when there is none or it is disabled.
func effectiveHealth(s ServiceSpec, imageHealth *container.HealthConfig) *container.HealthConfig {
	hc := imageHealth
	if s.HealthCheck != nil {
		hc = healthConfig(s.HealthCheck)
	}
	if hc == nil || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		return nil
	}
	return hc
}

// monitorPeriod is how long Swarm watches each new task: enough for a
// health check to fail Retries times in a row after the task first became
// healthy, within [minMonitor, maxMonitor].
func monitorPeriod(hc *container.HealthConfig) time.Duration {
	if hc == nil {
		return minMonitor
	}
	interval, timeout, retries := hc.Interval, hc.Timeout, hc.Retries
	if interval == 0 {
		interval = defaultHealthInterval
	}
	if timeout == 0 {
		timeout = defaultHealthTimeout
	}
	if retries == 0 {
		retries = defaultHealthRetries
	}
	d := interval*time.Duration(retries) + timeout
	return min(max(d, minMonitor), maxMonitor)
}

// specHash identifies a task template: tasks whose container carries it run
// that template.
func specHash(t swarm.TaskSpec) string {
	data, err := json.Marshal(t)
	if err != nil {
		panic("swarm: task spec does not encode: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}
