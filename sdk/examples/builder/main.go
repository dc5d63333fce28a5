// Command builder is an example berth builder for static sites: it detects
// an index.html and builds the site. Build it with `go build`; berth runs it
// as a plugin.
package main

import "github.com/berth-dev/berth/sdk"

func main() { sdk.Serve(&Static{}) }
