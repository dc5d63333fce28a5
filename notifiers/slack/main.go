// Command berth-notifier-slack is berth's Slack notifier: it posts events to
// a Slack incoming webhook as Block Kit messages. berth starts it as a
// plugin; run it with the argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/notifiers/slack/slack"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(slack.New()) }
