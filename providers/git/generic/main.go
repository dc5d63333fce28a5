// Command berth-git-generic is berth's git provider for any git host: it
// clones over https (token or password), ssh (deploy key) and from local
// repositories with the system git. berth starts it as a plugin; run it
// with the argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/providers/git/generic/generic"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(generic.New()) }
