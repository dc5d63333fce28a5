package cnb

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-units"

	"github.com/berth-dev/berth/builders/internal/dockerbuild"
	"github.com/berth-dev/berth/sdk"
)

// Options are the options of one lifecycle run.
type Options struct {
	// Image is the reference to give the app image.
	Image string
	// Builder is the builder image.
	Builder string
	// RunImage overrides the builder's run image when not empty.
	RunImage string
	// Buildpacks, when not empty, replace the builder's order with one
	// group of these buildpacks ("id" or "id@version").
	Buildpacks []string
	// Env is the build environment, written to /platform/env.
	Env map[string]string
	// SourceDir is the app's source.
	SourceDir string
	// Engine holds the operator's settings: the creator container's memory
	// limit and network.
	Engine dockerbuild.EngineSettings
}

// Paths inside the creator container.
const (
	appDir       = "/workspace"
	layersDir    = "/layers"
	platformDir  = "/platform"
	cacheDir     = "/cache"
	launchDir    = "/launch-cache"
	orderFile    = "/berth/order.toml"
	socketInside = "/var/run/docker.sock"
	// LabelBuild marks the creator containers berth starts with the image
	// they build.
	LabelBuild = "berth.cnb.build"
	// LabelCache marks the cache volumes with the image repository they
	// serve.
	LabelCache = "berth.cnb.cache"
)

// CacheVolumes returns the names of the build and launch cache volumes of
// the app whose images are named like image: one pair per repository, so
// every build of an app reuses its layers.
func CacheVolumes(img string) (build, launch string) {
	repo := repository(img)
	sum := sha256.Sum256([]byte(repo))
	name := "berth-cnb-" + volumeUnsafe.ReplaceAllString(repo, "-")
	if len(name) > 80 {
		name = name[:80]
	}
	name += "-" + hex.EncodeToString(sum[:])[:8]
	return name + ".build", name + ".launch"
}

// repository is the familiar repository name of img ("berth/web").
func repository(img string) string {
	if n, err := reference.ParseNormalizedNamed(img); err == nil {
		return reference.FamiliarName(n)
	}
	return img
}

var volumeUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Run runs the lifecycle's creator of o.Builder on the Docker Engine at
// host and returns the id of the image it exported as o.Image. Every line
// the lifecycle prints goes to log. A cancelled ctx kills and removes the
// creator container at once; the container is removed in every case.
func Run(ctx context.Context, host string, o Options, log sdk.LogFunc) (string, error) {
	cli, err := newClient(host)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	ver, err := cli.ServerVersion(ctx)
	if err != nil {
		return "", engineError(ctx, "asking the Docker Engine its version", err)
	}
	if err := ensureImage(ctx, cli, o.Builder, log); err != nil {
		return "", err
	}
	bi, err := cli.ImageInspect(ctx, o.Builder)
	if err != nil {
		return "", engineError(ctx, "inspecting the builder image "+o.Builder, err)
	}
	var labels map[string]string
	var imgEnv []string
	if bi.Config != nil {
		labels, imgEnv = bi.Config.Labels, bi.Config.Env
	}
	meta, err := ParseMetadata(labels)
	if err != nil {
		return "", fmt.Errorf("builder image %s: %w: %w", o.Builder, err, sdk.ErrInvalidArgument)
	}
	if err := CheckEngine(meta.Lifecycle.Version, ver.APIVersion); err != nil {
		return "", fmt.Errorf("builder image %s: %w: %w", o.Builder, err, sdk.ErrInvalidArgument)
	}
	platformAPI, err := ChoosePlatformAPI(meta.PlatformAPIs())
	if err != nil {
		return "", fmt.Errorf("builder image %s: %w: %w", o.Builder, err, sdk.ErrInvalidArgument)
	}
	uid, gid := envValue(imgEnv, "CNB_USER_ID"), envValue(imgEnv, "CNB_GROUP_ID")
	if !isNumber(uid) || !isNumber(gid) {
		return "", fmt.Errorf("builder image %s sets no numeric CNB_USER_ID and CNB_GROUP_ID: it is not a CNB builder image: %w", o.Builder, sdk.ErrInvalidArgument)
	}
	runImage := o.RunImage
	if runImage == "" {
		runImage = meta.RunImage()
	}
	if runImage == "" {
		return "", fmt.Errorf("builder image %s names no run image: set run_image: %w", o.Builder, sdk.ErrInvalidArgument)
	}
	var order []byte
	if len(o.Buildpacks) > 0 {
		if order, err = orderTOML(meta, o.Buildpacks); err != nil {
			return "", fmt.Errorf("buildpacks: %w: %w", err, sdk.ErrInvalidArgument)
		}
	}
	if err := ensureImage(ctx, cli, runImage, log); err != nil {
		return "", err
	}
	log.Printf("builder %s: lifecycle %s, platform API %s, run image %s, user %s:%s", o.Builder, meta.Lifecycle.Version, platformAPI, runImage, uid, gid)

	buildVol, launchVol := CacheVolumes(o.Image)
	for _, v := range []string{buildVol, launchVol} {
		if _, err := cli.VolumeCreate(ctx, volume.CreateOptions{Name: v, Labels: map[string]string{LabelCache: repository(o.Image)}}); err != nil {
			return "", engineError(ctx, "creating the cache volume "+v, err)
		}
	}
	args := []string{"/cnb/lifecycle/creator",
		"-daemon", "-no-color", "-log-level", "info",
		"-app", appDir, "-layers", layersDir, "-platform", platformDir,
		"-cache-dir", cacheDir, "-launch-cache", launchDir,
		"-run-image", runImage, "-uid", uid, "-gid", gid,
	}
	if prev := previousImage(ctx, cli, o.Image); prev != "" {
		args = append(args, "-previous-image", prev)
		log.Printf("previous image: %s", prev)
	}
	if order != nil {
		args = append(args, "-order", orderFile)
		log.Printf("buildpacks: %s", strings.Join(o.Buildpacks, ", "))
	}
	args = append(args, o.Image)

	hc := &container.HostConfig{
		Mounts: []mount.Mount{
			{Type: mount.TypeVolume, Source: buildVol, Target: cacheDir},
			{Type: mount.TypeVolume, Source: launchVol, Target: launchDir},
		},
		NetworkMode: container.NetworkMode(o.Engine.NetworkMode),
	}
	if hc.NetworkMode == "" {
		hc.NetworkMode = "default"
	}
	if o.Engine.MemoryLimit != "" {
		if hc.Memory, err = units.RAMInBytes(o.Engine.MemoryLimit); err != nil {
			return "", fmt.Errorf("memory_limit %q: %w: %w", o.Engine.MemoryLimit, err, sdk.ErrInvalidArgument)
		}
		hc.MemorySwap = -1
	}
	env := []string{"CNB_PLATFORM_API=" + platformAPI}
	if sock, ok := unixSocket(cli.DaemonHost()); ok {
		hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeBind, Source: sock, Target: socketInside})
	} else {
		env = append(env, "DOCKER_HOST="+cli.DaemonHost())
	}
	// The creator starts as root only to open the engine's socket and chown
	// its directories; it then runs every buildpack as the CNB user.
	c, err := cli.ContainerCreate(ctx, &container.Config{
		Image: o.Builder, User: "root", Cmd: args, Env: env, WorkingDir: appDir,
		Labels: map[string]string{LabelBuild: o.Image},
	}, hc, nil, nil, "")
	if err != nil {
		return "", engineError(ctx, "creating the lifecycle container", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = cli.ContainerRemove(rctx, c.ID, container.RemoveOptions{Force: true})
	}()

	if err := copyIn(ctx, cli, c.ID, o, order, uid, gid); err != nil {
		return "", err
	}
	att, err := cli.ContainerAttach(ctx, c.ID, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return "", engineError(ctx, "attaching to the lifecycle container", err)
	}
	defer att.Close()
	waitC, waitErr := cli.ContainerWait(ctx, c.ID, container.WaitConditionNextExit)
	out := newLineLog(log, sdk.LogStdout)
	errOut := newLineLog(log, sdk.LogStderr)
	copied := make(chan struct{})
	go func() {
		_, _ = stdcopy.StdCopy(out, errOut, att.Reader)
		out.flush()
		errOut.flush()
		close(copied)
	}()
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		return "", engineError(ctx, "starting the lifecycle", err)
	}
	var code int64
	select {
	case <-ctx.Done():
		// The deferred removal kills the container.
		return "", fmt.Errorf("building %s: %w", o.Image, ctx.Err())
	case err := <-waitErr:
		return "", engineError(ctx, "waiting for the lifecycle", err)
	case res := <-waitC:
		if res.Error != nil {
			return "", fmt.Errorf("waiting for the lifecycle: %s", res.Error.Message)
		}
		code = res.StatusCode
	}
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
	}
	if code != 0 {
		return "", &FailedError{Code: code, Lines: failureLines(out.all(), errOut.all())}
	}
	img, err := cli.ImageInspect(ctx, o.Image)
	if err != nil {
		return "", engineError(ctx, "inspecting the built image "+o.Image, err)
	}
	return img.ID, nil
}

// FailedError is a lifecycle run that exited with an error.
type FailedError struct {
	// Code is the lifecycle's exit code.
	Code int64
	// Lines are the lifecycle's error lines (and what led to them).
	Lines []string
}

// Error returns the lifecycle's own error lines.
func (e *FailedError) Error() string {
	if len(e.Lines) == 0 {
		return fmt.Sprintf("the lifecycle failed with exit code %d", e.Code)
	}
	return fmt.Sprintf("the lifecycle failed (exit code %d): %s", e.Code, strings.Join(e.Lines, "; "))
}

// failureLines picks the lines that explain a failed run: the lifecycle's
// "ERROR:" lines, preceded by the last stderr lines a buildpack printed.
func failureLines(stdout, stderr []string) []string {
	var errs, other []string
	for _, l := range stderr {
		if strings.HasPrefix(l, "ERROR:") {
			errs = append(errs, l)
		} else if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "Warning:") {
			other = append(other, l)
		}
	}
	if len(other) > 3 {
		other = other[len(other)-3:]
	}
	lines := append(other, errs...)
	if len(lines) == 0 && len(stdout) > 0 {
		lines = stdout[max(0, len(stdout)-3):]
	}
	return lines
}

// copyIn copies the app source to /workspace (owned by the CNB user), the
// build environment to /platform/env and the order, if any, into the
// created container.
func copyIn(ctx context.Context, cli *client.Client, id string, o Options, order []byte, uid, gid string) error {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeInput(ctx, pw, o, order, atoi(uid), atoi(gid)))
	}()
	err := cli.CopyToContainer(ctx, id, "/", pr, container.CopyToContainerOptions{})
	pr.CloseWithError(errors.New("copy ended"))
	if err != nil {
		return engineError(ctx, "copying the source into the lifecycle container", err)
	}
	return nil
}

// writeInput writes the tar stream copyIn sends.
func writeInput(ctx context.Context, w io.Writer, o Options, order []byte, uid, gid int) error {
	pr, pw := io.Pipe()
	go func() {
		cw := dockerbuild.NewContextWriter(pw)
		err := cw.AddDirEntry(strings.TrimPrefix(appDir, "/"))
		if err == nil {
			err = cw.AddDir(ctx, o.SourceDir, dockerbuild.DirOptions{Prefix: strings.TrimPrefix(appDir, "/"), Exclude: []string{".git"}})
		}
		if err == nil {
			err = cw.AddDirEntry("platform/env")
		}
		for _, k := range slices.Sorted(maps.Keys(o.Env)) {
			if err == nil {
				err = cw.AddBytes("platform/env/"+k, 0o644, []byte(o.Env[k]))
			}
		}
		if err == nil && order != nil {
			err = cw.AddBytes(strings.TrimPrefix(orderFile, "/"), 0o644, order)
		}
		if err == nil {
			err = cw.Close()
		}
		pw.CloseWithError(err)
	}()
	// Everything belongs to the CNB user, as the lifecycle expects.
	tr, tw := tar.NewReader(pr), tar.NewWriter(w)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			pr.CloseWithError(err)
			return err
		}
		hdr.Uid, hdr.Gid = uid, gid
		if err := tw.WriteHeader(hdr); err != nil {
			pr.CloseWithError(err)
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			pr.CloseWithError(err)
			return err
		}
	}
}

// orderTOML writes an order.toml of one group: the buildpacks, each
// resolved to a version the builder holds.
func orderTOML(meta *BuilderMetadata, buildpacks []string) ([]byte, error) {
	var b strings.Builder
	b.WriteString("[[order]]\n")
	for _, bp := range buildpacks {
		id, version, _ := strings.Cut(bp, "@")
		have := meta.BuildpackVersions(id)
		switch {
		case len(have) == 0:
			ids := make([]string, 0, len(meta.Buildpacks))
			for _, m := range meta.Buildpacks {
				ids = append(ids, m.ID+"@"+m.Version)
			}
			return nil, fmt.Errorf("%s is not in the builder image (only buildpacks of the builder can be chosen; it has %s)", id, strings.Join(ids, ", "))
		case version == "" && len(have) > 1:
			return nil, fmt.Errorf("the builder has %s in versions %s: name one as %s@VERSION", id, strings.Join(have, ", "), id)
		case version == "":
			version = have[0]
		case !slices.Contains(have, version):
			return nil, fmt.Errorf("the builder has %s in versions %s, not %s", id, strings.Join(have, ", "), version)
		}
		fmt.Fprintf(&b, "  [[order.group]]\n    id = %q\n    version = %q\n", id, version)
	}
	return []byte(b.String()), nil
}

// previousImage returns the newest image of img's repository that the
// lifecycle exported, so that the exporter can reuse its layers, or "".
func previousImage(ctx context.Context, cli *client.Client, img string) string {
	n, err := reference.ParseNormalizedNamed(img)
	if err != nil {
		return ""
	}
	list, err := cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(
		filters.Arg("reference", reference.FamiliarName(n)),
		filters.Arg("label", "io.buildpacks.lifecycle.metadata"),
	)})
	if err != nil {
		return ""
	}
	var best image.Summary
	for _, s := range list {
		if s.Created > best.Created && len(s.RepoTags) > 0 {
			best = s
		}
	}
	if len(best.RepoTags) == 0 {
		return ""
	}
	return best.RepoTags[0]
}

// ensureImage pulls ref when the engine does not have it, logging the
// pull's progress.
func ensureImage(ctx context.Context, cli *client.Client, ref string, log sdk.LogFunc) error {
	if _, err := cli.ImageInspect(ctx, ref); err == nil {
		return nil
	} else if !cerrdefs.IsNotFound(err) {
		return engineError(ctx, "inspecting "+ref, err)
	}
	log.Printf("pulling %s", ref)
	rc, err := cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return fmt.Errorf("pulling %s: %w", ref, engineErr(err))
	}
	defer rc.Close()
	dec := jsonmessageDecoder(rc)
	last := map[string]string{}
	for {
		msg, err := dec()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("pulling %s: %w", ref, ctx.Err())
			}
			return fmt.Errorf("pulling %s: %w", ref, err)
		}
		if msg.Error != nil {
			return fmt.Errorf("pulling %s: %s", ref, msg.Error.Message)
		}
		if msg.Status != "" && last[msg.ID] != msg.Status {
			last[msg.ID] = msg.Status
			log.Line(sdk.LogStdout, strings.TrimPrefix(msg.ID+": "+msg.Status, ": "))
		}
	}
}

// jsonmessageDecoder reads the engine's JSON message stream.
func jsonmessageDecoder(r io.Reader) func() (*jsonmessage.JSONMessage, error) {
	dec := json.NewDecoder(r)
	return func() (*jsonmessage.JSONMessage, error) {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		return &m, nil
	}
}

// newClient connects to the Docker Engine at host, negotiating the API
// version.
func newClient(host string) (*client.Client, error) {
	opts := []client.Opt{client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("Docker Engine at %q: %w: %w", host, err, sdk.ErrInvalidArgument)
	}
	return cli, nil
}

// engineError wraps an engine error with what was being done, as the
// context's error when it was cancelled.
func engineError(ctx context.Context, doing string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", doing, ctx.Err())
	}
	return fmt.Errorf("%s: %w", doing, engineErr(err))
}

// engineErr marks connection failures as sdk.ErrUnavailable.
func engineErr(err error) error {
	if client.IsErrConnectionFailed(err) {
		return fmt.Errorf("%w: %w", err, sdk.ErrUnavailable)
	}
	return err
}

// unixSocket returns the socket path of a unix:// engine address.
func unixSocket(host string) (string, bool) {
	u, err := url.Parse(host)
	if err != nil || u.Scheme != "unix" {
		return "", false
	}
	return u.Path, true
}

// envValue returns the value of name in a KEY=VALUE list.
func envValue(env []string, name string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// isNumber reports whether s is a non-empty string of decimal digits.
func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// atoi converts a string isNumber accepted.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// lineLog sends what is written to it to a log, line by line, and keeps
// the lines.
type lineLog struct {
	mu      sync.Mutex
	log     sdk.LogFunc
	stream  sdk.LogStream
	partial []byte
	lines   []string
}

func newLineLog(log sdk.LogFunc, stream sdk.LogStream) *lineLog {
	return &lineLog{log: log, stream: stream}
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.emit(strings.TrimRight(string(l.partial[:i]), "\r"))
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

func (l *lineLog) emit(line string) {
	l.lines = append(l.lines, line)
	if len(l.lines) > 200 {
		l.lines = l.lines[len(l.lines)-200:]
	}
	l.log.Line(l.stream, line)
}

func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.emit(string(l.partial))
		l.partial = nil
	}
}

func (l *lineLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}
