// Command notifier is an example berth notifier that POSTs each event as JSON
// to a URL. Build it with `go build`; berth runs it as a plugin.
package main

import "github.com/berth-dev/berth/sdk"

func main() { sdk.Serve(&Webhook{client: defaultClient}) }
