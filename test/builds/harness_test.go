// Package builds_test deploys applications without a Dockerfile through a
// real berth (real Swarm, Traefik, PostgreSQL and builder plugins): one file
// per zero-config builder. It is its own package so that it runs beside the
// long test/e2e package.
package builds_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/berthtest"
)

// bins are berth, the test backend and the plugins, built once by TestMain.
var bins *berthtest.Binaries

func TestMain(m *testing.M) {
	os.Exit(berthtest.Main(m, berthtest.BuildOptions{Plugins: true}, &bins))
}

// server is a berth server process with its own data dir, Traefik and
// ports (see package berthtest), plus the API helpers the tests share.
type server struct {
	*berthtest.T
	t *testing.T
}

func newServer(t *testing.T) *server {
	t.Helper()
	return &server{T: berthtest.Run(t, bins, berthtest.Options{Prefix: "bld"}), t: t}
}

// deployment is the part of a deployment the tests read.
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

// stepDuration is how long the named step of d took.
func (d deployment) stepDuration(name string) time.Duration {
	for _, s := range d.Steps {
		if s.Name == name {
			return time.Duration(s.DurationMS) * time.Millisecond
		}
	}
	return 0
}

type app struct {
	ID          string `json:"id"`
	ServiceName string `json:"service_name"`
}

// newApp creates a project and an application from spec, and routes host
// to it when host is not empty.
func (s *server) newApp(spec map[string]any, host string) app {
	s.t.Helper()
	var proj struct {
		Environments []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	s.Call("POST", "/projects", map[string]any{"name": "p-" + spec["name"].(string)}, 201, &proj)
	var a app
	s.Call("POST", "/environments/"+proj.Environments[0].ID+"/applications", spec, 201, &a)
	if host != "" {
		s.Call("POST", "/applications/"+a.ID+"/domains", map[string]any{"host": host}, 201, nil)
	}
	return a
}

// deploy starts a deployment of a.
func (s *server) deploy(a app) deployment {
	s.t.Helper()
	var d deployment
	s.Call("POST", "/applications/"+a.ID+"/deployments", map[string]any{}, 202, &d)
	return d
}

// wait polls a deployment until cond holds.
func (s *server) wait(id string, timeout time.Duration, cond func(deployment) bool) deployment {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var d deployment
	for time.Now().Before(deadline) {
		s.Call("GET", "/deployments/"+id, nil, 200, &d)
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

// deployAndWait deploys a and fails the test unless the deployment ends
// with status want.
func (s *server) deployAndWait(a app, want string) deployment {
	s.t.Helper()
	d := s.wait(s.deploy(a).ID, 5*time.Minute, finished)
	if d.Status != want {
		s.t.Fatalf("deployment %s: status %s (%s), want %s\nlog:\n%s", d.ID, d.Status, d.Error, want, s.logText(d.ID))
	}
	return d
}

// logText is a deployment's whole log.
func (s *server) logText(id string) string {
	var page struct {
		Items []struct {
			Line string `json:"line"`
		} `json:"items"`
	}
	_, data, err := s.Server.Call(context.Background(), "GET", "/deployments/"+id+"/logs", nil)
	if err != nil {
		return err.Error()
	}
	json.Unmarshal(data, &page)
	var b strings.Builder
	for _, l := range page.Items {
		b.WriteString(l.Line + "\n")
	}
	return b.String()
}

// newRepo is a local git repository berth can fetch.
func newRepo(t *testing.T) *berthtest.Repo { return berthtest.NewRepo(t, bins) }
