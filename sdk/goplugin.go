package sdk

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/berth-dev/berth/sdk/internal/pluginv1"
)

// Handshake is the go-plugin handshake shared by berth and every plugin. The
// magic cookie only tells a plugin binary it was launched by berth; it is
// not a security measure.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "BERTH_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "4f1c8f7e2b9a4e0c9d3b7a61e5c2d8f0",
}

// grpcPlugin is the go-plugin glue of one plugin kind: it registers the
// gRPC services of impl in a plugin process, and builds a typed client in
// the host.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	kind Kind
	impl Plugin // nil on the host side
}

// GRPCServer registers impl's services.
func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	return register(s, p.kind, p.impl)
}

// GRPCClient returns a client implementing the kind's interface.
func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return newClient(p.kind, cc)
}

// register registers the base service and the service of kind on s.
func register(s *grpc.Server, kind Kind, impl Plugin) error {
	pb.RegisterPluginServer(s, &baseServer{impl: impl})
	switch kind {
	case KindBuilder:
		b, ok := impl.(Builder)
		if !ok {
			return fmt.Errorf("plugin of kind %s does not implement sdk.Builder: %w", kind, ErrInvalidArgument)
		}
		pb.RegisterBuilderServer(s, &builderServer{impl: b})
	case KindGit:
		g, ok := impl.(GitProvider)
		if !ok {
			return fmt.Errorf("plugin of kind %s does not implement sdk.GitProvider: %w", kind, ErrInvalidArgument)
		}
		pb.RegisterGitProviderServer(s, &gitServer{impl: g})
	case KindBackup:
		b, ok := impl.(BackupTarget)
		if !ok {
			return fmt.Errorf("plugin of kind %s does not implement sdk.BackupTarget: %w", kind, ErrInvalidArgument)
		}
		pb.RegisterBackupTargetServer(s, &backupServer{impl: b})
	case KindNotifier:
		n, ok := impl.(Notifier)
		if !ok {
			return fmt.Errorf("plugin of kind %s does not implement sdk.Notifier: %w", kind, ErrInvalidArgument)
		}
		pb.RegisterNotifierServer(s, &notifierServer{impl: n})
	default:
		return fmt.Errorf("unknown plugin kind %q: %w", kind, ErrInvalidArgument)
	}
	return nil
}

// newClient returns the client of kind over cc: a Builder, GitProvider,
// BackupTarget or Notifier.
func newClient(kind Kind, cc grpc.ClientConnInterface) (Plugin, error) {
	base := baseClient{base: pb.NewPluginClient(cc)}
	switch kind {
	case KindBuilder:
		return &builderClient{baseClient: base, c: pb.NewBuilderClient(cc)}, nil
	case KindGit:
		return &gitClient{baseClient: base, c: pb.NewGitProviderClient(cc)}, nil
	case KindBackup:
		return &backupClient{baseClient: base, c: pb.NewBackupTargetClient(cc)}, nil
	case KindNotifier:
		return &notifierClient{baseClient: base, c: pb.NewNotifierClient(cc)}, nil
	default:
		return nil, fmt.Errorf("unknown plugin kind %q: %w", kind, ErrInvalidArgument)
	}
}

// ServerPluginSet returns the go-plugin plugin set that serves impl, keyed by
// its kind. Serve uses it; call it yourself only to drive go-plugin directly.
func ServerPluginSet(ctx context.Context, impl Plugin) (plugin.PluginSet, error) {
	d, err := Describe(ctx, impl)
	if err != nil {
		return nil, err
	}
	return plugin.PluginSet{string(d.Kind): &grpcPlugin{kind: d.Kind, impl: impl}}, nil
}

// HostPluginSets returns the plugin sets a host passes to go-plugin as
// ClientConfig.VersionedPlugins: for every protocol version this SDK speaks,
// one entry per kind. Dispensing a kind's name returns a value implementing
// that kind's interface (Builder, GitProvider, BackupTarget or Notifier).
func HostPluginSets() map[int]plugin.PluginSet {
	sets := make(map[int]plugin.PluginSet, len(ProtocolVersions))
	for _, v := range ProtocolVersions {
		set := plugin.PluginSet{}
		for _, k := range Kinds {
			set[string(k)] = &grpcPlugin{kind: k}
		}
		sets[v] = set
	}
	return sets
}

// GRPCServer builds the gRPC server of a plugin process: go-plugin's options
// (TLS) plus berth's message size limits and panic recovery. Pass it as
// plugin.ServeConfig.GRPCServer when driving go-plugin directly.
func GRPCServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts,
		grpc.MaxRecvMsgSize(maxMessageSize),
		grpc.MaxSendMsgSize(maxMessageSize),
		grpc.ChainUnaryInterceptor(recoverUnary),
		grpc.ChainStreamInterceptor(recoverStream),
	)
	return grpc.NewServer(opts...)
}
