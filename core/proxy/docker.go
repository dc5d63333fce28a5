package proxy

import (
	"context"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DockerAPI is the part of the Docker Engine client the Traefik manager
// uses; *client.Client implements it. Each method is the client method of
// the same name.
type DockerAPI interface {
	// NetworkInspect returns a network by name or ID.
	NetworkInspect(ctx context.Context, networkID string, options network.InspectOptions) (network.Inspect, error)
	// NetworkCreate creates a network.
	NetworkCreate(ctx context.Context, name string, options network.CreateOptions) (network.CreateResponse, error)
	// NetworkRemove removes a network.
	NetworkRemove(ctx context.Context, networkID string) error
	// ImageInspect returns a local image.
	ImageInspect(ctx context.Context, imageID string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	// ContainerInspect returns a container by name or ID.
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	// ContainerCreate creates a container.
	ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, containerName string) (container.CreateResponse, error)
	// ContainerStart starts a container.
	ContainerStart(ctx context.Context, containerID string, options container.StartOptions) error
	// ContainerStop stops a container.
	ContainerStop(ctx context.Context, containerID string, options container.StopOptions) error
	// ContainerRemove removes a container.
	ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error
	// ContainerLogs streams a container's logs.
	ContainerLogs(ctx context.Context, containerID string, options container.LogsOptions) (io.ReadCloser, error)
	// VolumeRemove removes a volume.
	VolumeRemove(ctx context.Context, volumeID string, force bool) error
}
