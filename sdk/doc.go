// Package sdk is the public contract between berth and its plugins.
//
// A berth plugin is a separate executable that berth launches on demand and
// talks to over gRPC (HashiCorp go-plugin). A plugin is one of four kinds,
// each a small Go interface with Go-native request and response types:
//
//   - [Builder]: detect a source tree and build it into a container image.
//   - [GitProvider]: fetch code, list repositories and branches, parse
//     webhooks and report commit statuses.
//   - [BackupTarget]: store, fetch, list and delete backup objects.
//   - [Notifier]: deliver typed events to people.
//
// Every kind embeds the base [Plugin] interface: Info, ConfigSchema and
// Configure. Every method has the shape
//
//	Method(ctx context.Context, req *MethodRequest) (*MethodResponse, error)
//
// so fields can be added to requests and responses without breaking anyone,
// and ctx is cancelled when berth gives up on the call.
//
// A plugin's main function is one line:
//
//	func main() { sdk.Serve(&MyNotifier{}) }
//
// Embed the matching Unimplemented type (for example [UnimplementedNotifier])
// so that methods added to an interface later keep your plugin compiling.
// Every plugin binary answers the argument "describe" by printing its
// [Description] as JSON; berth's plugin index is generated from it.
//
// The wire types live in an internal package: plugins and berth only see the
// types declared here. Package plugintest holds an in-process harness and a
// conformance suite per kind for plugin authors' own tests.
package sdk
