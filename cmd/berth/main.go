// Command berth is the berth server and its command-line client.
//
//	berth server            run the server (see docs/configuration.md)
//	berth login ...         CLI verbs; `berth help` lists them
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/berth-dev/berth/cmd/berth/cli"
	"github.com/berth-dev/berth/core/pages"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	if len(args) > 0 {
		switch args[0] {
		case "server":
			os.Exit(runServer(ctx, args[1:]))
		case "pages":
			// Hidden: the maintenance page server berth runs in the
			// <instance>-pages Swarm service (core/pages).
			if err := pages.Serve(ctx, ":"+strconv.Itoa(pages.Port)); err != nil {
				fmt.Fprintln(os.Stderr, "berth:", err)
				os.Exit(1)
			}
			return
		case "version", "--version":
			fmt.Println("berth", version)
			return
		}
	}
	env := &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := cli.Run(ctx, env, args); err != nil {
		fmt.Fprintln(os.Stderr, "berth:", err)
		os.Exit(cli.Code(err))
	}
}
