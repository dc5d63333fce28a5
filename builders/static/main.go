// Command berth-builder-static is berth's static site builder. berth starts
// it as a plugin; run it with the argument "describe" to print its
// self-description. The same binary is the web server of the images it
// builds: "serve" runs the server and "healthcheck" probes it.
package main

import (
	"os"

	"github.com/berth-dev/berth/builders/static/server"
	"github.com/berth-dev/berth/builders/static/static"
	"github.com/berth-dev/berth/sdk"
)

func main() {
	if len(os.Args) > 1 && server.IsCommand(os.Args[1]) {
		os.Exit(server.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	sdk.Serve(static.New())
}
