package railpack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	bkclient "github.com/moby/buildkit/client"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// The tests run Railpack against the real Docker Engine and a real
// buildkitd: the container the plugin manages, made from the image
// scripts/fixtures/30-buildkit.sh builds, whose registry mirror serves the
// stand-in builder and runtime images.

const dockerHost = "unix:///var/run/docker.sock"

// repoRoot is the repository's root directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	abs, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// fixtureSettings are the instance settings the tests use: the fixture's
// buildkitd.toml (ghcr.io mirrored by the local registry) and mise from the
// npm tarball in the cache. It fails the test when the fixture is missing.
func fixtureSettings(t testing.TB) Settings {
	t.Helper()
	cache := filepath.Join(repoRoot(t), ".cache", "buildkit")
	cfg, err := os.ReadFile(filepath.Join(cache, "buildkitd.toml"))
	if err != nil {
		t.Fatalf("the buildkit fixture is missing (run scripts/fixtures/30-buildkit.sh): %v", err)
	}
	tgz := filepath.Join(cache, "mise-linux-x64-"+strings.TrimSpace(miseVersion())+".tgz")
	if _, err := os.Stat(tgz); err != nil {
		t.Fatalf("the buildkit fixture is missing (run scripts/fixtures/30-buildkit.sh): %v", err)
	}
	return Settings{BuildkitdConfig: string(cfg), MiseSource: tgz}
}

func settingsJSON(t testing.TB, s Settings) json.RawMessage {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newBuilder(t testing.TB) *Builder {
	t.Helper()
	b := New()
	if _, err := b.Configure(context.Background(), &sdk.ConfigureRequest{Settings: settingsJSON(t, fixtureSettings(t))}); err != nil {
		t.Fatal(err)
	}
	return b
}

func engine(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(dockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

var (
	backendOnce sync.Once
	backendPath string
	backendErr  error
)

// backend is the test backend (test/backend), a static Go HTTP server,
// built once.
func backend(t testing.TB) string {
	t.Helper()
	backendOnce.Do(func() {
		dir, err := os.MkdirTemp("", "railpack-backend-")
		if err != nil {
			backendErr = err
			return
		}
		backendPath = filepath.Join(dir, "backend")
		cmd := exec.Command("go", "build", "-trimpath", "-o", backendPath, "./test/backend")
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			backendErr = fmt.Errorf("go build ./test/backend: %v\n%s", err, out)
		}
	})
	if backendErr != nil {
		t.Fatal(backendErr)
	}
	return backendPath
}

// writeApp writes a shell-script app: start.sh runs the test backend,
// which Railpack's shell provider plans without any network.
func writeApp(t testing.TB, dir, marker string) {
	t.Helper()
	bin, err := os.ReadFile(backend(t))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"start.sh": "#!/bin/sh\n# " + marker + "\nexec ./backend\n",
		"backend":  string(bin),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func uniqueRef(t testing.TB, cli *client.Client, what string) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	ref := "berth-test/railpack-" + what + ":" + hex.EncodeToString(r[:])
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	return ref
}

// logLines collects a build's log.
type logLines struct {
	mu    sync.Mutex
	lines []string
	on    func(string)
}

func (l *logLines) fn(t testing.TB) sdk.LogFunc {
	return func(line sdk.LogLine) {
		l.mu.Lock()
		l.lines = append(l.lines, line.Text)
		on := l.on
		l.mu.Unlock()
		if testing.Verbose() {
			t.Logf("| %s", line.Text)
		}
		if on != nil {
			on(line.Text)
		}
	}
}

func (l *logLines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// serve runs ref with the test backend's PORT on the host network and
// returns what GET / answers.
func serve(t *testing.T, cli *client.Client, ref string) string {
	t.Helper()
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: ref, Env: []string{fmt.Sprintf("PORT=%d", port)}},
		&container.HostConfig{NetworkMode: "host"}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return fmt.Sprintf("%d %s", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			logs := containerLogTail(ctx, cli, c.ID)
			t.Fatalf("the built image does not answer on port %d: %v%s", port, err, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestDetect(t *testing.T) {
	b := New()
	cases := []struct {
		name   string
		files  map[string]string
		want   bool
		reason string
	}{
		{"shell script", map[string]string{"start.sh": "#!/bin/sh\necho hi\n"}, true, "shell"},
		{"node", map[string]string{"package.json": `{"name":"x"}`}, true, "node"},
		{"python", map[string]string{"requirements.txt": "flask\n"}, true, "python"},
		{"static site", map[string]string{"index.html": "<p>hi</p>"}, true, "staticfile"},
		{"go", map[string]string{"go.mod": "module x\n", "main.go": "package main\nfunc main() {}\n"}, true, "golang"},
		{"nothing", map[string]string{"README": "hello"}, false, "no Railpack provider"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range c.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r, err := b.Detect(context.Background(), &sdk.DetectRequest{SourceDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if r.Detected != c.want || !strings.Contains(r.Reason, c.reason) {
				t.Errorf("Detect = %v (%q), want %v with %q", r.Detected, r.Reason, c.want, c.reason)
			}
		})
	}
}

// pruneBuildKit empties the managed buildkitd's cache, so that the next
// build is a first build.
func pruneBuildKit(t *testing.T, cli *client.Client, s Settings) {
	t.Helper()
	ctx := context.Background()
	bk, err := connect(ctx, cli, s, func(f string, a ...any) { t.Logf(f, a...) })
	if err != nil {
		t.Fatal(err)
	}
	defer bk.Close()
	ch := make(chan bkclient.UsageInfo)
	go func() {
		for range ch {
		}
	}()
	if err := bk.Prune(ctx, ch, bkclient.PruneAll); err != nil {
		t.Fatalf("prune: %v", err)
	}
	close(ch)
}

// TestBuildRunsAndRebuildsFromCache builds a shell-script app from an empty
// BuildKit cache, runs the image, then rebuilds after a one-line change:
// the second build reuses the builder and runtime layers.
func TestBuildRunsAndRebuildsFromCache(t *testing.T) {
	cli := engine(t)
	b := newBuilder(t)
	pruneBuildKit(t, cli, fixtureSettings(t))
	dir := t.TempDir()
	writeApp(t, dir, "first")
	ref := uniqueRef(t, cli, "app")
	build := func() (time.Duration, *logLines) {
		var l logLines
		start := time.Now()
		r, err := b.Build(context.Background(), &sdk.BuildRequest{
			SourceDir: dir, Image: ref, DockerHost: dockerHost, Log: l.fn(t),
			Settings: json.RawMessage(`{"build_command": "echo railpack-build-step-ran > built.txt"}`),
			Env:      map[string]string{"GREETING": "hello"},
			Secrets:  map[string]string{"API_TOKEN": "s3cr3t-value"},
		})
		if err != nil {
			t.Fatalf("Build: %v\nlog:\n%s", err, l.text())
		}
		if r.Image != ref || !strings.HasPrefix(r.Digest, "sha256:") {
			t.Errorf("Build = %+v", r)
		}
		if strings.Contains(l.text(), "s3cr3t-value") {
			t.Errorf("the log holds a secret's value")
		}
		return time.Since(start), &l
	}
	first, l := build()
	for _, want := range []string{"shell provider", "echo railpack-build-step-ran", "API_TOKEN"} {
		if !strings.Contains(l.text(), want) {
			t.Errorf("the build log lacks %q:\n%s", want, l.text())
		}
	}
	if got := serve(t, cli, ref); !strings.HasPrefix(got, "200") {
		t.Errorf("GET / = %s", got)
	}
	writeApp(t, dir, "second")
	second, _ := build()
	t.Logf("railpack build: first (empty BuildKit cache) %s, after a one-line change %s", first.Round(time.Millisecond), second.Round(time.Millisecond))
	if second >= first {
		t.Errorf("the rebuild took %s, no faster than the first build (%s)", second, first)
	}
	if got := serve(t, cli, ref); !strings.HasPrefix(got, "200") {
		t.Errorf("GET / after the rebuild = %s", got)
	}
}

func TestFailingBuildReturnsItsOutput(t *testing.T) {
	cli := engine(t)
	b := newBuilder(t)
	dir := t.TempDir()
	writeApp(t, dir, "fails")
	var l logLines
	_, err := b.Build(context.Background(), &sdk.BuildRequest{
		SourceDir: dir, Image: uniqueRef(t, cli, "fail"), DockerHost: dockerHost, Log: l.fn(t),
		Settings: json.RawMessage(`{"build_command": "echo compiler says: missing semicolon >&2; exit 3"}`),
	})
	if err == nil {
		t.Fatalf("a failing build command succeeded\n%s", l.text())
	}
	if !strings.Contains(err.Error(), "compiler says: missing semicolon") || !strings.Contains(err.Error(), "exit code: 3") {
		t.Errorf("the error lacks the command's output and exit code: %v", err)
	}
}

func TestCancelStopsTheBuild(t *testing.T) {
	cli := engine(t)
	b := newBuilder(t)
	dir := t.TempDir()
	writeApp(t, dir, "cancel")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelledAt time.Time
	var once sync.Once
	l := logLines{on: func(line string) {
		if strings.Contains(line, "sleeping-for-railpack-test") {
			once.Do(func() { cancelledAt = time.Now(); cancel() })
		}
	}}
	_, err := b.Build(ctx, &sdk.BuildRequest{
		SourceDir: dir, Image: uniqueRef(t, cli, "cancel"), DockerHost: dockerHost, Log: l.fn(t),
		Settings: json.RawMessage(`{"build_command": "echo sleeping-for-railpack-test; sleep 120", "no_cache": true}`),
	})
	if cancelledAt.IsZero() {
		t.Fatalf("the build ended before it was cancelled: %v\n%s", err, l.text())
	}
	took := time.Since(cancelledAt)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Build = %v, want context.Canceled", err)
	}
	if took > time.Second {
		t.Errorf("Build returned %s after the cancel, want within a second", took)
	}
	t.Logf("cancelled build returned %s after the cancel", took.Round(time.Millisecond))
	// The step's process is gone from buildkitd soon after.
	deadline := time.Now().Add(5 * time.Second)
	for {
		top, err := cli.ContainerTop(context.Background(), BuildkitdContainer, nil)
		if err != nil {
			t.Fatal(err)
		}
		running := false
		for _, p := range top.Processes {
			if strings.Contains(strings.Join(p, " "), "sleep 120") {
				running = true
			}
		}
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cancelled step still runs in buildkitd: %v", top.Processes)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestConformance(t *testing.T) {
	cli := engine(t)
	suite := func(t *testing.T) plugintest.BuilderSuite {
		ref := uniqueRef(t, cli, "conformance")
		return plugintest.BuilderSuite{
			BaseSuite: plugintest.BaseSuite{
				Settings:        settingsJSON(t, fixtureSettings(t)),
				InvalidSettings: json.RawMessage(`{"buildkitd_config": "[registry"}`),
			},
			Source:     func(t testing.TB, dir string) { writeApp(t, dir, "conformance") },
			Image:      ref,
			DockerHost: dockerHost,
			CheckImage: func(t testing.TB, r *sdk.BuildResponse) {
				img, err := cli.ImageInspect(context.Background(), ref)
				if err != nil {
					t.Fatalf("the built image: %v", err)
				}
				if img.ID != r.Digest {
					t.Errorf("Digest = %q, image id %q", r.Digest, img.ID)
				}
			},
		}
	}
	t.Run("in-process", func(t *testing.T) {
		plugintest.TestBuilder(t, plugintest.Builder(t, New()), suite(t))
	})
	t.Run("subprocess", func(t *testing.T) {
		bin := plugintest.BuildPlugin(t, "..")
		plugintest.TestBuilder(t, plugintest.Launch(t, bin).(sdk.Builder), suite(t))
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(context.Background(), New())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != ID || len(d.AppSchema) == 0 || len(d.ConfigSchema) == 0 {
		t.Errorf("Describe = %s with schemas %s / %s", d.ID, d.AppSchema, d.ConfigSchema)
	}
}

func TestSettingsValidation(t *testing.T) {
	cases := []struct {
		name, settings, field string
	}{
		{"bad toml", `{"buildkitd_config": "[x"}`, "buildkitd_config"},
		{"bad host", `{"buildkit_host": "nohost"}`, "buildkit_host"},
		{"unknown", `{"colour": "red"}`, "colour"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New().Configure(context.Background(), &sdk.ConfigureRequest{Settings: json.RawMessage(c.settings)})
			var ce *sdk.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.field) {
				t.Errorf("Configure(%s) = %v, want a ConfigError naming %s", c.settings, err, c.field)
			}
		})
	}
}
