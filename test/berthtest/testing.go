package berthtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/dockertest"
	"github.com/docker/docker/client"
)

// Options tune Run.
type Options struct {
	// Prefix starts the instance name ("bt" if empty).
	Prefix string
	// Env is added to the server's environment (after BERTH_LOG_LEVEL=debug).
	Env []string
	// NoSetup leaves the first-run setup to the test (the browser tests go
	// through the setup page); otherwise Run creates the administrator
	// e2e@example.com and an API key.
	NoSetup bool
	// NoProxy runs berth without Traefik (BERTH_DISABLE_PROXY=true): the
	// API only, for tests that route nothing.
	NoProxy bool
}

// T is a running server bound to a test: its methods fail the test.
type T struct {
	*Server
	// Docker is a client for the Swarm the server deploys to.
	Docker *client.Client
	t      testing.TB
}

// Run starts a server from bins for the test and sets it up (unless
// o.NoSetup). When the test ends the server is stopped and its Docker
// objects removed; when the test failed its log's tail is logged.
func Run(t testing.TB, bins *Binaries, o Options) *T {
	t.Helper()
	docker := dockertest.Client(t)
	if o.Prefix == "" {
		o.Prefix = "bt"
	}
	env := []string{"BERTH_LOG_LEVEL=debug"}
	if o.NoProxy {
		env = append(env, "BERTH_DISABLE_PROXY=true")
	}
	s, err := New(Config{Bin: bins.Berth, Dir: dockertest.SearchableTempDir(t), Name: dockertest.UniqueName(o.Prefix),
		PluginIndex: bins.PluginIndex, Env: append(env, o.Env...)})
	if err != nil {
		t.Fatal(err)
	}
	st := &T{Server: s, Docker: docker, t: t}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("berth output (tail):\n%s", s.LogTail(20000))
		}
		if err := s.Close(context.Background(), docker); err != nil {
			t.Logf("remove the Docker objects of %s: %v", s.Name, err)
		}
	})
	st.Start()
	if !o.NoSetup {
		if err := s.Setup(context.Background(), "e2e@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// Start starts berth again (after Kill or Stop), failing the test if it
// does not come up.
func (s *T) Start() {
	s.t.Helper()
	if _, err := s.Server.Start(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}

// Restart kills berth if it runs and starts it again with the test hook
// environment variable env set to point ("" to unset it).
func (s *T) Restart(env, point string) {
	s.t.Helper()
	s.Kill()
	if point == "" {
		s.UnsetEnv(env)
	} else {
		s.SetEnv(env, point)
	}
	s.Start()
}

// SetupToken returns the one-time setup token.
func (s *T) SetupToken() string {
	s.t.Helper()
	tok, err := s.Server.SetupToken()
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// Call sends an API request; out (if not nil) receives the JSON answer. It
// fails the test unless the status is want.
func (s *T) Call(method, path string, body any, want int, out any) {
	s.t.Helper()
	status, data, err := s.Server.Call(context.Background(), method, path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if status != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: decode: %v: %s", method, path, err, data)
		}
	}
}

// Get requests host/path through Traefik (redirects not followed); on a
// transport error the status is 0 and the body the error.
func (s *T) Get(host, path string) (int, string) {
	status, body, err := s.ViaProxy(context.Background(), host, path)
	if err != nil {
		return 0, err.Error()
	}
	return status, body
}

// Expect waits up to 30 seconds until host/path answers status with a body
// containing body ("" = any) through Traefik.
func (s *T) Expect(host, path string, status int, body string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var gotStatus int
	var gotBody string
	for time.Now().Before(deadline) {
		gotStatus, gotBody = s.Get(host, path)
		if gotStatus == status && (body == "" || strings.Contains(gotBody, body)) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("%s%s: got %d %q, want %d %q", host, path, gotStatus, gotBody, status, body)
}
