package main

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
)

// instance is one `berth server` process with its own name, data directory,
// ports and Traefik, like the end-to-end tests run it.
type instance struct {
	bin, name, dir         string
	addr                   string
	httpPort, traefikAPI   int
	env                    []string
	cmd                    *exec.Cmd
	exited                 chan struct{}
	logPath                string
	api                    *apiClient
	dataDir, dynamicConfig string
}

// freePort returns a TCP port free on loopback right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// newInstance prepares (but does not start) a berth server in dir.
func newInstance(bin, dir, name string, extraEnv ...string) (*instance, error) {
	ports := make([]int, 4)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	in := &instance{bin: bin, name: name, dir: dir, addr: fmt.Sprintf("127.0.0.1:%d", ports[0]),
		httpPort: ports[1], traefikAPI: ports[3], logPath: filepath.Join(dir, "berth.log"),
		dataDir: filepath.Join(dir, "data")}
	in.dynamicConfig = filepath.Join(in.dataDir, "traefik", "dynamic", "berth.yaml")
	in.env = append(os.Environ(), "BERTH_NAME="+name, "BERTH_DATA_DIR="+in.dataDir, "BERTH_ADDR="+in.addr,
		"DATABASE_URL=", fmt.Sprintf("BERTH_HTTP_PORT=%d", ports[1]), fmt.Sprintf("BERTH_HTTPS_PORT=%d", ports[2]),
		fmt.Sprintf("BERTH_TRAEFIK_API_PORT=%d", ports[3]))
	in.env = append(in.env, extraEnv...)
	return in, nil
}

// start runs the server and returns how long it took to answer /healthz.
func (in *instance) start() (time.Duration, error) {
	log, err := os.OpenFile(in.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("open log: %w", err)
	}
	in.cmd = exec.Command(in.bin, "server")
	in.cmd.Env = in.env
	in.cmd.Stdout, in.cmd.Stderr = log, log
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	begin := time.Now()
	if err := in.cmd.Start(); err != nil {
		log.Close()
		return 0, fmt.Errorf("start berth: %w", err)
	}
	in.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		log.Close()
		close(done)
	}(in.cmd, in.exited)
	c := &http.Client{Timeout: time.Second}
	for time.Since(begin) < 2*time.Minute {
		if resp, err := c.Get("http://" + in.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(begin), nil
			}
		}
		select {
		case <-in.exited:
			return 0, fmt.Errorf("berth exited at start; see %s:\n%s", in.logPath, in.logTail(3000))
		case <-time.After(2 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("berth did not answer /healthz; see %s", in.logPath)
}

// stop sends SIGTERM and waits for the process to end.
func (in *instance) stop() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	select {
	case <-in.exited:
		return
	default:
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(30 * time.Second):
		_ = in.cmd.Process.Kill()
		<-in.exited
	}
}

// pid is the server's process id.
func (in *instance) pid() int { return in.cmd.Process.Pid }

// logTail returns the last n bytes of the server's log.
func (in *instance) logTail(n int) string {
	data, _ := os.ReadFile(in.logPath)
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

// cleanup removes what the instance created in Docker. Services carry the
// instance label; networks and the Traefik container are named after it.
func (in *instance) cleanup() {
	in.stop()
	if data, err := os.ReadFile(filepath.Join(in.dataDir, "postgres", "data", "postmaster.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0])); err == nil && pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
		}
	}
	out, _ := exec.Command("docker", "service", "ls", "-q", "--filter", "label=dev.berth.instance="+in.name).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.Command("docker", append([]string{"service", "rm"}, ids...)...).Run()
	}
	_ = exec.Command("docker", "rm", "-f", in.name+"-traefik").Run()
	for range 40 {
		out, _ := exec.Command("docker", "network", "ls", "-q", "--filter", "name="+in.name+"-").Output()
		ids := strings.Fields(string(out))
		if len(ids) == 0 {
			break
		}
		_ = exec.Command("docker", append([]string{"network", "rm"}, ids...)...).Run()
		time.Sleep(500 * time.Millisecond)
	}
}

// setup creates the first administrator and an API key.
func (in *instance) setup() error {
	tok, err := os.ReadFile(filepath.Join(in.dataDir, "setup-token"))
	if err != nil {
		return fmt.Errorf("setup token: %w", err)
	}
	body, _ := json.Marshal(map[string]string{"token": strings.TrimSpace(string(tok)), "email": "bench@example.com",
		"name": "Bench", "password": "correct horse battery"})
	resp, err := http.Post("http://"+in.addr+"/api/v1/setup", "application/json", bytes.NewReader(body))
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
	req, _ := http.NewRequest("POST", "http://"+in.addr+"/api/v1/api-keys", strings.NewReader(`{"name":"bench"}`))
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
	if err := json.NewDecoder(kr.Body).Decode(&key); err != nil || key.Token == "" {
		return fmt.Errorf("api key: status %d: %v", kr.StatusCode, err)
	}
	in.api = &apiClient{base: "http://" + in.addr + "/api/v1", key: key.Token,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	return nil
}

// apiClient calls berth's REST API with an API key.
type apiClient struct {
	base, key string
	http      *http.Client
}

// statusError is an API answer with an unexpected status.
type statusError struct {
	method, path string
	status       int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.method, e.path, e.status, e.body)
}

// call sends a request and decodes the JSON answer into out (if not nil).
// Any status of 300 or more is an error.
func (a *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return &statusError{method: method, path: path, status: resp.StatusCode, body: string(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// deployment is the part of the API's deployment the bench reads.
type deployment struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

func (d deployment) finished() bool {
	return d.Status == "succeeded" || d.Status == "failed" || d.Status == "cancelled"
}

// deploy queues a deployment of app.
func (a *apiClient) deploy(ctx context.Context, app string) (deployment, error) {
	var d deployment
	err := a.call(ctx, "POST", "/applications/"+app+"/deployments", map[string]any{}, &d)
	return d, err
}

// waitDeployment polls a deployment until it finished and returns it; a
// deployment that did not succeed is an error.
func (a *apiClient) waitDeployment(ctx context.Context, id string, timeout time.Duration) (deployment, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d deployment
	for {
		if err := a.call(ctx, "GET", "/deployments/"+id, nil, &d); err != nil {
			return d, fmt.Errorf("deployment %s: %w", id, err)
		}
		if d.finished() {
			if d.Status != "succeeded" {
				return d, fmt.Errorf("deployment %s %s: %s", id, d.Status, d.Error)
			}
			return d, nil
		}
		select {
		case <-ctx.Done():
			return d, fmt.Errorf("deployment %s still %s: %w", id, d.Status, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// setVar sets an application variable; an empty value deletes it.
func (a *apiClient) setVar(ctx context.Context, app, name, value string) error {
	if value == "" {
		err := a.call(ctx, "DELETE", "/applications/"+app+"/variables/"+name, nil, nil)
		if se := (*statusError)(nil); errors.As(err, &se) && se.status == http.StatusNotFound {
			return nil
		}
		return err
	}
	return a.call(ctx, "PUT", "/applications/"+app+"/variables/"+name, map[string]any{"value": value}, nil)
}

// project creates a project and returns its production environment's id.
func (a *apiClient) project(ctx context.Context, name string) (projectID, envID string, err error) {
	var p struct {
		ID           string `json:"id"`
		Environments []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	if err := a.call(ctx, "POST", "/projects", map[string]any{"name": name}, &p); err != nil {
		return "", "", err
	}
	if len(p.Environments) == 0 {
		return "", "", fmt.Errorf("project %s has no environment", name)
	}
	return p.ID, p.Environments[0].ID, nil
}

// app creates an image application and returns its id.
func (a *apiClient) app(ctx context.Context, env, name, image string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := a.call(ctx, "POST", "/environments/"+env+"/applications",
		map[string]any{"name": name, "image": image, "port": 8080}, &out)
	return out.ID, err
}

// domain adds a domain to an application and returns its id.
func (a *apiClient) domain(ctx context.Context, app string, spec map[string]any) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := a.call(ctx, "POST", "/applications/"+app+"/domains", spec, &out)
	return out.ID, err
}
