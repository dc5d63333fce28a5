// Command berth-git-gitea is berth's Gitea provider (self-hosted Gitea and
// gitea.com; Forgejo speaks the same API). berth starts it as a plugin; run
// it with the argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/providers/git/gitea/gitea"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(gitea.New()) }
