// Package paketo implements berth's Paketo buildpacks builder (id
// builder.paketo, build_type "paketo"): the Cloud Native Buildpacks
// lifecycle of a Paketo builder image (default
// paketobuildpacks/builder-jammy-base, whose run image is
// paketobuildpacks/run-jammy-base unless the app overrides it) builds the
// app without a Dockerfile. Paketo's conventions apply: buildpacks are
// configured with BP_* build environment variables (BP_NODE_VERSION,
// BP_GO_TARGETS, BP_JVM_VERSION, ...), set in the app's build_env.
//
// The engine is package cnb, shared with the Heroku builder.
package paketo

import "github.com/berth-dev/berth/builders/internal/cnb"

// ID is the plugin id.
const ID = "builder.paketo"

// DefaultBuilder is the builder image apps use unless told otherwise.
const DefaultBuilder = "paketobuildpacks/builder-jammy-base"

// New returns the plugin.
func New() *cnb.Builder {
	return cnb.NewBuilder(cnb.Flavor{
		ID:             ID,
		Version:        "1.0.0",
		Name:           "Paketo buildpacks",
		Description:    "Builds apps without a Dockerfile with Paketo's Cloud Native Buildpacks (builder paketobuildpacks/builder-jammy-base by default): Java, Node.js, Go, Python, Ruby, PHP, .NET, NGINX; configured with BP_* build variables.",
		DefaultBuilder: DefaultBuilder,
		Trusted:        []string{"paketobuildpacks/builder-*", "paketobuildpacks/builder:*"},
		Markers:        cnb.CommonMarkers,
	})
}
