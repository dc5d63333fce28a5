// Command berth-git-github is berth's GitHub provider (github.com and
// GitHub Enterprise Server). berth starts it as a plugin; run it with the
// argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/providers/git/github/github"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(github.New()) }
