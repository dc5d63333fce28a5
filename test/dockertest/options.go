package dockertest

import (
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"
)

func imageRemoveOptions() image.RemoveOptions {
	return image.RemoveOptions{Force: true, PruneChildren: true}
}

// swarmCreateOptions never queries a registry: none is reachable here, and
// images are local.
func swarmCreateOptions() swarm.ServiceCreateOptions {
	return swarm.ServiceCreateOptions{QueryRegistry: false}
}

func labelFilter(key, value string) filters.Args {
	return filters.NewArgs(filters.Arg("label", key+"="+value))
}
