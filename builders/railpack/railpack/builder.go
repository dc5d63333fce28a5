// Package railpack implements berth's Railpack builder (id
// builder.railpack): Railpack, used as a Go library, plans the app from its
// source (its providers, railpack.json and the app's build settings), the
// plan is converted to BuildKit LLB and solved by a BuildKit daemon with the
// docker exporter, and the exported image is loaded into the Docker Engine
// berth names in the request.
//
// BuildKit is the operator's (buildkit_host) or a buildkitd container the
// plugin manages on the engine (see ensureBuildkitd). Docker Engine 20.10's
// built-in BuildKit lacks MergeOp, which Railpack's plans use, so the
// engine's own builder is not used.
//
// Build secrets and the app's variables reach the build as BuildKit
// secrets, as Railpack's CLI passes them: available to build commands,
// never stored in the image, never logged.
package railpack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/railwayapp/railpack/core/app"
	"github.com/railwayapp/railpack/core/config"
	"github.com/railwayapp/railpack/core/generate"
	"github.com/railwayapp/railpack/core/logger"
	"github.com/railwayapp/railpack/core/providers"

	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin id.
const ID = "builder.railpack"

// Version is the plugin's version.
const Version = "1.0.0"

// RailpackVersion is the version of Railpack the plugin is built with.
const RailpackVersion = "0.36.4"

// Builder is the Railpack builder. Use New.
type Builder struct {
	sdk.UnimplementedBuilder

	mu       sync.RWMutex
	settings Settings
}

// New returns a Builder with the default settings.
func New() *Builder { return &Builder{} }

// Info describes the plugin.
func (b *Builder) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:           ID,
		Version:      Version,
		Description:  "Builds apps without a Dockerfile with Railpack " + RailpackVersion + " and BuildKit: providers for Node, Python, Go, PHP, Ruby, Java, Rust, static sites, shell scripts and more; railpack.json honoured.",
		Capabilities: []sdk.Capability{sdk.CapBuildSecrets},
	}, nil
}

// ConfigSchema returns the plugin settings schema and the per-app build
// settings schema.
func (b *Builder) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: settingsSchema, App: appSchema}, nil
}

// Configure validates and applies the plugin settings.
func (b *Builder) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s Settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	var errs sdk.ConfigError
	s.validate(&errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.settings = s
	b.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Detect asks Railpack's language providers, in Railpack's order, whether
// they recognise the source; the first that does names the reason.
func (b *Builder) Detect(_ context.Context, req *sdk.DetectRequest) (resp *sdk.DetectResponse, err error) {
	a, err := app.NewApp(req.SourceDir)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	ctx := &generate.GenerateContext{
		App:      a,
		Env:      app.NewEnvironment(nil),
		Config:   config.EmptyConfig(),
		Deploy:   generate.NewDeployBuilder(),
		Caches:   generate.NewCacheContext(),
		Metadata: generate.NewMetadata(),
		Logger:   logger.NewLogger(),
	}
	for _, p := range providers.GetLanguageProviders() {
		if ok, _ := detectOne(p, ctx); ok {
			return &sdk.DetectResponse{Detected: true, Reason: fmt.Sprintf("Railpack's %s provider matches", p.Name())}, nil
		}
	}
	return &sdk.DetectResponse{Reason: "no Railpack provider matches (no start.sh, package.json, requirements.txt, go.mod, index.html, ...)"}, nil
}

// detectOne runs one provider's Detect; a provider that needs what
// detection does not set up (a panic) does not match.
func detectOne(p providers.Provider, ctx *generate.GenerateContext) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("provider %s: %v", p.Name(), r)
		}
	}()
	return p.Detect(ctx)
}

// Build plans the app with Railpack, solves the plan with BuildKit and
// loads the image into the engine at req.DockerHost, tagged req.Image.
func (b *Builder) Build(ctx context.Context, req *sdk.BuildRequest) (resp *sdk.BuildResponse, err error) {
	defer func() {
		// Whatever step a cancellation interrupted, the error says so.
		if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("build: %w (%v)", ctx.Err(), err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if req.Image == "" || strings.ContainsAny(req.Image, " \t\n") {
		return nil, fmt.Errorf("build: bad image name %q", req.Image)
	}
	var as AppSettings
	if err := sdk.DecodeSettings(req.Settings, &as); err != nil {
		return nil, err
	}
	var errs sdk.ConfigError
	as.validate(&errs)
	if err := errs.Err(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if as.ConfigFile != "" {
		if _, err := os.Stat(filepath.Join(req.SourceDir, as.ConfigFile)); err != nil {
			errs.Add("config_file", fmt.Sprintf("%q is not in the repository", as.ConfigFile))
			return nil, fmt.Errorf("build: %w", errs.Err())
		}
	}
	b.mu.RLock()
	s := b.settings
	b.mu.RUnlock()
	log := req.Log.Printf

	if err := ensureMise(ctx, s.MiseSource, log); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	// Variables: the app settings' env, then the app's environment, then
	// its build secrets; all are BuildKit secrets to Railpack.
	vars := map[string]string{}
	maps.Copy(vars, as.Env)
	maps.Copy(vars, req.Env)
	maps.Copy(vars, req.Secrets)
	if len(as.Packages) > 0 {
		vars["RAILPACK_PACKAGES"] = strings.Join(as.Packages, " ")
	}
	if len(as.BuildAptPackages) > 0 {
		vars["RAILPACK_BUILD_APT_PACKAGES"] = strings.Join(as.BuildAptPackages, " ")
	}
	if len(as.DeployAptPackages) > 0 {
		vars["RAILPACK_DEPLOY_APT_PACKAGES"] = strings.Join(as.DeployAptPackages, " ")
	}
	p, err := makePlan(req.SourceDir, as, vars, log)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	log("building %s with BuildKit", req.Image)
	id, err := solve(ctx, req.DockerHost, s, p, req.SourceDir, req.Image, vars, as.NoCache, log)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	log("built %s (%s)", req.Image, id)
	return &sdk.BuildResponse{Image: req.Image, Digest: id}, nil
}

// secretNames lists the names of vars for the log, never their values.
func secretNames(vars map[string]string) string {
	return strings.Join(slices.Sorted(maps.Keys(vars)), ", ")
}

// errPlan is a plan Railpack could not make.
var errPlan = errors.New("railpack could not plan the app")
