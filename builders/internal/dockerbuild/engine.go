package dockerbuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/docker/go-units"

	"github.com/berth-dev/berth/sdk"
)

// EngineSettings are the operator's settings for builds on the Docker
// Engine, shared by berth's builders. Their tags make the JSON Schema the
// builders declare (see plugins/settingsschema); embed the type in a
// builder's settings to offer them.
type EngineSettings struct {
	// MemoryLimit caps the memory of each build step's container, in
	// Docker's notation ("2g", "512m"). Empty: no limit.
	MemoryLimit string `json:"memory_limit,omitempty" jsonschema:"title=Memory limit of build steps,pattern=^[0-9]+(\\.[0-9]+)?\\s*[bBkKmMgGtT]?[iI]?[bB]?$" jsonschema_description:"Memory available to each RUN step, in Docker's notation (512m, 2g). Empty: no limit."`
	// NetworkMode is the network of build steps: "default", "none" or
	// "host". Empty means "default".
	NetworkMode string `json:"network_mode,omitempty" jsonschema:"title=Network of build steps,enum=default,enum=none,enum=host,default=default" jsonschema_description:"Network that RUN steps use: the engine's default bridge, none (no network) or the host's."`
}

// Validate adds a field error to errs for each bad setting.
func (s EngineSettings) Validate(errs *sdk.ConfigError) {
	if s.MemoryLimit != "" {
		if n, err := units.RAMInBytes(s.MemoryLimit); err != nil || n < 6*1024*1024 {
			errs.Add("memory_limit", "must be a size of at least 6m, such as 512m or 2g")
		}
	}
	switch s.NetworkMode {
	case "", "default", "none", "host":
	default:
		errs.Add("network_mode", `must be "default", "none" or "host"`)
	}
}

// BuildOptions are the options of one image build.
type BuildOptions struct {
	// Tag is the reference to give the image ("name:tag").
	Tag string
	// Dockerfile is the Dockerfile's path inside the build context.
	Dockerfile string
	// Target is the stage to build; empty for the last one.
	Target string
	// BuildArgs are the values of the Dockerfile's ARGs.
	BuildArgs map[string]string
	// NoCache disables the build cache.
	NoCache bool
	// Labels are added to the image.
	Labels map[string]string
	// Engine holds the operator's settings.
	Engine EngineSettings
}

// BuildImage sends buildContext, a tar stream, to the Docker Engine at host
// (DOCKER_HOST form; empty for the default) and builds it with the classic
// builder, which every Engine since 17.05 has. Base images are never pulled
// on purpose (pull=false): they must be local or, failing that, the engine
// pulls only what is missing. Every line of output is sent to log as it
// arrives; an error in the output fails the build with the engine's message.
// It returns the id of the image ("sha256:...").
func BuildImage(ctx context.Context, host string, buildContext io.Reader, opts BuildOptions, log sdk.LogFunc) (string, error) {
	cli, err := newClient(host)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	args := make(map[string]*string, len(opts.BuildArgs))
	for k, v := range opts.BuildArgs {
		args[k] = &v
	}
	var memory, swap int64
	if opts.Engine.MemoryLimit != "" {
		if memory, err = units.RAMInBytes(opts.Engine.MemoryLimit); err != nil {
			return "", fmt.Errorf("memory_limit %q: %w: %w", opts.Engine.MemoryLimit, err, sdk.ErrInvalidArgument)
		}
		swap = -1
	}
	network := opts.Engine.NetworkMode
	if network == "" {
		network = "default"
	}
	resp, err := cli.ImageBuild(ctx, buildContext, build.ImageBuildOptions{
		Tags:        []string{opts.Tag},
		Dockerfile:  opts.Dockerfile,
		Target:      opts.Target,
		BuildArgs:   args,
		NoCache:     opts.NoCache,
		Labels:      opts.Labels,
		Remove:      true,
		ForceRemove: true,
		PullParent:  false,
		Memory:      memory,
		MemorySwap:  swap,
		NetworkMode: network,
		Version:     build.BuilderV1,
	})
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("building %s: %w", opts.Tag, ctx.Err())
		}
		if cerrdefs.IsInvalidArgument(err) {
			// The engine refused the Dockerfile itself (a syntax error, an
			// unknown target): a failed build, in the engine's words.
			msg := strings.TrimPrefix(err.Error(), "Error response from daemon: ")
			log.Line(sdk.LogStderr, msg)
			return "", fmt.Errorf("building %s: %w", opts.Tag, &BuildFailedError{Message: msg})
		}
		return "", fmt.Errorf("building %s on the Docker Engine: %w", opts.Tag, engineError(err))
	}
	defer resp.Body.Close()
	id, err := readBuildOutput(resp.Body, log)
	if ctx.Err() != nil {
		return "", fmt.Errorf("building %s: %w", opts.Tag, ctx.Err())
	}
	if err != nil {
		return "", fmt.Errorf("building %s: %w", opts.Tag, err)
	}
	if id == "" {
		img, err := cli.ImageInspect(ctx, opts.Tag)
		if err != nil {
			return "", fmt.Errorf("inspecting the built image %s: %w", opts.Tag, engineError(err))
		}
		id = img.ID
	}
	return id, nil
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

// engineError marks errors reaching the engine as sdk.ErrUnavailable.
func engineError(err error) error {
	if client.IsErrConnectionFailed(err) {
		return fmt.Errorf("%w: %w", err, sdk.ErrUnavailable)
	}
	return err
}

// BuildFailedError is the error the engine reported in the build output.
type BuildFailedError struct {
	// Message is the engine's message, as is.
	Message string
}

// Error returns the engine's message.
func (e *BuildFailedError) Error() string { return e.Message }

// readBuildOutput reads the engine's JSON message stream, sending each line
// to log as it comes, and returns the built image's id when the engine
// announced it. A stream that reports an error yields a *BuildFailedError.
func readBuildOutput(r io.Reader, log sdk.LogFunc) (string, error) {
	dec := json.NewDecoder(r)
	var id string
	var partial strings.Builder
	lastStatus := map[string]string{}
	emitStream := func(text string, final bool) {
		partial.WriteString(text)
		s := partial.String()
		partial.Reset()
		for {
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				break
			}
			if line := strings.TrimRight(s[:i], "\r"); strings.TrimSpace(line) != "" {
				log.Line(sdk.LogStdout, line)
			}
			s = s[i+1:]
		}
		if final && strings.TrimSpace(s) != "" {
			log.Line(sdk.LogStdout, s)
		} else {
			partial.WriteString(s)
		}
	}
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			emitStream("", true)
			return id, nil
		} else if err != nil {
			emitStream("", true)
			return "", fmt.Errorf("reading the build output: %w", err)
		}
		switch {
		case msg.Error != nil || msg.ErrorMessage != "":
			emitStream("", true)
			text := msg.ErrorMessage
			if msg.Error != nil && msg.Error.Message != "" {
				text = msg.Error.Message
			}
			log.Line(sdk.LogStderr, text)
			return "", &BuildFailedError{Message: text}
		case msg.Stream != "":
			emitStream(msg.Stream, false)
		case msg.Status != "":
			// Progress updates repeat a status; show each status once.
			if lastStatus[msg.ID] == msg.Status {
				continue
			}
			lastStatus[msg.ID] = msg.Status
			line := msg.Status
			if msg.ID != "" {
				line = msg.ID + ": " + msg.Status
			}
			log.Line(sdk.LogStdout, line)
		case msg.Aux != nil:
			var aux struct{ ID string }
			if json.Unmarshal(*msg.Aux, &aux) == nil && strings.HasPrefix(aux.ID, "sha256:") {
				id = aux.ID
			}
		}
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
