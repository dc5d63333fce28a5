package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/berth-dev/berth/core/atomicfile"
)

// Action says what Ensure had to do.
type Action string

// Actions reported by Ensure.
const (
	// ActionUnchanged: the container was running with the desired spec and
	// was left alone.
	ActionUnchanged Action = "unchanged"
	// ActionStarted: the container had the desired spec but was stopped.
	ActionStarted Action = "started"
	// ActionCreated: there was no container.
	ActionCreated Action = "created"
	// ActionReplaced: the container had another spec, image or static
	// config; it was stopped, removed and created again.
	ActionReplaced Action = "replaced"
)

// Traefik manages one Traefik container: its network, static configuration,
// container and health. Its methods are safe for concurrent use.
type Traefik struct {
	docker DockerAPI
	opts   Options
	static []byte
	http   *http.Client
	mu     sync.Mutex
}

// NewTraefik checks opts, fills in defaults and renders the static
// configuration. It does no I/O.
func NewTraefik(docker DockerAPI, opts Options) (*Traefik, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	static, err := EncodeStatic(NewStaticConfig(o.Static))
	if err != nil {
		return nil, err
	}
	return &Traefik{docker: docker, opts: o, static: static, http: &http.Client{Timeout: 2 * time.Second}}, nil
}

// Options returns the options with defaults filled in.
func (t *Traefik) Options() Options { return t.opts }

// StaticConfig returns the encoded static configuration.
func (t *Traefik) StaticConfig() []byte { return bytes.Clone(t.static) }

// Publisher returns a Publisher writing DefaultDynamicFile into the dynamic
// directory this instance watches.
func (t *Traefik) Publisher() *Publisher { return NewPublisher(t.opts.DynamicDir, DefaultDynamicFile) }

// APIURL is the base URL of Traefik's API, reachable from the host only.
func (t *Traefik) APIURL() string { return "http://127.0.0.1:" + strconv.Itoa(t.opts.APIPort) }

// MetricsURL is the URL of Traefik's Prometheus metrics, reachable from the
// host only while the dynamic configuration has Snapshot.APIAllowFrom set.
func (t *Traefik) MetricsURL() string { return t.APIURL() + MetricsPath }

// Ensure converges Traefik to the desired state and waits until it answers
// /ping. It creates the overlay network if missing, writes the static config
// if it changed, and then, for the container:
//   - running with the same spec hash: leaves it completely alone, so
//     restarting berth never interrupts traffic;
//   - stopped with the same hash: starts it;
//   - absent: creates and starts it;
//   - with another hash: replaces it (a short interruption).
//
// A container with the same name that berth does not manage is an error.
func (t *Traefik) Ensure(ctx context.Context) (Action, error) {
	t.mu.Lock()
	defer t.mu.Unlock()

	img, err := t.docker.ImageInspect(ctx, t.opts.Image)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return "", fmt.Errorf("ensure traefik: image %s is not present locally (build it with scripts/traefik.sh): %w", t.opts.Image, err)
		}
		return "", fmt.Errorf("ensure traefik: inspect image %s: %w", t.opts.Image, err)
	}
	if err := t.ensureNetwork(ctx); err != nil {
		return "", fmt.Errorf("ensure traefik: %w", err)
	}
	if err := t.ensureFiles(ctx); err != nil {
		return "", fmt.Errorf("ensure traefik: %w", err)
	}
	spec, err := t.desiredSpec(img.ID)
	if err != nil {
		return "", fmt.Errorf("ensure traefik: %w", err)
	}

	action, id, err := t.ensureContainer(ctx, spec)
	if err != nil {
		return "", fmt.Errorf("ensure traefik: %w", err)
	}
	if err := t.waitHealthy(ctx, id); err != nil {
		return action, fmt.Errorf("ensure traefik: %w", err)
	}
	return action, nil
}

// ensureFiles creates the host directories and writes the static config
// file when its content differs.
func (t *Traefik) ensureFiles(ctx context.Context) error {
	o := t.opts
	dirs := []string{o.DataDir, o.DynamicDir, o.CertsDir}
	if o.ACMEVolume == "" {
		dirs = append(dirs, o.ACMEDir)
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	current, err := os.ReadFile(o.staticFile())
	if err == nil && bytes.Equal(current, t.static) {
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read static config: %w", err)
	}
	if err := atomicfile.WriteFile(ctx, o.staticFile(), t.static, 0o644); err != nil {
		return fmt.Errorf("write static config: %w", err)
	}
	return nil
}

// ensureContainer converges the container to spec and returns its ID.
func (t *Traefik) ensureContainer(ctx context.Context, spec containerSpec) (Action, string, error) {
	name := t.opts.Name
	current, err := t.docker.ContainerInspect(ctx, name)
	switch {
	case cerrdefs.IsNotFound(err):
		id, err := t.createAndStart(ctx, spec)
		return ActionCreated, id, err
	case err != nil:
		return "", "", fmt.Errorf("inspect container %s: %w", name, err)
	}
	if current.Name != "/"+name {
		return "", "", fmt.Errorf("inspect container %s: got container %s", name, current.Name)
	}
	if current.Config == nil || current.Config.Labels[LabelComponent] != componentTraefik {
		return "", "", fmt.Errorf("container %s exists but is not managed by berth (no %s=%s label); remove or rename it", name, LabelComponent, componentTraefik)
	}

	if current.Config.Labels[LabelSpecHash] == spec.Config.Labels[LabelSpecHash] {
		if current.State != nil && current.State.Running {
			return ActionUnchanged, current.ID, nil
		}
		if err := t.docker.ContainerStart(ctx, current.ID, container.StartOptions{}); err != nil {
			return "", "", fmt.Errorf("start container %s: %w", name, err)
		}
		return ActionStarted, current.ID, nil
	}

	timeout := stopTimeout
	if err := t.docker.ContainerStop(ctx, current.ID, container.StopOptions{Timeout: &timeout}); err != nil && !cerrdefs.IsNotFound(err) {
		return "", "", fmt.Errorf("stop outdated container %s: %w", name, err)
	}
	if err := t.docker.ContainerRemove(ctx, current.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return "", "", fmt.Errorf("remove outdated container %s: %w", name, err)
	}
	id, err := t.createAndStart(ctx, spec)
	return ActionReplaced, id, err
}

func (t *Traefik) createAndStart(ctx context.Context, spec containerSpec) (string, error) {
	created, err := t.docker.ContainerCreate(ctx, spec.Config, spec.Host, spec.Networking, nil, t.opts.Name)
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", t.opts.Name, err)
	}
	if err := t.docker.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return "", fmt.Errorf("start container %s: %w", t.opts.Name, err)
	}
	return created.ID, nil
}

// Ping asks Traefik's /ping endpoint once; nil means healthy.
func (t *Traefik) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.APIURL()+"/ping", nil)
	if err != nil {
		return fmt.Errorf("ping traefik: %w", err)
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return fmt.Errorf("ping traefik: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ping traefik: status %s", resp.Status)
	}
	return nil
}

// waitHealthy polls /ping until it answers 200, the container stops, or
// StartTimeout passes; failures carry the end of the container's log.
func (t *Traefik) waitHealthy(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, t.opts.StartTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := t.Ping(ctx)
		if err == nil {
			return nil
		}
		if c, ierr := t.docker.ContainerInspect(ctx, id); ierr == nil && c.State != nil && !c.State.Running && !c.State.Restarting {
			return fmt.Errorf("traefik container exited (code %d) before answering /ping; log tail:\n%s", c.State.ExitCode, t.logTail(ctx, id))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("traefik did not answer /ping within %s: %w; log tail:\n%s", t.opts.StartTimeout, err, t.logTail(ctx, id))
		case <-tick.C:
		}
	}
}

// logTail returns the last lines of the container's output, for errors.
func (t *Traefik) logTail(ctx context.Context, id string) string {
	// Called on failure paths, often after ctx expired: keep its values only.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	rc, err := t.docker.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "20"})
	if err != nil {
		return "(logs unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	var out strings.Builder
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		out.WriteString("(log read error: " + err.Error() + ")")
	}
	return out.String()
}

// Remove stops and removes the container and, if ACMEVolume is set, its
// volume. Host directories and the network are kept (see RemoveNetwork).
// Missing objects are not an error.
func (t *Traefik) Remove(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, err := t.docker.ContainerInspect(ctx, t.opts.Name)
	switch {
	case cerrdefs.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("remove traefik: inspect %s: %w", t.opts.Name, err)
	case c.Config == nil || c.Config.Labels[LabelComponent] != componentTraefik:
		return fmt.Errorf("remove traefik: container %s is not managed by berth", t.opts.Name)
	default:
		if err := t.docker.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("remove traefik: remove container %s: %w", t.opts.Name, err)
		}
	}
	if t.opts.ACMEVolume != "" {
		if err := t.docker.VolumeRemove(ctx, t.opts.ACMEVolume, true); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("remove traefik: remove volume %s: %w", t.opts.ACMEVolume, err)
		}
	}
	return nil
}
