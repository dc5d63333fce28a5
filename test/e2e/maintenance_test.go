package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/dockertest"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"
)

// TestMaintenanceMode: an application's domains answer 503 with
// Retry-After and its page (custom or default) while it is in maintenance
// mode, and the application again once it leaves; the page server runs
// only while some application is in maintenance. It logs how long
// entering takes: the first time (building the page server's image from
// berth's binary and starting its service), with the server running, and
// after the idle server was removed.
func TestMaintenanceMode(t *testing.T) {
	s := newServer(t)
	docker := dockertest.Client(t)
	ctx := context.Background()
	img := s.Name + "-maint:v1"
	buildImage(t, s, img)
	shop := s.newApp(map[string]any{"name": "shop", "source_type": "image", "image": img, "port": 8080}, "shop.e2e.test")
	blog := s.newApp(map[string]any{"name": "blog", "source_type": "image", "image": img, "port": 8080}, "blog.e2e.test")
	s.deployAndWait(shop, "succeeded")
	s.deployAndWait(blog, "succeeded")
	s.Expect("shop.e2e.test", "/", 200, "")
	s.Expect("blog.e2e.test", "/", 200, "")

	// The page image is built from berth's own binary the first time.
	ref := pagesImage(t)
	_, _ = docker.ImageRemove(ctx, ref, image.RemoveOptions{Force: true})
	t.Cleanup(func() { // before the server's cleanup: the idle page server may still run
		if svc, _, err := docker.ServiceInspectWithRaw(context.Background(), s.Name+"-pages", swarm.ServiceInspectOptions{}); err == nil {
			dockertest.RemoveService(docker, svc.ID)
		}
		_, _ = docker.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true})
	})

	enter := func(a app, body map[string]any) (answered, serving time.Duration) {
		t.Helper()
		host := map[string]string{shop.ID: "shop.e2e.test", blog.ID: "blog.e2e.test"}[a.ID]
		start := time.Now()
		var state struct {
			Enabled bool `json:"enabled"`
		}
		s.Call("PUT", "/applications/"+a.ID+"/maintenance", body, 200, &state)
		answered = time.Since(start)
		if !state.Enabled {
			t.Fatalf("PUT answered enabled=false")
		}
		s.Expect(host, "/", 503, "")
		return answered, time.Since(start)
	}

	t.Run("custom page", func(t *testing.T) {
		answered, serving := enter(shop, map[string]any{"enabled": true, "page": "<h1>Back at noon</h1>", "retry_after_seconds": 300})
		t.Logf("entering the first time (image build + page server start): PUT answered in %s, domain answered 503 after %s",
			answered.Round(time.Millisecond), serving.Round(time.Millisecond))
		for _, method := range []string{"GET", "HEAD", "POST"} {
			status, h, body := viaProxy(t, s, method, "shop.e2e.test", "/cart?x=1")
			if status != 503 || h.Get("Retry-After") != "300" || h.Get("Cache-Control") != "no-store" ||
				h.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("%s: %d %v", method, status, h)
			}
			if want := map[bool]string{true: "", false: "<h1>Back at noon</h1>"}[method == "HEAD"]; body != want {
				t.Errorf("%s: body %q, want %q", method, body, want)
			}
		}
		s.Expect("blog.e2e.test", "/", 200, "") // other applications are untouched
	})

	t.Run("default page with the page server running", func(t *testing.T) {
		answered, serving := enter(blog, map[string]any{"enabled": true})
		t.Logf("entering with the page server running: PUT answered in %s, domain answered 503 after %s",
			answered.Round(time.Millisecond), serving.Round(time.Millisecond))
		status, h, body := viaProxy(t, s, "GET", "blog.e2e.test", "/")
		if status != 503 || h.Get("Retry-After") != "120" || !strings.Contains(body, "blog is under maintenance") {
			t.Errorf("default page: %d %v %q", status, h, body)
		}
	})

	t.Run("leaving restores the routes", func(t *testing.T) {
		start := time.Now()
		s.Call("PUT", "/applications/"+shop.ID+"/maintenance", map[string]any{"enabled": false}, 200, nil)
		s.Expect("shop.e2e.test", "/", 200, "")
		t.Logf("leaving: the application answered again after %s", time.Since(start).Round(time.Millisecond))
		s.Expect("blog.e2e.test", "/", 503, "blog is under maintenance")
		s.Call("PUT", "/applications/"+blog.ID+"/maintenance", map[string]any{"enabled": false}, 200, nil)
		s.Expect("blog.e2e.test", "/", 200, "")
	})

	t.Run("the idle page server is removed, and started again", func(t *testing.T) {
		name := s.Name + "-pages"
		deadline := time.Now().Add(90 * time.Second)
		for {
			_, _, err := docker.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
			if cerrdefs.IsNotFound(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("service %s still exists 90s after the last application left maintenance (%v)", name, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
		answered, serving := enter(shop, map[string]any{"enabled": true})
		t.Logf("entering after the idle page server was removed (image kept): PUT answered in %s, domain answered 503 after %s",
			answered.Round(time.Millisecond), serving.Round(time.Millisecond))
		s.Expect("shop.e2e.test", "/", 503, "Back at noon") // the saved page
		s.Call("PUT", "/applications/"+shop.ID+"/maintenance", map[string]any{"enabled": false}, 200, nil)
		s.Expect("shop.e2e.test", "/", 200, "")
	})
}

// pagesImage is the page server's image berth builds from its binary.
func pagesImage(t *testing.T) string {
	t.Helper()
	f, err := os.Open(bins.Berth)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return "berth/pages:" + hex.EncodeToString(h.Sum(nil))[:12]
}

// viaProxy sends method to host/path through Traefik and returns the
// status, headers and body.
func viaProxy(t *testing.T, s *server, method, host, path string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", s.HTTPPort, path), strings.NewReader("x=1"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, host, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}
