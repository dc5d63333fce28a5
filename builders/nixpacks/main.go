// Command berth-builder-nixpacks is berth's Nixpacks builder: it runs an
// operator-installed nixpacks binary to turn an app without a Dockerfile
// into a Dockerfile, and builds that on the Docker Engine berth gives it.
// berth starts it as a plugin; run it with the argument "describe" to print
// its self-description.
package main

import (
	"github.com/berth-dev/berth/builders/nixpacks/nixpacks"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(nixpacks.New()) }
