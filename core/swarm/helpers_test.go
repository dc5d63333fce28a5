package swarm

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/dockertest"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// testHealthcheck is a fast HEALTHCHECK for the test app, without a shell.
const testHealthcheck = `HEALTHCHECK --interval=500ms --timeout=2s --retries=3 CMD ["/app", "-healthcheck"]`

// env is one integration test's Docker client, Manager, overlay network
// and naming prefix.
type env struct {
	t       *testing.T
	cli     *client.Client
	m       *Manager
	network string
	prefix  string
}

// newEnv fails the test (never skips it) when Docker or Swarm is missing,
// and creates an attachable overlay network removed at the end.
func newEnv(t *testing.T) *env {
	t.Helper()
	cli := dockertest.Client(t)
	e := &env{
		t:      t,
		cli:    cli,
		m:      NewManager(cli, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		prefix: dockertest.UniqueName("bsw"),
	}
	e.m.poll = 100 * time.Millisecond
	e.network = e.prefix + "-net"
	ctx := context.Background()
	if err := e.m.EnsureNetwork(ctx, e.network, map[string]string{"test": t.Name()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.NetworkRemove(context.Background(), e.network) })
	return e
}

// image builds the test app into a FROM-scratch image tagged
// <prefix>-app:<tag>, with extra Dockerfile lines (ENV, HEALTHCHECK), and
// removes it at the end.
func (e *env) image(tag string, extra ...string) string {
	e.t.Helper()
	ref := e.prefix + "-app:" + tag
	dockerfile := "FROM scratch\nCOPY app /app\n" + strings.Join(extra, "\n") + "\nENTRYPOINT [\"/app\"]\n"
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {"app", 0o755, appBinary(e.t)}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			e.t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := e.cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{Tags: []string{ref}, Remove: true, ForceRemove: true})
	if err != nil {
		e.t.Fatalf("build %s: %v", ref, err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(out, []byte(`"error"`)) {
		e.t.Fatalf("build %s: %s", ref, out)
	}
	e.t.Cleanup(func() {
		_, _ = e.cli.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	return ref
}

var (
	appOnce sync.Once
	appData []byte
	appErr  error
)

// appBinary is the static test app (testdata/app), built once per run.
func appBinary(t *testing.T) []byte {
	t.Helper()
	appOnce.Do(func() {
		dir, err := os.MkdirTemp("", "berth-swarm-app-")
		if err != nil {
			appErr = err
			return
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "app")
		cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./testdata/app")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			appErr = &buildError{err, out}
			return
		}
		appData, appErr = os.ReadFile(bin)
	})
	if appErr != nil {
		t.Fatalf("build test app: %v", appErr)
	}
	return appData
}

type buildError struct {
	err error
	out []byte
}

func (b *buildError) Error() string { return b.err.Error() + "\n" + string(b.out) }

// spec is a one-replica service spec on the test network, removed at the
// end of the test.
func (e *env) spec(name, image string) ServiceSpec {
	e.t.Helper()
	full := e.prefix + "-" + name
	e.t.Cleanup(func() {
		if err := e.m.Remove(context.Background(), full); err != nil {
			e.t.Errorf("cleanup: %v", err)
		}
	})
	return ServiceSpec{
		Name:            full,
		AppID:           "app-" + name,
		Image:           image,
		Replicas:        1,
		Networks:        []string{e.network},
		StopGracePeriod: 2 * time.Second,
		RestartPolicy:   RestartPolicy{Delay: 500 * time.Millisecond},
	}
}

// deploy runs Deploy, logging its progress lines.
func (e *env) deploy(ctx context.Context, s ServiceSpec) (Result, error) {
	e.t.Helper()
	start := time.Now()
	res, err := e.m.Deploy(ctx, s, func(line string) {
		e.t.Logf("  [%5.1fs] %s", time.Since(start).Seconds(), line)
	})
	e.t.Logf("deploy %s -> %+v, err=%v", s.Image, res, err)
	return res, err
}

func (e *env) inspect(name string) Status {
	e.t.Helper()
	st, err := e.m.Inspect(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// probe runs the test app as a plain container on the overlay network and
// returns the body of url (as seen from there).
func (e *env) probe(image, url string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := e.cli.ContainerCreate(ctx,
		&container.Config{Image: image, Cmd: []string{"-get", url}},
		&container.HostConfig{},
		&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{e.network: {}}},
		nil, "")
	if err != nil {
		e.t.Fatalf("probe: %v", err)
	}
	defer e.cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	if err := e.cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		e.t.Fatalf("probe start: %v", err)
	}
	waitC, errC := e.cli.ContainerWait(ctx, c.ID, container.WaitConditionNotRunning)
	var code int64
	select {
	case w := <-waitC:
		code = w.StatusCode
	case err := <-errC:
		e.t.Fatalf("probe wait: %v", err)
	}
	rc, err := e.cli.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		e.t.Fatalf("probe logs: %v", err)
	}
	defer rc.Close()
	var out bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, &out, rc)
	if code != 0 {
		e.t.Fatalf("probe %s exited %d: %s", url, code, out.String())
	}
	return out.String()
}

// sampler counts a service's running tasks every 50ms until stopped.
type sampler struct {
	stop    chan struct{}
	done    chan struct{}
	samples int
	zero    int // samples that saw no running task
	min     int
}

func (e *env) sample(service string) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{}), min: 1 << 30}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			tasks, err := e.cli.TaskList(context.Background(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", service))})
			if err == nil {
				n := 0
				for _, t := range tasks {
					if t.Status.State == swarm.TaskStateRunning {
						n++
					}
				}
				s.samples++
				s.min = min(s.min, n)
				if n == 0 {
					s.zero++
				}
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// end stops sampling and fails the test if a sample saw no running task.
func (s *sampler) end(t *testing.T, what string) {
	t.Helper()
	close(s.stop)
	<-s.done
	t.Logf("%s: %d samples, fewest running tasks %d", what, s.samples, s.min)
	if s.samples < 1 {
		t.Errorf("%s: only %d samples", what, s.samples)
	}
	if s.zero > 0 {
		t.Errorf("%s: %d of %d samples saw no running task", what, s.zero, s.samples)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
