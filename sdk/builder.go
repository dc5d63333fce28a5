package sdk

import (
	"context"
	"encoding/json"
	"fmt"
)

// Builder capabilities.
const (
	// CapBuildSecrets: the builder passes BuildRequest.Secrets to the
	// build without baking them into the image.
	CapBuildSecrets Capability = "build_secrets"
	// CapBuildArgs: the builder honours BuildRequest.BuildArgs.
	CapBuildArgs Capability = "build_args"
)

// Builder turns a source tree into a container image.
type Builder interface {
	Plugin
	// Detect reports whether this builder can build the source tree.
	Detect(ctx context.Context, req *DetectRequest) (*DetectResponse, error)
	// Build builds the source tree into an image, streaming its output to
	// req.Log, and returns the image reference. It stops promptly, with an
	// error, when ctx is cancelled.
	Build(ctx context.Context, req *BuildRequest) (*BuildResponse, error)
}

// DetectRequest asks whether a source tree can be built.
type DetectRequest struct {
	// SourceDir is the absolute path of the checked-out source.
	SourceDir string
}

// DetectResponse answers a DetectRequest.
type DetectResponse struct {
	// Detected is true when the builder recognises the source tree.
	Detected bool
	// Reason says why, for a person: "found Dockerfile".
	Reason string
}

// BuildRequest asks for an image to be built.
type BuildRequest struct {
	// SourceDir is the absolute path of the checked-out source.
	SourceDir string
	// Settings are the app's build settings, a JSON document valid against
	// ConfigSchemaResponse.App.
	Settings json.RawMessage
	// Image is the reference to tag the result with, "name:tag".
	Image string
	// Env holds the app's environment variables, for builders that expose
	// them at build time.
	Env map[string]string
	// BuildArgs are build arguments (Docker ARG values).
	BuildArgs map[string]string
	// Secrets are build secrets: available during the build, never stored
	// in the image or written to the log.
	Secrets map[string]string
	// DockerHost is the Docker Engine address to build with, in DOCKER_HOST
	// form ("unix:///var/run/docker.sock"). berth always sets it.
	DockerHost string
	// Log receives the build output. Never nil when berth calls Build.
	Log LogFunc
}

// BuildResponse is the result of a successful build.
type BuildResponse struct {
	// Image is the reference of the built image, "name:tag".
	Image string
	// Digest is the image id ("sha256:..."), when known.
	Digest string
}

// UnimplementedBuilder is embedded by builders so that methods added to
// Builder later do not break them. It answers ErrUnimplemented to Detect and
// Build and provides UnimplementedPlugin's ConfigSchema and Configure.
type UnimplementedBuilder struct{ UnimplementedPlugin }

// Detect returns ErrUnimplemented.
func (UnimplementedBuilder) Detect(context.Context, *DetectRequest) (*DetectResponse, error) {
	return nil, fmt.Errorf("Detect: %w", ErrUnimplemented)
}

// Build returns ErrUnimplemented.
func (UnimplementedBuilder) Build(context.Context, *BuildRequest) (*BuildResponse, error) {
	return nil, fmt.Errorf("Build: %w", ErrUnimplemented)
}
