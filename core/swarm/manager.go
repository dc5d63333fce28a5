package swarm

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// DockerAPI is the part of the Docker Engine API the Manager uses;
// *client.Client implements it.
type DockerAPI interface {
	ServiceCreate(ctx context.Context, spec swarm.ServiceSpec, opts swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error)
	ServiceUpdate(ctx context.Context, serviceID string, version swarm.Version, spec swarm.ServiceSpec, opts swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error)
	ServiceInspectWithRaw(ctx context.Context, serviceID string, opts swarm.ServiceInspectOptions) (swarm.Service, []byte, error)
	ServiceRemove(ctx context.Context, serviceID string) error
	ServiceList(ctx context.Context, opts swarm.ServiceListOptions) ([]swarm.Service, error)
	TaskList(ctx context.Context, opts swarm.TaskListOptions) ([]swarm.Task, error)

	ConfigCreate(ctx context.Context, spec swarm.ConfigSpec) (swarm.ConfigCreateResponse, error)
	ConfigInspectWithRaw(ctx context.Context, id string) (swarm.Config, []byte, error)
	ConfigList(ctx context.Context, opts swarm.ConfigListOptions) ([]swarm.Config, error)
	ConfigRemove(ctx context.Context, id string) error

	NetworkCreate(ctx context.Context, name string, opts network.CreateOptions) (network.CreateResponse, error)
	NetworkInspect(ctx context.Context, networkID string, opts network.InspectOptions) (network.Inspect, error)

	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ContainerList(ctx context.Context, opts container.ListOptions) ([]container.Summary, error)
	ContainerLogs(ctx context.Context, containerID string, opts container.LogsOptions) (io.ReadCloser, error)
	ImageInspect(ctx context.Context, imageID string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
}

// Manager creates, rolls out, inspects and removes berth's Swarm services.
// It is safe for concurrent use on different services.
type Manager struct {
	docker DockerAPI
	log    *slog.Logger
	// poll is how often task states are read while waiting.
	poll time.Duration
	// restoreTimeout bounds the wait for a rollback (or scale-down) that
	// restores the previous version after a failed or cancelled deploy.
	restoreTimeout time.Duration
}

// NewManager returns a Manager using docker; log may be nil.
func NewManager(docker DockerAPI, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{docker: docker, log: log, poll: 100 * time.Millisecond, restoreTimeout: 3 * time.Minute}
}

// createOptions never queries a registry: images are built locally.
func createOptions() swarm.ServiceCreateOptions {
	return swarm.ServiceCreateOptions{QueryRegistry: false}
}

func updateOptions() swarm.ServiceUpdateOptions {
	return swarm.ServiceUpdateOptions{QueryRegistry: false}
}

func rollbackOptions() swarm.ServiceUpdateOptions {
	return swarm.ServiceUpdateOptions{QueryRegistry: false, Rollback: "previous"}
}

var _ DockerAPI = (*client.Client)(nil)
