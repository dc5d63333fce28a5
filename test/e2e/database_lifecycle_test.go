package e2e_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/berth-dev/berth/test/dbimages"
	"github.com/berth-dev/berth/test/dockertest"
)

// TestDatabaseLifecycle: databases of one environment reach each other by
// their internal hostname; an external port is published in host mode with
// the password enforced; limits reach the service; stop keeps the service
// and the data, start brings both back; a changed limit is rolled out
// stop-first without losing data; delete keeps the volume by default.
func TestDatabaseLifecycle(t *testing.T) {
	images := dbimages.Ensure(t)
	s := newServer(t)
	var proj struct {
		Environments []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	s.Call("POST", "/projects", map[string]any{"name": "cache"}, 201, &proj)
	env := proj.Environments[0].ID
	port := dockertest.FreePort(t)

	var cache, queue database
	s.Call("POST", "/environments/"+env+"/databases", map[string]any{"name": "cache", "engine": "redis",
		"image": images.Redis, "external_port": port, "memory_limit_mb": 256, "cpu_limit": 0.5}, 201, &cache)
	s.Call("POST", "/environments/"+env+"/databases", map[string]any{"name": "queue", "engine": "redis",
		"image": images.Redis}, 201, &queue)
	// A second database cannot take the same external port.
	s.Call("POST", "/environments/"+env+"/databases", map[string]any{"name": "other", "engine": "redis",
		"image": images.Redis, "external_port": port}, 422, nil)
	s.Call("POST", "/databases/"+cache.ID+"/deploy", nil, 200, nil)
	s.Call("POST", "/databases/"+queue.ID+"/deploy", nil, 200, nil)

	var cacheConn, queueConn struct {
		Host     string `json:"host"`
		Port     int    `json:"port"`
		Password string `json:"password"`
		URL      string `json:"url"`
	}
	s.Call("GET", "/databases/"+cache.ID+"/connection", nil, 200, &cacheConn)
	s.Call("GET", "/databases/"+queue.ID+"/connection", nil, 200, &queueConn)
	if !strings.HasPrefix(cacheConn.URL, "redis://") || cacheConn.Host != cache.ServiceName {
		t.Fatalf("connection = %+v", cacheConn)
	}

	redis := func(db database, password string, args ...string) (string, error) {
		return s.execErr(db.ServiceName, []string{"REDISCLI_AUTH=" + password}, append([]string{"redis-cli"}, args...)...)
	}
	s.waitFor("both databases answering", 60*time.Second, func() bool {
		a, err1 := redis(cache, cacheConn.Password, "ping")
		b, err2 := redis(queue, queueConn.Password, "ping")
		return err1 == nil && err2 == nil && a == "PONG" && b == "PONG"
	})
	// The internal hostname resolves on the environment's network.
	if out, err := redis(cache, queueConn.Password, "-h", queueConn.Host, "-p", fmt.Sprint(queueConn.Port), "set", "job", "42"); err != nil || out != "OK" {
		t.Fatalf("cache -> queue by internal hostname: %q, %v", out, err)
	}
	if out, _ := redis(queue, queueConn.Password, "get", "job"); out != "42" {
		t.Fatalf("queue has job=%q", out)
	}

	// The external port answers on the host and wants the password.
	if reply := redisOverTCP(t, port, "PING"); !strings.HasPrefix(reply, "-NOAUTH") {
		t.Fatalf("PING without AUTH on the external port = %q, want NOAUTH", reply)
	}
	svc, _, err := s.Docker.ServiceInspectWithRaw(t.Context(), cache.ServiceName, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ports := svc.Endpoint.Spec.Ports
	if len(ports) != 1 || ports[0].PublishMode != swarm.PortConfigPublishModeHost || int(ports[0].PublishedPort) != port {
		t.Errorf("published ports = %+v, want %d in host mode", ports, port)
	}
	if r := svc.Spec.TaskTemplate.Resources; r == nil || r.Limits == nil || r.Limits.MemoryBytes != 256<<20 || r.Limits.NanoCPUs != 5e8 {
		t.Errorf("limits = %+v", svc.Spec.TaskTemplate.Resources)
	}
	if svc.Spec.UpdateConfig == nil || svc.Spec.UpdateConfig.Order != swarm.UpdateOrderStopFirst {
		t.Errorf("update config = %+v, want stop-first", svc.Spec.UpdateConfig)
	}

	if _, err := redis(cache, cacheConn.Password, "set", "greeting", "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := redis(cache, cacheConn.Password, "save"); err != nil {
		t.Fatal(err)
	}
	s.Call("POST", "/databases/"+cache.ID+"/stop", nil, 200, nil)
	if _, err := redis(cache, cacheConn.Password, "ping"); err == nil {
		t.Fatal("a stopped database still answers")
	}
	s.Call("POST", "/databases/"+cache.ID+"/start", nil, 200, nil)
	s.waitFor("the restarted database", 60*time.Second, func() bool {
		out, err := redis(cache, cacheConn.Password, "get", "greeting")
		return err == nil && out == "hello"
	})

	// A changed limit rolls out stop-first and keeps the data.
	s.Call("PATCH", "/databases/"+cache.ID, map[string]any{"memory_limit_mb": 128}, 200, nil)
	s.Call("POST", "/databases/"+cache.ID+"/deploy", nil, 200, nil)
	s.waitFor("the updated database", 60*time.Second, func() bool {
		out, err := redis(cache, cacheConn.Password, "get", "greeting")
		return err == nil && out == "hello"
	})

	var full struct {
		VolumeName string `json:"volume_name"`
	}
	s.Call("GET", "/databases/"+cache.ID, nil, 200, &full)
	s.Call("DELETE", "/databases/"+cache.ID, nil, 204, nil)
	if _, err := s.Docker.VolumeInspect(t.Context(), full.VolumeName); err != nil {
		t.Fatalf("deleting a database must keep its volume: %v", err)
	}
	_ = s.Docker.VolumeRemove(t.Context(), full.VolumeName, true)
}

// redisOverTCP sends one inline command to 127.0.0.1:port and returns the
// first reply line.
func redisOverTCP(t *testing.T, port int, command string) string {
	t.Helper()
	var reply string
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
		if err == nil {
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(conn, "%s\r\n", command)
			reply, err = bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if err == nil {
				return strings.TrimSpace(reply)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("external port %d: %v", port, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
