package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/pkg/stdcopy"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/core/database"
)

// Docker is the part of the Docker Engine API the runner uses;
// *client.Client implements it.
type Docker interface {
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerExecCreate(ctx context.Context, containerID string, options container.ExecOptions) (container.ExecCreateResponse, error)
	ContainerExecAttach(ctx context.Context, execID string, config container.ExecAttachOptions) (types.HijackedResponse, error)
	ContainerExecInspect(ctx context.Context, execID string) (container.ExecInspect, error)
	ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, containerName string) (container.CreateResponse, error)
	ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error
	CopyFromContainer(ctx context.Context, containerID, srcPath string) (io.ReadCloser, container.PathStat, error)
	CopyToContainer(ctx context.Context, containerID, dstPath string, content io.Reader, options container.CopyToContainerOptions) error
}

// ErrNotRunning is returned when a service has no running container.
var ErrNotRunning = errors.New("no running container")

// taskContainer returns the id of the running container of a Swarm
// service's task.
func taskContainer(ctx context.Context, d Docker, service string) (string, error) {
	cs, err := d.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name="+service), filters.Arg("status", "running"))})
	if err != nil {
		return "", fmt.Errorf("list containers of %s: %w", service, err)
	}
	if len(cs) == 0 {
		return "", fmt.Errorf("service %s: %w", service, ErrNotRunning)
	}
	return cs[0].ID, nil
}

// tail keeps the last max bytes written to it (a command's stderr).
type tail struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// execIn runs cmd in container id through the Docker API (argv and
// environment, no shell), feeding stdin when not nil and copying the
// command's stdout to stdout. It fails when the command cannot be run,
// its output cannot be written, or it exits non-zero; the error carries
// the end of its stderr.
func execIn(ctx context.Context, d Docker, id string, cmd database.Command, stdin io.Reader, stdout io.Writer) error {
	name := cmd.Argv[0]
	ec, err := d.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd.Argv, Env: cmd.Env,
		AttachStdin: stdin != nil, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return fmt.Errorf("%s: create exec: %w", name, err)
	}
	hj, err := d.ContainerExecAttach(ctx, ec.ID, container.ExecAttachOptions{})
	if err != nil {
		return fmt.Errorf("%s: attach exec: %w", name, err)
	}
	defer hj.Close()
	stop := context.AfterFunc(ctx, func() { hj.Close() })
	defer stop()

	inErr := make(chan error, 1)
	if stdin != nil {
		go func() {
			_, err := io.Copy(hj.Conn, stdin)
			if cerr := hj.CloseWrite(); err == nil {
				err = cerr
			}
			inErr <- err
		}()
	} else {
		inErr <- nil
	}
	stderr := &tail{max: 2048}
	if stdout == nil {
		stdout = stderr
	}
	_, copyErr := stdcopy.StdCopy(stdout, stderr, hj.Reader)
	if copyErr != nil {
		hj.Close()
		return fmt.Errorf("%s: %w", name, errors.Join(copyErr, ctx.Err()))
	}
	if err := <-inErr; err != nil {
		return fmt.Errorf("%s: feeding its input: %w", name, err)
	}
	// The exec may be reported running for a moment after its streams end.
	for {
		ins, err := d.ContainerExecInspect(ctx, ec.ID)
		if err != nil {
			return fmt.Errorf("%s: inspect exec: %w", name, err)
		}
		if !ins.Running {
			if ins.ExitCode != 0 {
				msg := stderr.String()
				if msg == "" {
					msg = "no error output"
				}
				return fmt.Errorf("%s exited with code %d: %s", name, ins.ExitCode, msg)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
