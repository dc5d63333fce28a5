// Command berth-notifier-mattermost is berth's Mattermost notifier: it posts
// events to a Mattermost incoming webhook. berth starts it as a plugin; run
// it with the argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/notifiers/mattermost/mattermost"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(mattermost.New()) }
