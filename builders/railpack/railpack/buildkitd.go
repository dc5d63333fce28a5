package railpack

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	bkclient "github.com/moby/buildkit/client"
)

// Names of what the managed buildkitd is made of on the engine.
const (
	// BuildkitdContainer is the managed buildkitd container's name.
	BuildkitdContainer = "berth-buildkitd"
	// BuildkitdVolume holds buildkitd's state: its layer cache.
	BuildkitdVolume = "berth-buildkitd-state"
	// labelConfig records the hash of the image id and configuration the
	// container was made from.
	labelConfig = "dev.berth.buildkitd.config"
	// buildkitdSocket is buildkitd's socket inside its container; nothing
	// listens outside it.
	buildkitdSocket = "/run/buildkit/buildkitd.sock"
)

var buildkitdMu sync.Mutex

// connect returns a BuildKit client: the operator's BuildKit at
// s.BuildkitHost, or the managed buildkitd on the engine cli talks to.
func connect(ctx context.Context, cli *client.Client, s Settings, log func(string, ...any)) (*bkclient.Client, error) {
	if s.BuildkitHost != "" {
		c, err := bkclient.New(ctx, s.BuildkitHost)
		if err != nil {
			return nil, fmt.Errorf("connecting to BuildKit at %s: %w", s.BuildkitHost, err)
		}
		return c, nil
	}
	id, err := ensureBuildkitd(ctx, cli, s, log)
	if err != nil {
		return nil, err
	}
	// The address is never dialled: every connection is a buildctl
	// dial-stdio process exec'd in the container, so buildkitd listens on
	// its own unix socket only and berth needs no port or shared
	// directory, whatever engine it talks to.
	c, err := bkclient.New(ctx, "unix://"+buildkitdSocket, bkclient.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return dialExec(ctx, cli, id)
	}))
	if err != nil {
		return nil, fmt.Errorf("connecting to buildkitd: %w", err)
	}
	return c, nil
}

// ensureBuildkitd makes the managed buildkitd container run, made from the
// current image and configuration, and returns its id. A container made
// from another image or configuration is replaced; its state volume (the
// layer cache) is kept.
func ensureBuildkitd(ctx context.Context, cli *client.Client, s Settings, log func(string, ...any)) (string, error) {
	buildkitdMu.Lock()
	defer buildkitdMu.Unlock()
	ref := s.image()
	img, err := cli.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		log("pulling %s", ref)
		if err := pull(ctx, cli, ref); err != nil {
			return "", err
		}
		img, err = cli.ImageInspect(ctx, ref)
	}
	if err != nil {
		return "", fmt.Errorf("buildkitd image %s: %w", ref, err)
	}
	sum := sha256.Sum256([]byte(img.ID + "\x00" + s.BuildkitdConfig))
	want := hex.EncodeToString(sum[:12])

	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("name", "^/"+BuildkitdContainer+"$"))})
	if err != nil {
		return "", fmt.Errorf("buildkitd: %w", err)
	}
	for _, c := range list {
		if c.Labels[labelConfig] == want {
			if c.State == "running" {
				return c.ID, waitBuildkitd(ctx, cli, c.ID)
			}
			if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err == nil {
				return c.ID, waitBuildkitd(ctx, cli, c.ID)
			}
			log("the stopped buildkitd container does not start; replacing it")
		} else {
			log("replacing buildkitd container (image or configuration changed)")
		}
		if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return "", fmt.Errorf("removing the old buildkitd: %w", err)
		}
	}
	log("starting buildkitd (%s) in container %s", ref, BuildkitdContainer)
	id, err := createBuildkitd(ctx, cli, ref, want, s.BuildkitdConfig, nil)
	if err != nil && strings.Contains(err.Error(), "apply caps") {
		// The engine runs with a smaller bounding set than it believes
		// (as in some nested containers): drop what it commonly lacks.
		log("the engine cannot grant every capability; retrying without CAP_SYS_RESOURCE")
		id, err = createBuildkitd(ctx, cli, ref, want, s.BuildkitdConfig, []string{"SYS_RESOURCE"})
	}
	if err != nil {
		return "", err
	}
	return id, waitBuildkitd(ctx, cli, id)
}

// createBuildkitd creates and starts the buildkitd container from ref with
// config as its buildkitd.toml, labelled with hash, and returns its id. A
// container that does not start is removed.
func createBuildkitd(ctx context.Context, cli *client.Client, ref, hash, config string, capDrop []string) (string, error) {
	created, err := cli.ContainerCreate(ctx, &container.Config{
		Image:      ref,
		Entrypoint: []string{"buildkitd"},
		Cmd:        []string{"--addr", "unix://" + buildkitdSocket, "--config", "/etc/buildkit/buildkitd.toml"},
		Labels:     map[string]string{labelConfig: hash, "dev.berth.managed": "buildkitd"},
	}, &container.HostConfig{
		// What buildkitd needs to run containers without --privileged
		// (which some hosts refuse): every capability, no seccomp or
		// AppArmor profile, unmasked /proc paths (systempaths=unconfined),
		// the host's cgroups.
		CapAdd:        []string{"ALL"},
		CapDrop:       capDrop,
		SecurityOpt:   []string{"seccomp=unconfined", "apparmor=unconfined"},
		MaskedPaths:   []string{},
		ReadonlyPaths: []string{},
		Binds:         []string{"/sys/fs/cgroup:/sys/fs/cgroup:rw"},
		// Build steps reach registries and mirrors on the host's loopback.
		// buildkitd itself listens only on its unix socket.
		NetworkMode:   "host",
		Mounts:        []mount.Mount{{Type: mount.TypeVolume, Source: BuildkitdVolume, Target: "/var/lib/buildkit"}},
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
	}, nil, nil, BuildkitdContainer)
	if err != nil {
		return "", fmt.Errorf("creating buildkitd: %w", err)
	}
	remove := func() {
		_ = cli.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true})
	}
	var cfg bytes.Buffer
	tw := tar.NewWriter(&cfg)
	_ = tw.WriteHeader(&tar.Header{Name: "etc/buildkit/", Mode: 0o755, Typeflag: tar.TypeDir})
	_ = tw.WriteHeader(&tar.Header{Name: "etc/buildkit/buildkitd.toml", Mode: 0o644, Size: int64(len(config)), Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte(config))
	_ = tw.Close()
	if err := cli.CopyToContainer(ctx, created.ID, "/", &cfg, container.CopyToContainerOptions{}); err != nil {
		remove()
		return "", fmt.Errorf("configuring buildkitd: %w", err)
	}
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		remove()
		return "", fmt.Errorf("starting buildkitd: %w", err)
	}
	return created.ID, nil
}

// waitBuildkitd waits until buildkitd answers on its socket, up to 30 s.
func waitBuildkitd(ctx context.Context, cli *client.Client, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var last error
	for {
		c, err := bkclient.New(ctx, "unix://"+buildkitdSocket, bkclient.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return dialExec(ctx, cli, id)
		}))
		if err == nil {
			ictx, icancel := context.WithTimeout(ctx, 5*time.Second)
			_, err = c.Info(ictx)
			icancel()
			c.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			logs := containerLogTail(context.WithoutCancel(ctx), cli, id)
			return fmt.Errorf("buildkitd in container %s does not answer: %v%s", BuildkitdContainer, last, logs)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// containerLogTail returns the last lines of a container's output, for an
// error message.
func containerLogTail(ctx context.Context, cli *client.Client, id string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "10"})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var b bytes.Buffer
	_, _ = stdcopy.StdCopy(&b, &b, rc)
	if b.Len() == 0 {
		return ""
	}
	return "\n" + b.String()
}

// pull pulls ref into the engine.
func pull(ctx context.Context, cli *client.Client, ref string) error {
	rc, err := cli.ImagePull(ctx, ref, imagePullOptions())
	if err != nil {
		return fmt.Errorf("pulling %s: %w", ref, err)
	}
	defer rc.Close()
	if err := readJSONMessages(rc, nil); err != nil {
		return fmt.Errorf("pulling %s: %w", ref, err)
	}
	return nil
}

// dialExec runs "buildctl dial-stdio" in the buildkitd container and
// returns its standard input and output as a connection to buildkitd.
func dialExec(ctx context.Context, cli *client.Client, id string) (net.Conn, error) {
	ex, err := cli.ContainerExecCreate(ctx, id, container.ExecOptions{
		Cmd:          []string{"buildctl", "--addr", "unix://" + buildkitdSocket, "dial-stdio"},
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return nil, fmt.Errorf("dialling buildkitd: %w", err)
	}
	hj, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("dialling buildkitd: %w", err)
	}
	pr, pw := io.Pipe()
	c := &execConn{Conn: hj.Conn, r: pr}
	go func() {
		var stderr bytes.Buffer
		_, err := stdcopy.StdCopy(pw, &stderr, hj.Reader)
		if err == nil && stderr.Len() > 0 {
			err = errors.New(stderr.String())
		}
		if err == nil {
			err = io.EOF
		}
		pw.CloseWithError(err)
	}()
	return c, nil
}

// execConn is a connection whose reads come demultiplexed from an exec's
// standard output and whose writes go to its standard input.
type execConn struct {
	net.Conn
	r *io.PipeReader
}

func (c *execConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *execConn) Close() error {
	c.r.Close()
	return c.Conn.Close()
}
