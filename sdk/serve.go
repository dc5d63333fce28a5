package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// DescribeArg is the command-line argument that makes a plugin binary print
// its Description as JSON on stdout and exit.
const DescribeArg = "describe"

// pluginLogger writes hclog JSON to the process's real stderr, which berth
// reads and re-logs under the plugin's id. It is created before go-plugin
// redirects os.Stderr.
var pluginLogger = hclog.New(&hclog.LoggerOptions{
	Level:      hclog.Debug,
	Output:     os.Stderr,
	JSONFormat: true,
})

// Logger returns the plugin's logger. Its lines show up in berth's log under
// the plugin's id. Plugins log through it and never write to stdout, which
// belongs to the plugin protocol.
func Logger() hclog.Logger { return pluginLogger }

// Serve runs impl as a berth plugin and does not return until berth stops
// the plugin. It is the whole of a plugin's main function:
//
//	func main() { sdk.Serve(&MyBuilder{}) }
//
// Run with the argument "describe", the binary prints its Description as JSON
// on stdout and exits; that is how berth's plugin index is built. Run any
// other way outside berth, it explains that it is a plugin and exits with
// status 1.
func Serve(impl Plugin) {
	if len(os.Args) > 1 && os.Args[1] == DescribeArg {
		os.Exit(describeMain(context.Background(), impl, os.Stdout, os.Stderr))
	}
	set, err := ServerPluginSet(context.Background(), impl)
	if err != nil {
		pluginLogger.Error("cannot serve plugin", "error", err.Error())
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: set},
		GRPCServer:       GRPCServer,
		Logger:           pluginLogger,
	})
}

// describeMain prints impl's Description and returns the exit status.
func describeMain(ctx context.Context, impl Plugin, stdout, stderr io.Writer) int {
	d, err := Describe(ctx, impl)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
