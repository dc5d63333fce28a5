package berthtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-dev/berth/test/dockertest"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// Config says how to run one berth server.
type Config struct {
	// Bin is the berth binary.
	Bin string
	// Dir is the server's directory: its data directory is Dir/data and its
	// log Dir/berth.log. Other OS users (the embedded PostgreSQL's) must be
	// able to traverse it.
	Dir string
	// Name is the instance name (BERTH_NAME), which prefixes its Docker
	// objects.
	Name string
	// PluginIndex is the plugin index to serve (BERTH_PLUGIN_INDEX); "" for
	// none.
	PluginIndex string
	// Env is added to the environment after the defaults (and so wins).
	Env []string
	// Poll is how often Start asks /healthz; 20ms if zero.
	Poll time.Duration
}

// Server is one `berth server` process with its own name, data directory,
// embedded PostgreSQL (DATABASE_URL is empty), Traefik container and ports.
// It is not safe for concurrent use.
type Server struct {
	// Name is the instance name.
	Name string
	// DataDir is BERTH_DATA_DIR.
	DataDir string
	// Addr is the API's host:port on loopback.
	Addr string
	// HTTPPort, HTTPSPort and TraefikAPIPort are Traefik's published ports.
	HTTPPort, HTTPSPort, TraefikAPIPort int
	// LogPath is the file that receives the output of every run, appended.
	LogPath string
	// Key is the API key Setup created.
	Key string

	bin    string
	env    []string
	poll   time.Duration
	cmd    *exec.Cmd
	exited chan struct{}
}

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// New prepares (but does not start) a server: it picks free ports and
// builds the environment.
func New(cfg Config) (*Server, error) {
	if cfg.Bin == "" || cfg.Dir == "" || cfg.Name == "" {
		return nil, errors.New("berthtest: Config needs Bin, Dir and Name")
	}
	var ports [4]int
	for i := range ports {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	s := &Server{Name: cfg.Name, DataDir: filepath.Join(cfg.Dir, "data"), Addr: fmt.Sprintf("127.0.0.1:%d", ports[0]),
		HTTPPort: ports[1], HTTPSPort: ports[2], TraefikAPIPort: ports[3], LogPath: filepath.Join(cfg.Dir, "berth.log"),
		bin: cfg.Bin, poll: cfg.Poll}
	if s.poll <= 0 {
		s.poll = 20 * time.Millisecond
	}
	s.env = append(os.Environ(), "BERTH_NAME="+s.Name, "BERTH_DATA_DIR="+s.DataDir, "BERTH_ADDR="+s.Addr,
		"DATABASE_URL=", "BERTH_HTTP_PORT="+strconv.Itoa(s.HTTPPort), "BERTH_HTTPS_PORT="+strconv.Itoa(s.HTTPSPort),
		"BERTH_TRAEFIK_API_PORT="+strconv.Itoa(s.TraefikAPIPort))
	if cfg.PluginIndex != "" {
		s.env = append(s.env, "BERTH_PLUGIN_INDEX="+cfg.PluginIndex)
	}
	s.env = append(s.env, cfg.Env...)
	return s, nil
}

// SetEnv sets key=value in the environment of the next Start.
func (s *Server) SetEnv(key, value string) {
	s.UnsetEnv(key)
	s.env = append(s.env, key+"="+value)
}

// UnsetEnv removes key from the environment of the next Start.
func (s *Server) UnsetEnv(key string) {
	kept := s.env[:0:0]
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, key+"=") {
			kept = append(kept, kv)
		}
	}
	s.env = kept
}

// URL returns the address of path on berth's own HTTP server.
func (s *Server) URL(path string) string { return "http://" + s.Addr + path }

// Start runs `berth server` and waits until /healthz answers 200; it returns
// how long that took. It fails when the process exits first or does not
// answer within two minutes.
func (s *Server) Start(ctx context.Context) (time.Duration, error) {
	if s.Running() {
		return 0, errors.New("berth is already running")
	}
	if err := os.MkdirAll(filepath.Dir(s.LogPath), 0o711); err != nil {
		return 0, fmt.Errorf("log directory: %w", err)
	}
	log, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("open log: %w", err)
	}
	s.cmd = exec.Command(s.bin, "server")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	begin := time.Now()
	if err := s.cmd.Start(); err != nil {
		log.Close()
		return 0, fmt.Errorf("start berth: %w", err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		log.Close()
		close(done)
	}(s.cmd, s.exited)
	c := &http.Client{Timeout: time.Second}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL("/healthz"), nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(begin), nil
			}
		}
		select {
		case <-s.exited:
			return 0, fmt.Errorf("berth exited at start (its output is in %s)", s.LogPath)
		case <-ctx.Done():
			return 0, fmt.Errorf("berth did not answer /healthz (its output is in %s): %w", s.LogPath, ctx.Err())
		case <-time.After(s.poll):
		}
	}
}

// Running reports whether the process started last is still running.
func (s *Server) Running() bool {
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Exited is closed when the process started last has ended.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// PID is the process id of the process started last.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Kill ends berth abruptly, as a crash would: SIGKILL to berth only, so its
// PostgreSQL and Traefik survive.
func (s *Server) Kill() {
	if !s.Running() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// Stop asks berth to end (SIGTERM) and kills it after 30 seconds.
func (s *Server) Stop() {
	if !s.Running() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// Output returns everything berth wrote, over all its runs.
func (s *Server) Output() string {
	data, _ := os.ReadFile(s.LogPath)
	return string(data)
}

// LogTail returns the last n bytes of berth's output.
func (s *Server) LogTail(n int) string {
	out := s.Output()
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// SetupToken reads the one-time setup token berth wrote to its data
// directory.
func (s *Server) SetupToken() (string, error) {
	tok, err := os.ReadFile(filepath.Join(s.DataDir, "setup-token"))
	if err != nil {
		return "", fmt.Errorf("setup token: %w", err)
	}
	return strings.TrimSpace(string(tok)), nil
}

// Setup creates the first administrator (email, password "correct horse
// battery") and an API key, which it keeps in Key.
func (s *Server) Setup(ctx context.Context, email string) error {
	tok, err := s.SetupToken()
	if err != nil {
		return err
	}
	name, _, _ := strings.Cut(email, "@")
	body, _ := json.Marshal(map[string]string{"token": tok, "email": email, "name": name, "password": "correct horse battery"})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL("/api/v1/setup"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	var sess struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&sess)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("setup: status %d", resp.StatusCode)
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, s.URL("/api/v1/api-keys"), strings.NewReader(`{"name":"`+name+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", sess.CSRF)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	kr, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("api key: %w", err)
	}
	defer kr.Body.Close()
	var key struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(kr.Body).Decode(&key); err != nil || kr.StatusCode != http.StatusCreated || key.Token == "" {
		return fmt.Errorf("api key: status %d: %v", kr.StatusCode, err)
	}
	s.Key = key.Token
	return nil
}

// Call sends a JSON API request (body nil for none) under /api/v1 with the
// API key and returns the status and the answer's body.
func (s *Server) Call(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL("/api/v1"+path), rd)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, data, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	return resp.StatusCode, data, nil
}

// ViaProxy requests path with Host host through Traefik's published HTTP
// port, without following redirects; body is "Location: <url>" for a
// redirect.
func (s *Server) ViaProxy(ctx context.Context, host, path string) (status int, body string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", s.HTTPPort, path), nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	noFollow := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := (&http.Client{Timeout: 3 * time.Second, CheckRedirect: noFollow}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, "Location: " + loc, nil
	}
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), err
}

// StopPostgres stops the embedded PostgreSQL a killed berth left running.
func (s *Server) StopPostgres() {
	data, err := os.ReadFile(filepath.Join(s.DataDir, "postgres", "data", "postmaster.pid"))
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(string(data), "\n")
	if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && pid > 0 {
		if syscall.Kill(pid, syscall.SIGQUIT) == nil {
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// Close stops berth and its PostgreSQL, then removes the instance's Docker
// objects: its services (by the dev.berth.instance label), its Traefik
// container and its networks (named <name>-...).
func (s *Server) Close(ctx context.Context, docker *client.Client) error {
	s.Stop()
	s.StopPostgres()
	var errs []error
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{
		Filters: filters.NewArgs(filters.Arg("label", "dev.berth.instance="+s.Name))})
	errs = append(errs, err)
	for _, svc := range services {
		dockertest.RemoveService(docker, svc.ID)
	}
	if err := docker.ContainerRemove(ctx, s.Name+"-traefik", container.RemoveOptions{Force: true}); err != nil && !dockertest.IsNotFound(err) {
		errs = append(errs, err)
	}
	nets, err := docker.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", s.Name+"-"))})
	errs = append(errs, err)
	// Swarm detaches the removed services' tasks in the background.
	nctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, n := range nets {
		errs = append(errs, dockertest.RemoveEventually(nctx, func(ctx context.Context) error { return docker.NetworkRemove(ctx, n.ID) }))
	}
	return errors.Join(errs...)
}
