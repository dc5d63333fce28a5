// Command berth-notifier-ntfy is berth's ntfy notifier: it publishes each
// event to an ntfy topic. berth starts it as a plugin.
package main

import (
	"github.com/berth-dev/berth/notifiers/ntfy/ntfy"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(ntfy.New()) }
