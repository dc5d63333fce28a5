// Package pagesvc runs berth's maintenance page server (core/pages) as the
// Swarm service <instance>-pages on the proxy network. Its image is built
// by berth from its own executable, FROM scratch, tagged
// berth/pages:<first 12 hex digits of the executable's SHA-256>, through
// the Docker Engine API; no registry is involved, so the service is placed
// on a manager node, where the image was built. berth creates the service
// the first time an application enters maintenance mode and removes it
// when none is left in it (see core/service's Applications.SetMaintenance).
package pagesvc

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/berth-dev/berth/core/pages"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// Labels put on the image and the service.
const (
	labelManaged   = "dev.berth.managed"
	labelInstance  = "dev.berth.instance"
	labelComponent = "dev.berth.component"
	componentPages = "pages"
	// ImageRepository is the repository of the page server's image.
	ImageRepository = "berth/pages"
)

// DockerAPI is the part of the Docker Engine client the Runner uses;
// *client.Client implements it.
type DockerAPI interface {
	ImageInspect(ctx context.Context, imageID string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error)
	ServiceCreate(ctx context.Context, spec swarm.ServiceSpec, opts swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error)
	ServiceUpdate(ctx context.Context, serviceID string, version swarm.Version, spec swarm.ServiceSpec, opts swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error)
	ServiceInspectWithRaw(ctx context.Context, serviceID string, opts swarm.ServiceInspectOptions) (swarm.Service, []byte, error)
	ServiceRemove(ctx context.Context, serviceID string) error
	TaskList(ctx context.Context, opts swarm.TaskListOptions) ([]swarm.Task, error)
}

// Options configure a Runner.
type Options struct {
	// Instance is berth's instance name (BERTH_NAME); the service is
	// <Instance>-pages.
	Instance string
	// Network is the proxy network Traefik reaches services on.
	Network string
	// Executable is the berth binary packaged into the image; empty means
	// os.Executable(). It must be statically linked.
	Executable string
	// StartTimeout bounds the wait for the service's task to run; zero
	// means one minute.
	StartTimeout time.Duration
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// Runner builds the page server's image and runs its service. It is safe
// for concurrent use.
type Runner struct {
	docker DockerAPI
	o      Options
	mu     sync.Mutex
	// image is the tag built (or found) once; it never changes while the
	// executable does not.
	image string
}

// New returns a Runner on docker.
func New(docker DockerAPI, o Options) *Runner {
	if o.StartTimeout == 0 {
		o.StartTimeout = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{docker: docker, o: o}
}

// ServiceName is the Swarm service of the page server.
func (r *Runner) ServiceName() string { return r.o.Instance + "-pages" }

// ErrDynamicBinary is wrapped by Ensure's error when berth's executable is
// dynamically linked, so it cannot run in a FROM scratch image.
var ErrDynamicBinary = errors.New("berth's executable is dynamically linked")

// Ensure makes sure the page server runs: it builds the image if missing,
// creates the service (or updates it to the current image) and waits until
// its task runs. It returns the service name.
func (r *Runner) Ensure(ctx context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, err := r.ensureImage(ctx)
	if err != nil {
		return "", err
	}
	name := r.ServiceName()
	spec := r.spec(ref)
	svc, _, err := r.docker.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
	changed := err == nil || cerrdefs.IsNotFound(err)
	switch {
	case cerrdefs.IsNotFound(err):
		if _, err := r.docker.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{}); err != nil {
			return "", fmt.Errorf("pages: create service %s: %w", name, err)
		}
		r.o.Logger.Info("maintenance page server created", "service", name, "image", ref)
	case err != nil:
		return "", fmt.Errorf("pages: inspect service %s: %w", name, err)
	case svc.Spec.Labels[labelManaged] != "true" || svc.Spec.Labels[labelComponent] != componentPages:
		return "", fmt.Errorf("pages: a service named %s exists that berth does not manage; remove or rename it", name)
	case svc.Spec.TaskTemplate.ContainerSpec == nil || svc.Spec.TaskTemplate.ContainerSpec.Image != ref ||
		svc.Spec.Mode.Replicated == nil || svc.Spec.Mode.Replicated.Replicas == nil || *svc.Spec.Mode.Replicated.Replicas != 1:
		if _, err := r.docker.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
			return "", fmt.Errorf("pages: update service %s: %w", name, err)
		}
		r.o.Logger.Info("maintenance page server updated", "service", name, "image", ref)
	default:
		changed = false
	}
	if err := r.waitRunning(ctx, name, ref); err != nil {
		return "", err
	}
	if changed {
		// A task Swarm reports running is listed in the network's DNS a
		// moment later; Traefik resolves tasks.<name> per connection.
		t := time.NewTimer(dnsSettle)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-t.C:
		}
	}
	return name, nil
}

// dnsSettle is how long a new page server task is given to appear in
// Swarm's DNS before routes point at it.
const dnsSettle = 1500 * time.Millisecond

// Remove removes the page server's service; a missing one is no error.
// The image is kept, so entering maintenance again builds nothing.
func (r *Runner) Remove(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := r.ServiceName()
	svc, _, err := r.docker.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pages: inspect service %s: %w", name, err)
	}
	if svc.Spec.Labels[labelManaged] != "true" || svc.Spec.Labels[labelComponent] != componentPages {
		return nil // not ours: never remove what berth did not create
	}
	if err := r.docker.ServiceRemove(ctx, svc.ID); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("pages: remove service %s: %w", name, err)
	}
	r.o.Logger.Info("maintenance page server removed: no application is in maintenance", "service", name)
	return nil
}

// spec is the page server's service spec.
func (r *Runner) spec(ref string) swarm.ServiceSpec {
	replicas := uint64(1)
	grace := 2 * time.Second
	labels := map[string]string{labelManaged: "true", labelInstance: r.o.Instance, labelComponent: componentPages}
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: r.ServiceName(), Labels: labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: ref, Labels: labels, User: "65534:65534",
				StopGracePeriod: &grace, ReadOnly: true},
			Placement:     &swarm.Placement{Constraints: []string{"node.role==manager"}},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: r.o.Network}},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny},
			Resources:     &swarm.ResourceRequirements{Limits: &swarm.Limit{MemoryBytes: 128 << 20}},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
}

// waitRunning waits until a task of the service runs the image ref.
func (r *Runner) waitRunning(ctx context.Context, name, ref string) error {
	ctx, cancel := context.WithTimeout(ctx, r.o.StartTimeout)
	defer cancel()
	var last string
	for {
		tasks, err := r.docker.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
			filters.Arg("service", name), filters.Arg("desired-state", "running"))})
		if err == nil {
			for _, t := range tasks {
				if t.Status.State == swarm.TaskStateRunning && t.Spec.ContainerSpec != nil && t.Spec.ContainerSpec.Image == ref {
					return nil
				}
				if t.Status.Err != "" {
					last = t.Status.Err
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pages: service %s has no running task after %s (last task error: %q): %w", name, r.o.StartTimeout, last, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ensureImage builds the image from the executable unless it exists.
func (r *Runner) ensureImage(ctx context.Context) (string, error) {
	if r.image != "" {
		if _, err := r.docker.ImageInspect(ctx, r.image); err == nil {
			return r.image, nil
		}
	}
	exe := r.o.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("pages: find berth's executable: %w", err)
		}
	}
	sum, size, err := checkStatic(exe)
	if err != nil {
		return "", err
	}
	ref := ImageRepository + ":" + sum[:12]
	if _, err := r.docker.ImageInspect(ctx, ref); err == nil {
		r.image = ref
		return ref, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("pages: inspect image %s: %w", ref, err)
	}
	start := time.Now()
	if err := r.build(ctx, exe, size, ref); err != nil {
		return "", err
	}
	r.o.Logger.Info("maintenance page image built", "image", ref, "took", time.Since(start).Round(time.Millisecond))
	r.image = ref
	return ref, nil
}

// checkStatic returns the executable's SHA-256 (hex) and size after
// checking it is a statically linked ELF file (no PT_INTERP program
// header): the image has no dynamic loader or C library.
func checkStatic(exe string) (string, int64, error) {
	f, err := elf.Open(exe)
	if err != nil {
		return "", 0, fmt.Errorf("pages: read berth's executable %s: %w", exe, err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			f.Close()
			return "", 0, fmt.Errorf("pages: %w (%s has an ELF interpreter): the maintenance page image is FROM scratch; build berth with CGO_ENABLED=0 (make build)", ErrDynamicBinary, exe)
		}
	}
	f.Close()
	file, err := os.Open(exe)
	if err != nil {
		return "", 0, fmt.Errorf("pages: read berth's executable: %w", err)
	}
	defer file.Close()
	h := sha256.New()
	n, err := io.Copy(h, file)
	if err != nil {
		return "", 0, fmt.Errorf("pages: read berth's executable: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// dockerfile runs `berth pages` as nobody.
const dockerfile = "FROM scratch\nCOPY berth /berth\nUSER 65534:65534\nEXPOSE %d\nENTRYPOINT [\"/berth\", \"pages\"]\n"

// build sends a tar context holding the Dockerfile and the executable to
// the engine, streaming the executable rather than holding it in memory.
func (r *Runner) build(ctx context.Context, exe string, size int64, ref string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(pw, exe, size)) }()
	resp, err := r.docker.ImageBuild(ctx, pr, build.ImageBuildOptions{Tags: []string{ref}, Remove: true, ForceRemove: true,
		Labels: map[string]string{labelManaged: "true", labelComponent: componentPages}})
	if err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("pages: build image %s: %w", ref, err)
	}
	defer resp.Body.Close()
	if err := buildError(resp.Body); err != nil {
		return fmt.Errorf("pages: build image %s: %w", ref, err)
	}
	return nil
}

// writeContext writes the build context: Dockerfile and berth.
func writeContext(w io.Writer, exe string, size int64) error {
	tw := tar.NewWriter(w)
	df := []byte(fmt.Sprintf(dockerfile, pages.Port))
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(df))}); err != nil {
		return err
	}
	if _, err := tw.Write(df); err != nil {
		return err
	}
	f, err := os.Open(exe)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tw.WriteHeader(&tar.Header{Name: "berth", Mode: 0o555, Size: size}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, f, size); err != nil {
		return fmt.Errorf("executable changed while packaging it: %w", err)
	}
	return tw.Close()
}

// buildError reads the engine's JSON message stream to its end and
// returns the first error it reports.
func buildError(body io.Reader) error {
	dec := json.NewDecoder(body)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read build output: %w", err)
		}
		if msg.Error != "" {
			return errors.New(msg.Error)
		}
	}
}
