package browser_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/dockertest"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// server is a `berth server` process with its own name, data directory,
// embedded PostgreSQL, Traefik container and ports.
type server struct {
	t        *testing.T
	name     string
	dataDir  string
	addr     string
	httpPort int
	cmd      *exec.Cmd
	out      *syncBuffer
	docker   *client.Client
	exited   chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServer(t *testing.T) *server {
	t.Helper()
	docker := dockertest.Client(t)
	s := &server{t: t, name: dockertest.UniqueName("ui"), docker: docker, out: &syncBuffer{}, exited: make(chan struct{})}
	s.dataDir = filepath.Join(dockertest.SearchableTempDir(t), "data")
	s.addr = fmt.Sprintf("127.0.0.1:%d", dockertest.FreePort(t))
	s.httpPort = dockertest.FreePort(t)
	s.cmd = exec.Command(berthBin, "server")
	s.cmd.Env = append(os.Environ(),
		"BERTH_NAME="+s.name, "BERTH_DATA_DIR="+s.dataDir, "BERTH_ADDR="+s.addr, "DATABASE_URL=",
		fmt.Sprintf("BERTH_HTTP_PORT=%d", s.httpPort), fmt.Sprintf("BERTH_HTTPS_PORT=%d", dockertest.FreePort(t)),
		fmt.Sprintf("BERTH_TRAEFIK_API_PORT=%d", dockertest.FreePort(t)), "BERTH_PLUGIN_INDEX="+pluginIndex,
		"BERTH_LOG_LEVEL=debug")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t.Cleanup(s.cleanup)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.url("/healthz")); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("berth exited at start:\n%s", s.out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("berth did not answer /healthz:\n%s", s.out.String())
	return nil
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// setupToken reads the one-time token berth wrote to its data directory.
func (s *server) setupToken() string {
	s.t.Helper()
	tok, err := os.ReadFile(filepath.Join(s.dataDir, "setup-token"))
	if err != nil {
		s.t.Fatalf("setup token: %v", err)
	}
	return strings.TrimSpace(string(tok))
}

func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// cleanup stops berth and removes the Docker objects of this instance.
func (s *server) cleanup() {
	s.stop()
	if s.t.Failed() {
		out := s.out.String()
		if len(out) > 20000 {
			out = out[len(out)-20000:]
		}
		s.t.Logf("berth output (tail):\n%s", out)
	}
	ctx := context.Background()
	services, _ := s.docker.ServiceList(ctx, swarm.ServiceListOptions{
		Filters: filters.NewArgs(filters.Arg("label", "dev.berth.instance="+s.name))})
	for _, svc := range services {
		dockertest.RemoveService(s.docker, svc.ID)
	}
	_ = s.docker.ContainerRemove(ctx, s.name+"-traefik", container.RemoveOptions{Force: true})
	nets, _ := s.docker.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", s.name+"-"))})
	for _, n := range nets {
		for i := 0; i < 30; i++ {
			if err := s.docker.NetworkRemove(ctx, n.ID); err == nil || dockertest.IsNotFound(err) {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
}

// viaTraefik requests path on host through Traefik's published HTTP port.
func (s *server) viaTraefik(host, path string) (int, string) {
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", s.httpPort, path), nil)
	req.Host = host
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// expectApp waits until host answers 200 with body through Traefik.
func (s *server) expectApp(host, body string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var status int
	var got string
	for time.Now().Before(deadline) {
		if status, got = s.viaTraefik(host, "/"); status == 200 && strings.Contains(got, body) {
			return
		}
		time.Sleep(150 * time.Millisecond)
	}
	s.t.Fatalf("%s through Traefik: %d %q, want 200 %q", host, status, got, body)
}

// gitRepo is a local repository standing in for the remote.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *gitRepo {
	t.Helper()
	r := &gitRepo{t: t, dir: filepath.Join(t.TempDir(), "repo")}
	r.git("init", "-q", "-b", "main", r.dir)
	r.git("-C", r.dir, "config", "user.email", "dev@example.com")
	r.git("-C", r.dir, "config", "user.name", "Dev")
	return r
}

func (r *gitRepo) git(args ...string) {
	r.t.Helper()
	if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// commitApp commits the test backend with a Dockerfile answering
// "<message> <path>"; the build sleeps a few seconds so its log is seen
// streaming.
func (r *gitRepo) commitApp(message string) {
	r.t.Helper()
	bin, err := os.ReadFile(backendBin)
	if err != nil {
		r.t.Fatal(err)
	}
	dockerfile := strings.Join([]string{
		"FROM scratch",
		"COPY app /app",
		`RUN ["/app", "sleep", "3s"]`,
		"ENV MESSAGE=" + message,
		`HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ["/app", "healthcheck"]`,
		`ENTRYPOINT ["/app"]`,
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(r.dir, "app"), bin, 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git("-C", r.dir, "add", "-A")
	r.git("-C", r.dir, "commit", "-q", "-m", message)
}
