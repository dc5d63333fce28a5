package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-dev/berth/test/berthtest"
	"github.com/berth-dev/berth/test/dockertest"
)

// instance is one `berth server` process with its own name, data directory,
// ports and Traefik, run by package berthtest like the end-to-end tests run
// it.
type instance struct {
	*berthtest.Server
	api           *apiClient
	dynamicConfig string
}

// newInstance prepares (but does not start) a berth server in dir.
func newInstance(bin, dir, name string, extraEnv ...string) (*instance, error) {
	s, err := berthtest.New(berthtest.Config{Bin: bin, Dir: dir, Name: name, Env: extraEnv, Poll: 2 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	return &instance{Server: s, dynamicConfig: filepath.Join(s.DataDir, "traefik", "dynamic", "berth.yaml")}, nil
}

// cleanup stops the server and removes what it created in Docker.
func (in *instance) cleanup(ctx context.Context) {
	in.Stop()
	docker, err := dockertest.New(ctx, dockertest.Swarm)
	if err != nil {
		in.StopPostgres()
		fmt.Fprintf(os.Stderr, "bench: cannot remove the Docker objects of %s: %v\n", in.Name, err)
		return
	}
	defer docker.Close()
	if err := in.Close(ctx, docker); err != nil {
		fmt.Fprintf(os.Stderr, "bench: remove the Docker objects of %s: %v\n", in.Name, err)
	}
}

// setup creates the first administrator and an API key.
func (in *instance) setup(ctx context.Context) error {
	if err := in.Setup(ctx, "bench@example.com"); err != nil {
		return err
	}
	in.api = &apiClient{base: in.URL("/api/v1"), key: in.Key,
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
