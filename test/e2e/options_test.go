package e2e_test

import (
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// serviceListOptions selects the services of one berth instance.
func serviceListOptions(instance string) swarm.ServiceListOptions {
	return swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", "dev.berth.instance="+instance))}
}
