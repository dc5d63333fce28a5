// Command berth-notifier-gotify is berth's Gotify notifier: it posts each
// event as a message to a Gotify server. berth starts it as a plugin.
package main

import (
	"github.com/berth-dev/berth/notifiers/gotify/gotify"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(gotify.New()) }
