// Command berth-backup-local is berth's local backup target: it stores
// backups as files in a directory on the berth server. berth starts it as a
// plugin; run it with the argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/providers/backup/local/local"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(local.New()) }
