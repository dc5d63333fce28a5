// Command berth-notifier-teams is berth's Microsoft Teams notifier: it posts
// each event as an Adaptive Card to a Teams Workflows webhook. berth starts
// it as a plugin.
package main

import (
	"github.com/berth-dev/berth/notifiers/teams/teams"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(teams.New()) }
