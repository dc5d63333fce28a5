// Command berth-notifier-lark is berth's Lark (Feishu) notifier: it posts
// each event to a Lark custom bot webhook. berth starts it as a plugin.
package main

import (
	"github.com/berth-dev/berth/notifiers/lark/lark"
	"github.com/berth-dev/berth/sdk"
)

func main() { sdk.Serve(lark.New()) }
