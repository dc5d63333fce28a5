// Command berth-notifier-resend is berth's Resend notifier: it e-mails each
// event through the Resend API. berth starts it as a plugin.
package main

import (
	"github.com/berth-dev/berth/notifiers/resend/resend"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(resend.New()) }
