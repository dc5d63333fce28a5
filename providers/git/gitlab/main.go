// Command berth-git-gitlab is berth's GitLab git provider (gitlab.com and
// self-managed instances). berth starts it as a plugin; run it with the
// argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/providers/git/gitlab/gitlab"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(gitlab.New()) }
