package berthtest_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/berth-dev/berth/test/berthtest"
)

var bins *berthtest.Binaries

func TestMain(m *testing.M) { os.Exit(berthtest.Main(m, berthtest.BuildOptions{}, &bins)) }

// TestRunKillRestart runs a real berth server (API only), calls its API
// with the key Run created, kills it as a crash would, starts it again on
// the same data and finds the same state, with the output of both runs kept.
func TestRunKillRestart(t *testing.T) {
	s := berthtest.Run(t, bins, berthtest.Options{Prefix: "bth", NoProxy: true})
	if s.Key == "" {
		t.Fatal("no API key after setup")
	}
	var created struct {
		ID string `json:"id"`
	}
	s.Call("POST", "/projects", map[string]any{"name": "harness"}, 201, &created)
	pid := s.PID()
	s.Kill()
	if s.Running() {
		t.Fatal("berth runs after Kill")
	}
	s.Restart("BERTH_TEST_PAUSE_AT", "")
	if s.PID() == pid {
		t.Fatal("Restart did not start a new process")
	}
	var got struct {
		Name string `json:"name"`
	}
	s.Call("GET", "/projects/"+created.ID, nil, 200, &got)
	if got.Name != "harness" {
		t.Fatalf("project after restart: %+v", got)
	}
	if status, _, err := s.Server.Call(context.Background(), "GET", "/projects", nil); err != nil || status != 200 {
		t.Fatalf("GET /projects: %d %v", status, err)
	}
	if n := strings.Count(s.Output(), "embedded postgres running"); n < 1 {
		t.Fatalf("the output lacks PostgreSQL's start (%d):\n%s", n, s.LogTail(4000))
	}
	if _, err := s.Server.SetupToken(); err == nil {
		t.Fatal("the setup token survived the setup")
	}
}
