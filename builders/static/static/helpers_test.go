package static

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/berth-dev/berth/sdk"
)

var tmpRoot string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-static-test-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmpRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	pluginOnce sync.Once
	pluginBin  string
	pluginErr  error
)

// staticPlugin builds this plugin's binary statically (CGO_ENABLED=0), once,
// for use as the site server of the images the tests build.
func staticPlugin(t testing.TB) string {
	t.Helper()
	pluginOnce.Do(func() {
		out := filepath.Join(tmpRoot, "berth-builder-static")
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			pluginErr = fmt.Errorf("building the plugin: %v\n%s", err, b)
			return
		}
		pluginBin = out
	})
	if pluginErr != nil {
		t.Fatal(pluginErr)
	}
	return pluginBin
}

func randomSuffix() string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// writeTree writes files (name -> content) under dir; content "->x" makes
// a symbolic link to x.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runSite starts a container of ref with the site port published on
// 127.0.0.1 and returns its id and the address to reach it. The container
// is removed when the test ends.
func runSite(t testing.TB, cli *client.Client, ref string, port int) (string, string) {
	t.Helper()
	ctx := context.Background()
	p := nat.Port(fmt.Sprintf("%d/tcp", port))
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: ref, ExposedPorts: nat.PortSet{p: {}}},
		&container.HostConfig{PortBindings: nat.PortMap{p: {{HostIP: "127.0.0.1", HostPort: "0"}}}}, nil, nil, "berth-test-site-"+randomSuffix())
	if err != nil {
		t.Fatalf("creating a container of %s: %v", ref, err)
	}
	t.Cleanup(func() {
		_ = cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	})
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatalf("starting %s: %v", ref, err)
	}
	info, err := cli.ContainerInspect(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	bindings := info.NetworkSettings.Ports[p]
	if len(bindings) == 0 {
		t.Fatalf("port %s of %s is not published", p, ref)
	}
	return c.ID, "127.0.0.1:" + bindings[0].HostPort
}

// exec runs cmd in a running container and returns its exit code.
func execIn(t testing.TB, cli *client.Client, id string, cmd ...string) int {
	t.Helper()
	ctx := context.Background()
	ex, err := cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd})
	if err != nil {
		t.Fatalf("exec %v: %v", cmd, err)
	}
	if err := cli.ContainerExecStart(ctx, ex.ID, container.ExecStartOptions{}); err != nil {
		t.Fatalf("exec %v: %v", cmd, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := cli.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Running {
			return st.ExitCode
		}
		if time.Now().After(deadline) {
			t.Fatalf("exec %v still running", cmd)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// layerLine is a classic builder's output line naming the image a step made.
var layerLine = regexp.MustCompile(`^ ---> ([0-9a-f]{12})$`)

// cleanupLayers removes, when the test ends, the untagged images the steps
// of a build made (the build stage, steps of a failed build). Images still
// in use are kept.
func cleanupLayers(t testing.TB, cli *client.Client, log func() string) {
	t.Cleanup(func() {
		for _, line := range strings.Split(log(), "\n") {
			if m := layerLine.FindStringSubmatch(line); m != nil {
				_, _ = cli.ImageRemove(context.Background(), m[1], image.RemoveOptions{PruneChildren: true})
			}
		}
	})
}

// recorder collects log lines.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) log(l sdk.LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, l.Text)
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}
