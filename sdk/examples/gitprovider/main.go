// Command gitprovider is an example berth git provider that fetches with the
// system git from local paths and git URLs. Build it with `go build`; berth
// runs it as a plugin.
package main

import "github.com/berth-dev/berth/sdk"

func main() { sdk.Serve(&Local{}) }
