package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/app"
	"github.com/berth-dev/berth/core/config"
	"github.com/berth-dev/berth/test/dockertest"
	"github.com/docker/docker/client"
)

// instance is a whole berth server (embedded PostgreSQL, real Traefik) for a test.
type instance struct {
	t      *testing.T
	cfg    config.Config
	srv    *app.Server
	docker *client.Client
	base   string
}

func newInstance(t *testing.T) *instance {
	t.Helper()
	docker := dockertest.Client(t)
	name := dockertest.UniqueName("bt")
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Name = name
	cfg.DataDir = filepath.Join(dockertest.SearchableTempDir(t), "data")
	cfg.Addr = fmt.Sprintf("127.0.0.1:%d", dockertest.FreePort(t))
	cfg.PublicURL = "http://" + cfg.Addr
	cfg.DatabaseURL = ""
	cfg.Proxy.HTTPPort = dockertest.FreePort(t)
	cfg.Proxy.HTTPSPort = dockertest.FreePort(t)
	cfg.Proxy.APIPort = dockertest.FreePort(t)
	in := &instance{t: t, cfg: cfg, docker: docker, base: "http://" + cfg.Addr}
	t.Cleanup(func() {
		ctx := context.Background()
		_ = docker.ContainerRemove(ctx, name+"-traefik", containerRemoveOptions())
		for i := 0; i < 50; i++ {
			if err := docker.NetworkRemove(ctx, name+"-proxy"); err == nil || dockertest.IsNotFound(err) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	in.start()
	return in
}

func (in *instance) start() {
	in.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	srv, err := app.Start(context.Background(), in.cfg, log, "test")
	if err != nil {
		in.t.Fatalf("start berth: %v", err)
	}
	in.srv = srv
	in.t.Cleanup(func() { in.stop() })
}

func (in *instance) stop() {
	if in.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := in.srv.Shutdown(ctx); err != nil {
		in.t.Errorf("shutdown: %v", err)
	}
	in.srv = nil
}

// call sends a JSON request to the API and decodes the answer.
func (in *instance) call(method, path, key string, body, out any) int {
	in.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, in.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			in.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		in.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode
}

// setupAdmin creates the first admin with the setup token from the data dir
// and returns an API key.
func (in *instance) setupAdmin() string {
	in.t.Helper()
	tok, err := os.ReadFile(filepath.Join(in.cfg.DataDir, app.SetupTokenFile))
	if err != nil {
		in.t.Fatalf("setup token file: %v", err)
	}
	body := map[string]any{"token": strings.TrimSpace(string(tok)), "email": "admin@example.com", "name": "Admin", "password": "correct horse battery"}
	data, _ := json.Marshal(body)
	resp, err := http.Post(in.base+"/api/v1/setup", "application/json", bytes.NewReader(data))
	if err != nil || resp.StatusCode != 201 {
		in.t.Fatalf("setup: %v %v", err, resp)
	}
	var sess struct {
		CSRFToken string `json:"csrf_token"`
	}
	json.NewDecoder(resp.Body).Decode(&sess)
	resp.Body.Close()
	req, _ := http.NewRequest("POST", in.base+"/api/v1/api-keys", strings.NewReader(`{"name":"test"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", sess.CSRFToken)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	kresp, err := http.DefaultClient.Do(req)
	if err != nil || kresp.StatusCode != 201 {
		in.t.Fatalf("create key: %v %v", err, kresp)
	}
	defer kresp.Body.Close()
	var key struct {
		Token string `json:"token"`
	}
	json.NewDecoder(kresp.Body).Decode(&key)
	if _, err := os.Stat(filepath.Join(in.cfg.DataDir, app.SetupTokenFile)); err == nil {
		// Removed by housekeeping or at next start; the token itself is already consumed.
	}
	return key.Token
}

// viaProxy requests http://host/path through Traefik's published HTTP port.
func (in *instance) viaProxy(host, path string) (int, string, error) {
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", in.cfg.Proxy.HTTPPort, path), nil)
	req.Host = host
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

func (in *instance) waitViaProxy(host, path, want string) {
	in.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		status, body, err := in.viaProxy(host, path)
		if err == nil && status == 200 && body == want {
			return
		}
		last = fmt.Sprintf("%d %q %v", status, body, err)
		time.Sleep(100 * time.Millisecond)
	}
	in.t.Fatalf("%s%s never answered %q through Traefik; last: %s", host, path, want, last)
}

func (in *instance) traefikState() (id string, started string) {
	in.t.Helper()
	c, err := in.docker.ContainerInspect(context.Background(), in.cfg.Name+"-traefik")
	if err != nil {
		in.t.Fatalf("inspect traefik: %v", err)
	}
	for _, m := range c.Mounts {
		if strings.Contains(m.Source, "docker.sock") {
			in.t.Fatalf("traefik mounts the docker socket: %+v", m)
		}
	}
	return c.ID, c.State.StartedAt
}

// TestRestartLeavesTraefikServing routes a domain to a real Swarm service,
// restarts berth under load, and checks no request failed and Traefik was
// neither restarted nor recreated.
func TestRestartLeavesTraefikServing(t *testing.T) {
	in := newInstance(t)
	key := in.setupAdmin()

	var proj struct {
		ID           string `json:"id"`
		Environments []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	in.call("POST", "/api/v1/projects", key, map[string]any{"name": "restart"}, &proj)
	var a struct {
		ID          string `json:"id"`
		ServiceName string `json:"service_name"`
	}
	image := "berth-test/backend:" + in.cfg.Name
	in.call("POST", "/api/v1/environments/"+proj.Environments[0].ID+"/applications", key,
		map[string]any{"name": "web", "image": image, "port": 8080}, &a)

	dockertest.BuildGoImage(t, in.docker, "./test/backend", image, false)
	dockertest.CreateService(t, in.docker, dockertest.ServiceSpec{Name: a.ServiceName, Image: image,
		Network: in.cfg.Name + "-proxy", Env: []string{"MESSAGE=hello"}})

	var d struct{ ID string }
	in.call("POST", "/api/v1/applications/"+a.ID+"/domains", key, map[string]any{"host": "restart.berth.test"}, &d)
	in.waitViaProxy("restart.berth.test", "/x", "hello /x")
	id, started := in.traefikState()
	// Traefik's own API answers on the loopback port (through the allow list).
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/version", in.cfg.Proxy.APIPort))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("traefik API on loopback: %v %v", err, resp)
	}
	resp.Body.Close()

	// Steady load through Traefik while berth restarts.
	var sent, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				status, body, err := in.viaProxy("restart.berth.test", "/load")
				if err != nil || status != 200 || body != "hello /load" {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%d %q %v", status, body, err))
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	in.stop()
	time.Sleep(500 * time.Millisecond) // berth is down: Traefik must keep serving
	in.start()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()

	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during the restart; first: %v", failed.Load(), sent.Load(), firstFailure.Load())
	}
	if sent.Load() < 50 {
		t.Fatalf("only %d requests sent", sent.Load())
	}
	id2, started2 := in.traefikState()
	if id2 != id || started2 != started {
		t.Fatalf("traefik was recreated or restarted: %s@%s -> %s@%s", id, started, id2, started2)
	}
	// State survived: the same key works and the domain is still routed.
	var apps struct {
		Items []struct{ ID string } `json:"items"`
	}
	in.call("GET", "/api/v1/applications", key, nil, &apps)
	if len(apps.Items) != 1 {
		t.Fatalf("applications after restart = %d", len(apps.Items))
	}
	if _, err := os.Stat(filepath.Join(in.cfg.DataDir, app.SetupTokenFile)); err == nil {
		t.Fatal("the setup token file is still there after setup and restart")
	}
	// Removing the domain removes the route.
	in.call("DELETE", "/api/v1/domains/"+d.ID, key, nil, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _, _ := in.viaProxy("restart.berth.test", "/x")
		if status == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("route still answers %d after its domain was deleted", status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d requests through Traefik across a berth restart, 0 failed", sent.Load())
}

// TestEmbeddedPostgresStopsWithBerth checks the embedded cluster is stopped
// on shutdown and listens on no TCP port.
func TestEmbeddedPostgresStopsWithBerth(t *testing.T) {
	in := newInstance(t)
	pg := in.srv.Postgres()
	if pg == nil {
		t.Fatal("no embedded postgres without DATABASE_URL")
	}
	pid := pg.PID()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		t.Fatalf("postmaster %d not running: %v", pid, err)
	}
	in.stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(data), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postmaster %d still running after berth stopped", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
