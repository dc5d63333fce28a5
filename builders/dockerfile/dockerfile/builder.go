// Package dockerfile implements berth's Dockerfile builder (id
// builder.dockerfile): it sends the app's build context, filtered by its
// .dockerignore, to the Docker Engine berth names in the request and builds
// the Dockerfile there, streaming the engine's output line by line.
//
// The build context, the engine settings and the build itself are package
// dockerbuild's, shared with the other builders.
//
// Build secrets: the classic builder of Docker Engine 20.10 (API 1.41) has
// no secret mounts, and BuildKit needs a session protocol berth does not
// speak, so a secret cannot reach a build without being recorded in the
// image. By default BuildRequest.Secrets are therefore not passed, and the
// build log says so. An app can opt in with secrets_as_build_args: each
// secret then becomes a build argument of the same name, readable by
// anyone who has the image (docker history shows the values of build
// arguments used by RUN steps). Secret values are never logged.
package dockerfile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
	"github.com/moby/patternmatcher"

	"github.com/berth-dev/berth/builders/internal/dockerbuild"
	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin id.
const ID = "builder.dockerfile"

// Version is the plugin's version.
const Version = "1.0.0"

// AppSettings are an app's build settings (BuildRequest.Settings). Their
// tags make the app settings schema.
type AppSettings struct {
	// Dockerfile is the Dockerfile's path relative to the repository root.
	// Default: Dockerfile in the build context.
	Dockerfile string `json:"dockerfile,omitempty" jsonschema:"title=Dockerfile,example=Dockerfile,example=docker/web.Dockerfile" jsonschema_description:"Path of the Dockerfile, relative to the repository root. Default: Dockerfile in the build context. A .dockerignore next to it named <Dockerfile>.dockerignore takes precedence over the context's .dockerignore."`
	// Context is the build context's directory relative to the repository
	// root. Default ".".
	Context string `json:"context,omitempty" jsonschema:"title=Build context,default=." jsonschema_description:"Directory sent to the Docker Engine as the build context, relative to the repository root. Files matched by its .dockerignore are left out."`
	// Target is the stage to build; empty for the last stage.
	Target string `json:"target,omitempty" jsonschema:"title=Target stage,pattern=^[A-Za-z0-9][A-Za-z0-9._-]*$" jsonschema_description:"Stage of a multi-stage Dockerfile to build (FROM ... AS <stage>). Empty: the last stage."`
	// BuildArgs are default build arguments; BuildRequest.BuildArgs
	// override them.
	BuildArgs map[string]string `json:"build_args,omitempty" jsonschema:"title=Build arguments" jsonschema_description:"Default values of the Dockerfile's ARG instructions. The app's build variables override them. Not secret: they are visible in the image's history."`
	// SecretsAsBuildArgs passes BuildRequest.Secrets as build arguments,
	// which records them in the image (see the package documentation).
	SecretsAsBuildArgs bool `json:"secrets_as_build_args,omitempty" jsonschema:"title=Pass secrets as build arguments,default=false" jsonschema_description:"This Docker Engine's builder cannot mount build secrets. When on, each build secret is passed as a build argument of the same name, which anyone with the image can read (docker history). When off, secrets are not passed to the build."`
	// NoCache builds every step again, ignoring the build cache.
	NoCache bool `json:"no_cache,omitempty" jsonschema:"title=Do not use the build cache,default=false" jsonschema_description:"Run every step again instead of reusing cached layers."`
}

// settingsSchema is the plugin settings' schema: the Docker Engine
// settings every builder shares.
var settingsSchema = settingsschema.Encode(settingsschema.For[dockerbuild.EngineSettings]("Dockerfile builder", "How builds use the Docker Engine."))

// appSchema is the app settings' schema; build argument names are
// identifiers.
var appSchema = func() json.RawMessage {
	s := settingsschema.For[AppSettings]("Dockerfile build", "")
	settingsschema.Property(s, "build_args").PropertyNames = &jsonschema.Schema{Pattern: dockerbuild.ArgNamePattern}
	return settingsschema.Encode(s)
}()

// Builder is the Dockerfile builder. Use New.
type Builder struct {
	sdk.UnimplementedBuilder

	mu     sync.RWMutex
	engine dockerbuild.EngineSettings
}

// New returns a Builder with the default settings.
func New() *Builder { return &Builder{} }

// Info describes the plugin.
func (b *Builder) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:           ID,
		Version:      Version,
		Description:  "Builds the app's Dockerfile on the Docker Engine, honouring .dockerignore, target stages and build arguments.",
		Capabilities: []sdk.Capability{sdk.CapBuildArgs},
	}, nil
}

// ConfigSchema returns the plugin settings schema (Docker Engine limits) and
// the per-app build settings schema.
func (b *Builder) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: settingsSchema, App: appSchema}, nil
}

// Configure validates and applies the plugin settings.
func (b *Builder) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s dockerbuild.EngineSettings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	var errs sdk.ConfigError
	s.Validate(&errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.engine = s
	b.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Detect reports whether the repository root has a Dockerfile.
func (b *Builder) Detect(_ context.Context, req *sdk.DetectRequest) (*sdk.DetectResponse, error) {
	p, err := dockerbuild.ResolveInside(req.SourceDir, "Dockerfile")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &sdk.DetectResponse{Reason: "no Dockerfile at the repository root"}, nil
	case errors.Is(err, dockerbuild.ErrEscapes):
		return &sdk.DetectResponse{Reason: "the Dockerfile is a link out of the repository"}, nil
	case err != nil:
		return nil, fmt.Errorf("detect: %w", err)
	}
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return &sdk.DetectResponse{Reason: "Dockerfile is not a regular file"}, nil
	}
	return &sdk.DetectResponse{Detected: true, Reason: "found a Dockerfile"}, nil
}

// targetPattern is a Dockerfile stage name (AppSettings.Target).
var targetPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// plan is a checked build: where everything is.
type plan struct {
	contextDir string
	// dockerfile is the Dockerfile's name in the context.
	dockerfile string
	// outside is the Dockerfile's path when it lies outside the context
	// and is added to it under the name dockerfile.
	outside string
	exclude []string
}

// newPlan checks the app settings against the source tree.
func newPlan(source string, app AppSettings) (*plan, error) {
	var errs sdk.ConfigError
	ctxRel := app.Context
	if ctxRel == "" {
		ctxRel = "."
	}
	dfRel := app.Dockerfile
	if dfRel == "" {
		dfRel = path.Join(ctxRel, "Dockerfile")
	}
	if app.Target != "" && !targetPattern.MatchString(app.Target) {
		errs.Add("target", "must be a stage name: letters, digits, '.', '_' and '-'")
	}
	dockerbuild.CheckBuildArgs(&errs, "build_args", app.BuildArgs)
	p := &plan{}
	var err error
	if p.contextDir, err = dockerbuild.ResolveInside(source, ctxRel); err != nil {
		errs.Add("context", pathProblem(err))
	} else if st, err := os.Stat(p.contextDir); err != nil || !st.IsDir() {
		errs.Add("context", fmt.Sprintf("%q is not a directory", ctxRel))
	}
	dfPath, err := dockerbuild.ResolveInside(source, dfRel)
	if err != nil {
		errs.Add("dockerfile", pathProblem(err))
	} else if st, err := os.Stat(dfPath); err != nil || !st.Mode().IsRegular() {
		errs.Add("dockerfile", fmt.Sprintf("%q is not a file", dfRel))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	// A <Dockerfile>.dockerignore next to the Dockerfile wins over the
	// context's .dockerignore, as with BuildKit.
	ignoreFile := dfPath + ".dockerignore"
	if _, err := os.Stat(ignoreFile); err != nil {
		ignoreFile = filepath.Join(p.contextDir, ".dockerignore")
	}
	if p.exclude, err = dockerbuild.ReadIgnoreFile(ignoreFile); err != nil {
		return nil, err
	}
	if rel, err := filepath.Rel(p.contextDir, dfPath); err == nil && dockerbuild.Within(p.contextDir, dfPath) {
		p.dockerfile = filepath.ToSlash(rel)
	} else {
		var r [6]byte
		_, _ = rand.Read(r[:])
		p.dockerfile, p.outside = ".berth-dockerfile-"+hex.EncodeToString(r[:]), dfPath
	}
	// As docker build does: the Dockerfile and .dockerignore are always
	// sent, even when .dockerignore names them.
	for _, keep := range []string{p.dockerfile, ".dockerignore"} {
		if ignored, _ := patternmatcher.MatchesOrParentMatches(keep, p.exclude); ignored {
			p.exclude = append(p.exclude, "!"+keep)
		}
	}
	return p, nil
}

// pathProblem says what is wrong with a path setting.
func pathProblem(err error) string {
	switch {
	case errors.Is(err, dockerbuild.ErrEscapes):
		return "must stay inside the repository (no '..', absolute paths or links leading out)"
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist in the repository"
	default:
		return err.Error()
	}
}

// write writes the build context.
func (p *plan) write(ctx context.Context, w io.Writer) error {
	cw := dockerbuild.NewContextWriter(w)
	if err := cw.AddDir(ctx, p.contextDir, dockerbuild.DirOptions{Exclude: p.exclude}); err != nil {
		return err
	}
	if p.outside != "" {
		if err := cw.AddFile(p.dockerfile, 0o644, p.outside); err != nil {
			return err
		}
	}
	return cw.Close()
}

// Build builds the app's Dockerfile into req.Image on the Docker Engine at
// req.DockerHost and returns the image reference and id.
func (b *Builder) Build(ctx context.Context, req *sdk.BuildRequest) (*sdk.BuildResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if err := dockerbuild.CheckImageName(req.Image); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	var app AppSettings
	if err := sdk.DecodeSettings(req.Settings, &app); err != nil {
		return nil, err
	}
	p, err := newPlan(req.SourceDir, app)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	args := map[string]string{}
	for k, v := range app.BuildArgs {
		args[k] = v
	}
	var errs sdk.ConfigError
	dockerbuild.CheckBuildArgs(&errs, "build_args", req.BuildArgs)
	for k, v := range req.BuildArgs {
		args[k] = v
	}
	log := req.Log
	if len(req.Secrets) > 0 {
		if app.SecretsAsBuildArgs {
			dockerbuild.CheckBuildArgs(&errs, "secrets", req.Secrets)
			for k, v := range req.Secrets {
				args[k] = v
			}
			log.Printf("passing build secrets %s as build arguments (secrets_as_build_args): they are recorded in the image", strings.Join(slices.Sorted(maps.Keys(req.Secrets)), ", "))
		} else {
			log.Printf("warning: %d build secret(s) not passed: this Docker Engine's builder cannot mount secrets; set secrets_as_build_args to pass them as build arguments", len(req.Secrets))
		}
	}
	if err := errs.Err(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	b.mu.RLock()
	engine := b.engine
	b.mu.RUnlock()

	log.Printf("building %s from %s (context %s)", req.Image, p.dockerfile, relOrDot(req.SourceDir, p.contextDir))
	if app.Target != "" {
		log.Printf("target stage: %s", app.Target)
	}
	if len(args) > 0 {
		log.Printf("build arguments: %s", strings.Join(slices.Sorted(maps.Keys(args)), ", "))
	}
	opts := dockerbuild.BuildOptions{
		Tag: req.Image, Dockerfile: p.dockerfile, Target: app.Target, BuildArgs: args,
		NoCache: app.NoCache, Engine: engine,
	}
	id, err := dockerbuild.BuildContext(ctx, req.DockerHost, p.write, opts, log)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	log.Printf("built %s (%s)", req.Image, id)
	return &sdk.BuildResponse{Image: req.Image, Digest: id}, nil
}

// relOrDot names dir relative to root for the log.
func relOrDot(root, dir string) string {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return dir
	}
	if rel, err := filepath.Rel(realRoot, dir); err == nil {
		return filepath.ToSlash(rel)
	}
	return dir
}
