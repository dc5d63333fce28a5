// Package cnbtest gives the CNB builders' tests the offline fixtures of
// scripts/fixtures/20-cnb.sh (a builder image with the lifecycle and the
// test buildpacks, and its run image), a test app, and cleanup helpers.
package cnbtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/berth-dev/berth/sdk"
)

// Labels of package cnb's containers and volumes (builders/internal/cnb,
// which tests outside builders/ cannot import).
const (
	// LabelBuild marks a lifecycle container with the image it builds.
	LabelBuild = "berth.cnb.build"
	// LabelCache marks a cache volume with the image repository it serves.
	LabelCache = "berth.cnb.cache"
)

// Images are the fixture images.
type Images struct {
	// Builder is the test builder image.
	Builder string
	// Run is its run image.
	Run string
	// Lifecycle is the lifecycle version in the builder.
	Lifecycle string
}

// RepoRoot is the repository root.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Fixtures reads .cache/cnb/images.env and checks the images are in the
// engine, failing the test (never skipping) when they are not.
func Fixtures(t testing.TB, cli *client.Client) Images {
	t.Helper()
	const fix = "run scripts/fixtures/20-cnb.sh (make test-deps) to build the CNB test builder"
	f, err := os.Open(filepath.Join(RepoRoot(), ".cache", "cnb", "images.env"))
	if err != nil {
		t.Fatalf("CNB fixtures missing: %v: %s", err, fix)
	}
	defer f.Close()
	var im Images
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "BUILDER":
			im.Builder = v
		case "RUN":
			im.Run = v
		case "LIFECYCLE":
			im.Lifecycle = v
		}
	}
	for _, ref := range []string{im.Builder, im.Run} {
		if _, err := cli.ImageInspect(context.Background(), ref); ref == "" || err != nil {
			t.Fatalf("CNB fixture image %q: %v: %s", ref, err, fix)
		}
	}
	return im
}

// backend is test/backend compiled once per test process.
var backend struct {
	once sync.Once
	data []byte
	err  error
}

// Backend writes test/backend, compiled statically (once per test
// process), to dir/backend.
func Backend(t testing.TB, dir string) {
	t.Helper()
	backend.once.Do(func() {
		tmp, err := os.MkdirTemp("", "cnbtest-")
		if err != nil {
			backend.err = err
			return
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(tmp, "backend"), "./test/backend")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			backend.err = fmt.Errorf("building test/backend: %w\n%s", err, out)
			return
		}
		backend.data, backend.err = os.ReadFile(filepath.Join(tmp, "backend"))
	})
	if backend.err != nil {
		t.Fatal(backend.err)
	}
	if err := os.WriteFile(filepath.Join(dir, "backend"), backend.data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// App writes a test app into dir: the backend run by a Procfile, and a
// deps.lock the test deps buildpack "installs" into a cached layer.
func App(t testing.TB, dir string) {
	t.Helper()
	Backend(t, dir)
	Write(t, dir, map[string]string{
		"Procfile":  "web: ./backend\n",
		"deps.lock": "left-pad 1.3.0\n",
		"README.md": "version 1\n",
	})
}

// Write writes files (name -> content) under dir.
func Write(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Cleanup removes, when the test ends, every image of repo and its cache
// volumes.
func Cleanup(t testing.TB, cli *client.Client, repo string) {
	t.Cleanup(func() {
		ctx := context.Background()
		list, _ := cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", repo))})
		for _, im := range list {
			for _, tag := range im.RepoTags {
				_, _ = cli.ImageRemove(ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true})
			}
		}
		CleanupVolumes(cli, repo)
	})
}

// CleanupVolumes removes the cache volumes of the images of repo.
func CleanupVolumes(cli *client.Client, repo string) {
	list, err := cli.VolumeList(context.Background(), volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelCache+"="+repo))})
	if err != nil {
		return
	}
	for _, v := range list.Volumes {
		_ = cli.VolumeRemove(context.Background(), v.Name, true)
	}
}

// Get runs image with env, publishing its port 8080 on 127.0.0.1, and
// returns the body of GET path once it answers.
func Get(t testing.TB, cli *client.Client, ref, path string, env ...string) string {
	t.Helper()
	ctx := context.Background()
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: ref, Env: env, ExposedPorts: nat.PortSet{"8080/tcp": {}}},
		&container.HostConfig{PortBindings: nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1"}}}}, nil, nil, "")
	if err != nil {
		t.Fatalf("creating a container of %s: %v", ref, err)
	}
	defer cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatalf("starting %s: %v", ref, err)
	}
	info, err := cli.ContainerInspect(ctx, c.ID)
	if err != nil || len(info.NetworkSettings.Ports["8080/tcp"]) == 0 {
		t.Fatalf("inspecting the container of %s: %v", ref, err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%s%s", info.NetworkSettings.Ports["8080/tcp"][0].HostPort, path)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(body)
		}
		if time.Now().After(deadline) {
			logs, _ := cli.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
			var out []byte
			if logs != nil {
				out, _ = io.ReadAll(logs)
			}
			t.Fatalf("%s does not answer on %s: %v\n%s", ref, url, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Recorder collects log lines with the time they arrived.
type Recorder struct {
	mu    sync.Mutex
	lines []sdk.LogLine
	at    []time.Time
	// On, when set, sees every line as it arrives.
	On func(sdk.LogLine)
}

// Log is the sdk.LogFunc.
func (r *Recorder) Log(l sdk.LogLine) {
	r.mu.Lock()
	r.lines = append(r.lines, l)
	r.at = append(r.at, time.Now())
	on := r.On
	r.mu.Unlock()
	if on != nil {
		on(l)
	}
}

// Text is every line so far.
func (r *Recorder) Text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, l := range r.lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// BuildContainers lists the creator containers that build ref.
func BuildContainers(t testing.TB, cli *client.Client, ref string) []container.Summary {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", LabelBuild+"="+ref))})
	if err != nil {
		t.Fatal(err)
	}
	return list
}
