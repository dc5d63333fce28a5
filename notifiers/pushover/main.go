// Command berth-notifier-pushover is berth's Pushover notifier: it sends
// each event as a Pushover message. berth starts it as a plugin.
package main

import (
	"github.com/berth-dev/berth/notifiers/pushover/pushover"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(pushover.New()) }
