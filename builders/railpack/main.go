// Command berth-builder-railpack is berth's Railpack builder: it plans an
// app with Railpack and builds the plan with BuildKit into the Docker Engine
// berth gives it. berth starts it as a plugin; run it with the argument
// "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/builders/railpack/railpack"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(railpack.New()) }
