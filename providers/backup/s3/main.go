// Command berth-backup-s3 is berth's S3 backup target: it stores backups in
// a bucket of Amazon S3 or any S3-compatible service. berth starts it as a
// plugin; run it with the argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/providers/backup/s3/s3"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(s3.New()) }
