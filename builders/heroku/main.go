// Command berth-builder-heroku is berth's Heroku buildpacks builder: it
// builds apps without a Dockerfile with the Cloud Native Buildpacks
// lifecycle of a Heroku builder image. berth starts it as a plugin; run it
// with the argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/builders/heroku/heroku"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(heroku.New()) }
