// Package plugintest helps plugin authors test their plugins: an in-process
// harness that serves a plugin over the same gRPC adapters berth uses, a
// launcher that runs a built plugin binary the way berth does, and a
// conformance suite per kind.
//
// A typical test of a notifier runs the suite both ways:
//
//	func TestConformance(t *testing.T) {
//		suite := plugintest.NotifierSuite{Settings: json.RawMessage(`{"url":"..."}`)}
//		t.Run("in-process", func(t *testing.T) {
//			plugintest.TestNotifier(t, plugintest.Notifier(t, &MyNotifier{}), suite)
//		})
//		t.Run("subprocess", func(t *testing.T) {
//			bin := plugintest.BuildPlugin(t, ".")
//			plugintest.TestNotifier(t, plugintest.Launch(t, bin).(sdk.Notifier), suite)
//		})
//	}
package plugintest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/berth-dev/berth/sdk"
)

// Serve serves impl in process over gRPC, through the same adapters and wire
// types as a real plugin, and returns a client. The client implements the
// interface of impl's kind (sdk.Builder, sdk.GitProvider, sdk.BackupTarget
// or sdk.Notifier). Everything is torn down when the test ends.
func Serve(t testing.TB, impl sdk.Plugin) sdk.Plugin {
	t.Helper()
	ctx := context.Background()
	d, err := sdk.Describe(ctx, impl)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	set, err := sdk.ServerPluginSet(ctx, impl)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	glue, ok := set[string(d.Kind)].(plugin.GRPCPlugin)
	if !ok {
		t.Fatalf("plugintest: no gRPC glue for kind %s", d.Kind)
	}
	lis := bufconn.Listen(1 << 20)
	srv := sdk.GRPCServer(nil)
	if err := glue.GRPCServer(nil, srv); err != nil {
		t.Fatalf("plugintest: registering %s: %v", d.ID, err)
	}
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///"+d.ID,
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("plugintest: dialing %s: %v", d.ID, err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	raw, err := glue.GRPCClient(ctx, nil, conn)
	if err != nil {
		t.Fatalf("plugintest: client for %s: %v", d.ID, err)
	}
	return raw.(sdk.Plugin)
}

// Builder serves impl in process and returns a client; see Serve.
func Builder(t testing.TB, impl sdk.Builder) sdk.Builder {
	t.Helper()
	return Serve(t, impl).(sdk.Builder)
}

// GitProvider serves impl in process and returns a client; see Serve.
func GitProvider(t testing.TB, impl sdk.GitProvider) sdk.GitProvider {
	t.Helper()
	return Serve(t, impl).(sdk.GitProvider)
}

// BackupTarget serves impl in process and returns a client; see Serve.
func BackupTarget(t testing.TB, impl sdk.BackupTarget) sdk.BackupTarget {
	t.Helper()
	return Serve(t, impl).(sdk.BackupTarget)
}

// Notifier serves impl in process and returns a client; see Serve.
func Notifier(t testing.TB, impl sdk.Notifier) sdk.Notifier {
	t.Helper()
	return Serve(t, impl).(sdk.Notifier)
}

// BuildPlugin compiles the Go main package in dir (a path relative to the
// test's working directory, or absolute) into a temporary directory and
// returns the binary's path.
func BuildPlugin(t testing.TB, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(abs))
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = abs
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plugintest: go build %s: %v\n%s", dir, err, b)
	}
	return out
}

// Launch starts binary as a plugin subprocess the way berth does (gRPC
// only, automatic mutual TLS, none of the test's environment variables) and
// returns a client implementing the interface of the plugin's kind. The
// process is stopped when the test ends; its log is printed if the test
// failed.
func Launch(t testing.TB, binary string) sdk.Plugin {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	d, err := sdk.DescribeBinary(ctx, binary, cleanEnv())
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	logs := &lockedBuffer{}
	cmd := exec.Command(binary)
	cmd.Env = cleanEnv()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.HostPluginSets(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     30 * time.Second,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: d.ID, Output: logs, Level: hclog.Debug}),
	})
	t.Cleanup(func() {
		client.Kill()
		if t.Failed() {
			t.Logf("plugintest: log of %s:\n%s", d.ID, logs.String())
		}
	})
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("plugintest: starting %s: %v\n%s", d.ID, err, logs.String())
	}
	raw, err := rpc.Dispense(string(d.Kind))
	if err != nil {
		t.Fatalf("plugintest: dispensing %s: %v", d.ID, err)
	}
	return raw.(sdk.Plugin)
}

// cleanEnv is the environment berth gives plugins: only PATH, HOME and
// TMPDIR.
func cleanEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
