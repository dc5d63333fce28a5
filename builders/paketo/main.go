// Command berth-builder-paketo is berth's Paketo buildpacks builder: it
// builds apps without a Dockerfile with the Cloud Native Buildpacks
// lifecycle of a Paketo builder image. berth starts it as a plugin; run it
// with the argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/builders/paketo/paketo"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(paketo.New()) }
