// Command berth-notifier-email is berth's e-mail notifier: it sends each
// event over SMTP. berth starts it as a plugin.
package main

import (
	"github.com/berth-dev/berth/notifiers/email/email"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(email.New()) }
