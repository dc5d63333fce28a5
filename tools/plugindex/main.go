// Command plugindex generates berth's plugin index from built plugin
// binaries: it runs each binary with the argument "describe", records the
// description and the binary's sha256, and writes the index atomically,
// sorted by plugin id, with paths relative to the index file.
//
//	go run ./tools/plugindex -o plugin-index.json bin/plugins
//
// Arguments are binaries or directories (every executable file directly
// inside). The index is generated, never edited by hand: rebuild a plugin,
// then run this again.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/berth-dev/berth/plugins/index"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command with its arguments and output streams; it returns the
// exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", index.FileName, "index file to write")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: plugindex [-o %s] BINARY|DIR...\n", index.FileName)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	ix, err := index.Generate(ctx, *out, fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "plugindex: %v\n", err)
		return 1
	}
	for _, e := range ix.Plugins {
		fmt.Fprintf(stdout, "%-24s %-10s %s\n", e.ID, e.Version, e.Path)
	}
	fmt.Fprintf(stdout, "plugindex: wrote %d plugin(s) to %s\n", len(ix.Plugins), *out)
	return 0
}
