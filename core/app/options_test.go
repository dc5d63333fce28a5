package app_test

import "github.com/docker/docker/api/types/container"

func containerRemoveOptions() container.RemoveOptions {
	return container.RemoveOptions{Force: true, RemoveVolumes: true}
}
