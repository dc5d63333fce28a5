// Command berth-notifier-telegram is berth's Telegram notifier: a bot sends
// events to a chat. berth starts it as a plugin; run it with the argument
// "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/notifiers/telegram/telegram"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(telegram.New()) }
