// Command berth-builder-dockerfile is berth's Dockerfile builder: it builds
// an app's Dockerfile on the Docker Engine berth gives it. berth starts it as
// a plugin; run it with the argument "describe" to print its
// self-description.
package main

import (
	"github.com/berth-dev/berth/builders/dockerfile/dockerfile"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(dockerfile.New()) }
