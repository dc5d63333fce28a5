// Package dockertest gives berth's tests real Docker objects: a client that
// fails the test when no engine answers, images built locally from a Go
// main package (no registry is needed), dnsrr Swarm services, and free ports.
package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// Need says what a test needs from the Docker Engine.
type Need int

const (
	// Engine needs an engine that answers.
	Engine Need = iota
	// Swarm needs an engine that answers and is an active Swarm manager.
	Swarm
)

// New returns a client for the local engine (DOCKER_HOST and the other
// DOCKER_* variables apply; the API version is negotiated), after checking
// that the engine answers and, for Swarm, that Swarm is active. The error
// says how to set up what is missing. It is the one constructor of Docker
// clients in berth's tests; TestMain and commands use it directly, tests
// through Client and EngineClient.
func New(ctx context.Context, need Need) (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w (run `make test-deps`, which installs and starts Docker)", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if need == Engine {
		if _, err := cli.Ping(ctx); err != nil {
			cli.Close()
			return nil, fmt.Errorf("Docker Engine at %s is not reachable: %w (run `make test-deps`, which installs and starts it)", cli.DaemonHost(), err)
		}
		return cli, nil
	}
	info, err := cli.Info(ctx)
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("Docker Engine at %s is not reachable: %w (run `make test-deps`, which installs and starts it)", cli.DaemonHost(), err)
	}
	if info.Swarm.LocalNodeState != swarm.LocalNodeStateActive || !info.Swarm.ControlAvailable {
		cli.Close()
		return nil, fmt.Errorf("Docker Swarm is not active with this node as a manager (state %q): run `make test-deps`", info.Swarm.LocalNodeState)
	}
	return cli, nil
}

// Client returns a Docker client for the local engine, failing the test (never
// skipping it) when the engine does not answer or Swarm is not active. The
// client is closed when the test ends.
func Client(t testing.TB) *client.Client {
	t.Helper()
	return open(t, Swarm)
}

// EngineClient is Client for tests that need the engine but not Swarm (image
// builds, plain containers).
func EngineClient(t testing.TB) *client.Client {
	t.Helper()
	return open(t, Engine)
}

func open(t testing.TB, need Need) *client.Client {
	t.Helper()
	cli, err := New(context.Background(), need)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// RemoveImages force-removes images by reference, ignoring errors; for
// TestMain, which has no test to fail.
func RemoveImages(refs ...string) {
	cli, err := New(context.Background(), Engine)
	if err != nil {
		return
	}
	defer cli.Close()
	for _, ref := range refs {
		if ref != "" {
			_, _ = cli.ImageRemove(context.Background(), ref, imageRemoveOptions())
		}
	}
}

// RemoveEventually retries remove for up to a minute until it succeeds or
// reports not found: Swarm removes the containers of a removed service in
// the background, and until then their networks and volumes are in use.
func RemoveEventually(ctx context.Context, remove func(context.Context) error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := remove(ctx)
		if err == nil || IsNotFound(err) {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// BuildGoImage compiles the Go main package pkg (an import path or a
// directory relative to the repository root) statically and packages it into
// image tag FROM scratch, with the binary as entrypoint. The image is removed
// when the test ends unless keep is true.
func BuildGoImage(t testing.TB, cli *client.Client, pkg, tag string, keep bool) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
	cmd.Dir = RepoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	add("Dockerfile", 0o644, []byte("FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n"))
	add("app", 0o755, data)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true})
	if err != nil {
		t.Fatalf("docker build %s: %v", tag, err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(out, []byte(`"error"`)) {
		t.Fatalf("docker build %s: %s", tag, out)
	}
	if !keep {
		t.Cleanup(func() {
			_, _ = cli.ImageRemove(context.Background(), tag, imageRemoveOptions())
		})
	}
}

// ServiceSpec describes a test service.
type ServiceSpec struct {
	Name, Image, Network string
	Env                  []string
	Replicas             uint64
}

// CreateService creates a dnsrr Swarm service (reachable at tasks.<name> on
// Network, which works without IPVS) and removes it when the test ends.
func CreateService(t testing.TB, cli *client.Client, s ServiceSpec) string {
	t.Helper()
	if s.Replicas == 0 {
		s.Replicas = 1
	}
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: s.Name},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: s.Image, Env: s.Env, StopGracePeriod: durationPtr(2 * time.Second)},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: s.Network}},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &s.Replicas}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
	ctx := context.Background()
	resp, err := cli.ServiceCreate(ctx, spec, swarmCreateOptions())
	if err != nil {
		t.Fatalf("create service %s: %v", s.Name, err)
	}
	t.Cleanup(func() { RemoveService(cli, resp.ID) })
	return resp.ID
}

// RemoveService removes a service and waits until its tasks' containers are
// gone, so its network can be removed next.
func RemoveService(cli *client.Client, id string) {
	ctx := context.Background()
	_ = cli.ServiceRemove(ctx, id)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: labelFilter("com.docker.swarm.service.id", id)})
		if err != nil || len(cs) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// UniqueName returns a short lowercase name unique to this test run.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s%x", prefix, time.Now().UnixNano()&0xffffffff)
}

// SearchableTempDir returns a temporary directory that other OS users (the
// embedded PostgreSQL's) can traverse.
func SearchableTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "berth-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func durationPtr(d time.Duration) *time.Duration { return &d }

// IsNotFound reports whether err is Docker's not-found error.
func IsNotFound(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "no such")
}

// Host is the address of the engine New connects to (DOCKER_HOST, else the
// default socket), for code under test that takes an engine address.
func Host() string {
	if h := os.Getenv(client.EnvOverrideHost); h != "" {
		return h
	}
	return client.DefaultDockerHost
}

// ImageRef returns a unique image reference, berth-test/<what>-<hex>:latest,
// that is force-removed (with its untagged parents) when the test ends.
func ImageRef(t testing.TB, cli *client.Client, what string) string {
	t.Helper()
	var r [4]byte
	_, _ = rand.Read(r[:])
	ref := "berth-test/" + what + "-" + hex.EncodeToString(r[:]) + ":latest"
	t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), ref, imageRemoveOptions()) })
	return ref
}
