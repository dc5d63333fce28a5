// Command berth-notifier-webhook is berth's generic webhook notifier: it
// POSTs every event as a signed JSON document to a URL. berth starts it as a
// plugin; run it with the argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/notifiers/webhook/webhook"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(webhook.New()) }
