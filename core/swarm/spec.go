package swarm

import (
	"io/fs"
	"time"
)

// ServiceSpec is the desired state of one application's Swarm service. Deploy
// applies it whole: fields left empty are removed from the service.
type ServiceSpec struct {
	// Name is the Swarm service name, unique in the cluster.
	Name string
	// AppID and DeploymentID are recorded as dev.berth.* labels.
	AppID        string
	DeploymentID string
	// Image is a local image reference built by berth; it is never pulled.
	Image string
	// Command overrides the image's entrypoint when not empty.
	Command []string
	// Args overrides the image's command when not empty.
	Args []string
	// Env is the resolved environment, applied sorted by name.
	Env map[string]string
	// Replicas is the number of tasks; zero stops the application but keeps
	// the service.
	Replicas uint64
	// Resources are CPU and memory limits and reservations.
	Resources Resources
	// Mounts are volumes, bind mounts and tmpfs mounts.
	Mounts []Mount
	// Files are small files mounted read-only, stored as Swarm configs.
	Files []File
	// Ports are published ports.
	Ports []Port
	// HealthCheck overrides the image's health check; nil keeps the image's.
	HealthCheck *HealthCheck
	// RestartPolicy says when Swarm restarts a task that exited.
	RestartPolicy RestartPolicy
	// Placement holds Swarm placement constraints, e.g. "node.role==manager".
	Placement []string
	// Labels are extra service labels; dev.berth.* labels are berth's own
	// and always win.
	Labels map[string]string
	// Networks are the overlay networks the tasks join.
	Networks []string
	// StopGracePeriod is how long a task has to stop before it is killed;
	// zero keeps Swarm's default (10s).
	StopGracePeriod time.Duration
	// UpdateOrder is UpdateStartFirst (the default, zero downtime) or
	// UpdateStopFirst (for databases, which must never run twice at once).
	UpdateOrder UpdateOrder
}

// UpdateOrder says whether a new task starts before or after the old one
// stops.
type UpdateOrder string

// Update orders.
const (
	UpdateStartFirst UpdateOrder = "start-first"
	UpdateStopFirst  UpdateOrder = "stop-first"
)

// Resources are a task's CPU (in cores) and memory (in bytes) limits and
// reservations; zero means none.
type Resources struct {
	CPULimit          float64
	MemoryLimit       int64
	CPUReservation    float64
	MemoryReservation int64
}

// MountType is the kind of a Mount.
type MountType string

// Mount types.
const (
	MountVolume MountType = "volume"
	MountBind   MountType = "bind"
	MountTmpfs  MountType = "tmpfs"
)

// Mount attaches storage at Target. Source is the volume name for a volume
// (named volumes get berth's labels when Swarm creates them), the host path
// for a bind mount, and empty for tmpfs.
type Mount struct {
	Type     MountType
	Source   string
	Target   string
	ReadOnly bool
}

// File is a small file (at most 500 KB) mounted read-only at Target. Its
// content is stored in a Swarm config named after its hash.
type File struct {
	Target string
	Data   []byte
	// Mode defaults to 0444.
	Mode fs.FileMode
}

// Protocol is a published port's transport protocol.
type Protocol string

// Protocols.
const (
	TCP Protocol = "tcp"
	UDP Protocol = "udp"
)

// PublishMode says how a port is published.
type PublishMode string

// Publish modes.
const (
	// PublishIngress uses Swarm's routing mesh (needs IPVS on the host and
	// switches the service to a virtual IP endpoint).
	PublishIngress PublishMode = "ingress"
	// PublishHost binds the port on the node running the task. Two tasks
	// cannot hold it on one node, so updates of such a service are
	// stop-first.
	PublishHost PublishMode = "host"
)

// Port publishes container port Target. Protocol defaults to TCP and Mode to
// PublishIngress; Published zero lets Swarm choose (ingress only).
type Port struct {
	Target    uint16
	Published uint16
	Protocol  Protocol
	Mode      PublishMode
}

// HealthCheck is a container health check. Test is in exec form: a leading
// "CMD" is added unless it starts with "CMD", "CMD-SHELL" or "NONE" ("NONE"
// disables the image's check). Zero durations and retries take Docker's
// defaults (30s, 30s, 0s, 3).
type HealthCheck struct {
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}

// RestartCondition says when Swarm restarts an exited task.
type RestartCondition string

// Restart conditions.
const (
	RestartAny       RestartCondition = "any"
	RestartOnFailure RestartCondition = "on-failure"
	RestartNone      RestartCondition = "none"
)

// RestartPolicy configures restarts. Condition defaults to RestartAny;
// zero MaxAttempts means unlimited; zero Delay and Window keep Swarm's
// defaults (5s, unbounded).
type RestartPolicy struct {
	Condition   RestartCondition
	MaxAttempts uint64
	Delay       time.Duration
	Window      time.Duration
}
