// Command berth-git-bitbucket is berth's Bitbucket Cloud git provider.
// berth starts it as a plugin; run it with the argument "describe" to print
// its self-description.
package main

import (
	"github.com/berth-dev/berth/providers/git/bitbucket/bitbucket"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(bitbucket.New()) }
