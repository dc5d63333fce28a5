// Command berth-notifier-discord is berth's Discord notifier: it posts
// events to a Discord channel webhook as embeds. berth starts it as a
// plugin; run it with the argument "describe" to print its self-description.
package main

import (
	"github.com/berth-dev/berth/notifiers/discord/discord"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(discord.New()) }
