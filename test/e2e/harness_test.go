package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/docker/docker/client"
)

// Built once by TestMain.
var (
	berthBin    string
	pluginIndex string
	backendBin  string
	repoRoot    string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "berth-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o711)
	wd, _ := os.Getwd()
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	berthBin = filepath.Join(dir, "berth")
	backendBin = filepath.Join(dir, "backend")
	pluginIndex = filepath.Join(dir, "plugin-index.json")
	steps := [][]string{
		{"go", "build", "-o", berthBin, "./cmd/berth"},
		{"bash", "scripts/plugins.sh", "--examples"},
		{"go", "run", "./tools/plugindex", "-o", pluginIndex, filepath.Join(repoRoot, "bin", "plugins")},
	}
	for _, s := range steps {
		cmd := exec.Command(s[0], s[1:]...)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e setup %v: %v\n%s", s, err, out)
			return 1
		}
	}
	cmd := exec.Command("go", "build", "-o", backendBin, "./test/backend")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build backend: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// server is a berth server process with its own data dir, Traefik and ports.
type server struct {
	t        *testing.T
	name     string
	dataDir  string
	addr     string
	httpPort int
	env      []string
	cmd      *exec.Cmd
	out      *syncBuffer
	docker   *client.Client
	key      string
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

func newServer(t *testing.T) *server {
	t.Helper()
	docker := dockertest.Client(t)
	s := &server{t: t, name: dockertest.UniqueName("e2e"), docker: docker, out: &syncBuffer{}}
	s.dataDir = filepath.Join(dockertest.SearchableTempDir(t), "data")
	s.addr = fmt.Sprintf("127.0.0.1:%d", dockertest.FreePort(t))
	s.httpPort = dockertest.FreePort(t)
	s.env = append(os.Environ(),
		"BERTH_NAME="+s.name, "BERTH_DATA_DIR="+s.dataDir, "BERTH_ADDR="+s.addr, "DATABASE_URL=",
		fmt.Sprintf("BERTH_HTTP_PORT=%d", s.httpPort), fmt.Sprintf("BERTH_HTTPS_PORT=%d", dockertest.FreePort(t)),
		fmt.Sprintf("BERTH_TRAEFIK_API_PORT=%d", dockertest.FreePort(t)), "BERTH_PLUGIN_INDEX="+pluginIndex,
		"BERTH_LOG_LEVEL=debug")
	t.Cleanup(s.cleanup)
	s.start()
	s.setup()
	return s
}

func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command(berthBin, "server")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.exited)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + s.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-s.exited:
			s.t.Fatalf("berth exited at start:\n%s", s.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.t.Fatalf("berth did not answer /healthz:\n%s", s.out.String())
}

// kill ends berth abruptly (SIGKILL to berth only: its PostgreSQL and
// Traefik survive, as they would in a crash).
func (s *server) kill() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
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
	// Stop a postgres left by a killed berth.
	if data, err := os.ReadFile(filepath.Join(s.dataDir, "postgres", "data", "postmaster.pid")); err == nil {
		var pid int
		fmt.Sscan(string(data), &pid)
		if pid > 0 {
			syscall.Kill(pid, syscall.SIGQUIT)
			time.Sleep(500 * time.Millisecond)
		}
	}
	services, _ := s.docker.ServiceList(ctx, serviceListOptions(s.name))
	for _, svc := range services {
		dockertest.RemoveService(s.docker, svc.ID)
	}
	_ = s.docker.ContainerRemove(ctx, s.name+"-traefik", container.RemoveOptions{Force: true})
	nets, _ := s.docker.NetworkList(ctx, networkListOptions(s.name))
	for _, n := range nets {
		for i := 0; i < 30; i++ {
			if err := s.docker.NetworkRemove(ctx, n.ID); err == nil || dockertest.IsNotFound(err) {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
}

// setup creates the first admin and an API key.
func (s *server) setup() {
	s.t.Helper()
	tok, err := os.ReadFile(filepath.Join(s.dataDir, "setup-token"))
	if err != nil {
		s.t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"token": strings.TrimSpace(string(tok)), "email": "e2e@example.com", "name": "E2E", "password": "correct horse battery"})
	resp, err := http.Post("http://"+s.addr+"/api/v1/setup", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 201 {
		s.t.Fatalf("setup: %v %v", err, resp)
	}
	var sess struct {
		CSRF string `json:"csrf_token"`
	}
	json.NewDecoder(resp.Body).Decode(&sess)
	resp.Body.Close()
	req, _ := http.NewRequest("POST", "http://"+s.addr+"/api/v1/api-keys", strings.NewReader(`{"name":"e2e"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", sess.CSRF)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	kr, err := http.DefaultClient.Do(req)
	if err != nil || kr.StatusCode != 201 {
		s.t.Fatalf("api key: %v %v", err, kr)
	}
	var key struct {
		Token string `json:"token"`
	}
	json.NewDecoder(kr.Body).Decode(&key)
	kr.Body.Close()
	s.key = key.Token
}

// call sends an API request; out (if not nil) receives the JSON answer. It
// fails the test unless the status is want.
func (s *server) call(method, path string, body any, want int, out any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, "http://"+s.addr+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: decode: %v: %s", method, path, err, data)
		}
	}
}

type deployment struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Step   string `json:"step"`
	Error  string `json:"error"`
	Image  string `json:"image"`
	Steps  []struct {
		Name       string `json:"name"`
		DurationMS int64  `json:"duration_ms"`
	} `json:"steps"`
}

type app struct {
	ID          string `json:"id"`
	ServiceName string `json:"service_name"`
}

// newApp creates a project and an application from spec, and routes host to it.
func (s *server) newApp(spec map[string]any, host string) app {
	s.t.Helper()
	var proj struct {
		Environments []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	s.call("POST", "/projects", map[string]any{"name": "p-" + host}, 201, &proj)
	var a app
	s.call("POST", "/environments/"+proj.Environments[0].ID+"/applications", spec, 201, &a)
	if host != "" {
		s.call("POST", "/applications/"+a.ID+"/domains", map[string]any{"host": host}, 201, nil)
	}
	return a
}

func (s *server) deploy(a app) deployment {
	s.t.Helper()
	var d deployment
	s.call("POST", "/applications/"+a.ID+"/deployments", map[string]any{}, 202, &d)
	return d
}

// wait polls a deployment until cond holds.
func (s *server) wait(id string, timeout time.Duration, cond func(deployment) bool) deployment {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var d deployment
	for time.Now().Before(deadline) {
		s.call("GET", "/deployments/"+id, nil, 200, &d)
		if cond(d) {
			return d
		}
		time.Sleep(150 * time.Millisecond)
	}
	s.t.Fatalf("deployment %s: condition not met in %s; last %+v\nlog:\n%s", id, timeout, d, s.logText(id))
	return d
}

func finished(d deployment) bool {
	return d.Status == "succeeded" || d.Status == "failed" || d.Status == "cancelled"
}

func (s *server) deployAndWait(a app, want string) deployment {
	s.t.Helper()
	d := s.wait(s.deploy(a).ID, 3*time.Minute, finished)
	if d.Status != want {
		s.t.Fatalf("deployment %s: status %s (%s), want %s\nlog:\n%s", d.ID, d.Status, d.Error, want, s.logText(d.ID))
	}
	return d
}

func (s *server) logText(id string) string {
	var page struct {
		Items []struct {
			Line string `json:"line"`
		} `json:"items"`
	}
	req, _ := http.NewRequest("GET", "http://"+s.addr+"/api/v1/deployments/"+id+"/logs", nil)
	req.Header.Set("Authorization", "Bearer "+s.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&page)
	var b strings.Builder
	for _, l := range page.Items {
		b.WriteString(l.Line + "\n")
	}
	return b.String()
}

// get requests host/path through Traefik.
func (s *server) get(host, path string) (int, string) {
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", s.httpPort, path), nil)
	req.Host = host
	noFollow := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := (&http.Client{Timeout: 3 * time.Second, CheckRedirect: noFollow}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		resp.Body.Close()
		return resp.StatusCode, "Location: " + loc
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// expect waits until host/path answers status with body (body "" = any).
func (s *server) expect(host, path string, status int, body string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var gotStatus int
	var gotBody string
	for time.Now().Before(deadline) {
		gotStatus, gotBody = s.get(host, path)
		if gotStatus == status && (body == "" || strings.Contains(gotBody, body)) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("%s%s: got %d %q, want %d %q", host, path, gotStatus, gotBody, status, body)
}
