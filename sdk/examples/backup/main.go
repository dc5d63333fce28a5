// Command backup is an example berth backup target that stores objects in a
// local directory. Build it with `go build`; berth runs it as a plugin.
package main

import "github.com/berth-dev/berth/sdk"

func main() { sdk.Serve(&Target{}) }
