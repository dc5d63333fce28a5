package cnb

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/distribution/reference"
	"github.com/invopop/jsonschema"

	"github.com/berth-dev/berth/builders/internal/dockerbuild"
	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/sdk"
)

// Flavor is what distinguishes one CNB builder plugin from another: its
// identity, default builder image and trusted builders, and the files its
// Detect looks for.
type Flavor struct {
	// ID is the plugin id ("builder.heroku").
	ID string
	// Version is the plugin's version.
	Version string
	// Name names the builder in schemas ("Heroku buildpacks").
	Name string
	// Description describes the plugin.
	Description string
	// DefaultBuilder is the builder image used when neither the app nor
	// the operator names one.
	DefaultBuilder string
	// Trusted are the image patterns (path.Match on the normalized
	// "repository:tag") trusted by default, besides the default builder.
	Trusted []string
	// Markers are the files Detect looks for.
	Markers []Marker
}

// AppSettings are an app's build settings (BuildRequest.Settings).
type AppSettings struct {
	// BuilderImage is the builder image; empty for the plugin's default.
	BuilderImage string `json:"builder_image,omitempty" jsonschema:"title=Builder image,example=heroku/builder:24,example=paketobuildpacks/builder-jammy-base" jsonschema_description:"Builder image holding the lifecycle and the buildpacks. Empty: the instance's default. The operator must trust it (plugin setting trusted_builders): its lifecycle runs with access to the Docker Engine."`
	// RunImage overrides the builder's run image.
	RunImage string `json:"run_image,omitempty" jsonschema:"title=Run image" jsonschema_description:"Base image of the built app. Empty: the run image the builder names."`
	// Buildpacks replaces the builder's detection order with one group of
	// buildpacks of the builder, each "id" or "id@version".
	Buildpacks []string `json:"buildpacks,omitempty" jsonschema:"title=Buildpacks" jsonschema_description:"Buildpacks to run, in order, instead of the builder's own detection order: ids of buildpacks in the builder image, as id or id@version (heroku/nodejs, paketo-buildpacks/go@4.13.2). Buildpacks from URLs or registries are not supported."`
	// BuildEnv are environment variables of the build, written to
	// /platform/env; they override the app's variables of the same name.
	BuildEnv map[string]string `json:"build_env,omitempty" jsonschema:"title=Build environment" jsonschema_description:"Environment variables given to the buildpacks at build time (BP_* settings of Paketo buildpacks, NODE_ENV, ...), on top of the app's environment. Not secret: buildpacks may record them in the image."`
}

// Settings are the operator's settings of a CNB builder plugin.
type Settings struct {
	dockerbuild.EngineSettings
	// DefaultBuilder is the builder image apps use by default; empty for
	// the plugin's own default.
	DefaultBuilder string `json:"default_builder,omitempty" jsonschema:"title=Default builder image" jsonschema_description:"Builder image used by apps that name none, for example a mirror of the public image. Empty: the plugin's default. It is trusted."`
	// TrustedBuilders are image patterns apps may choose as builder.
	TrustedBuilders []string `json:"trusted_builders,omitempty" jsonschema:"title=Trusted builder images" jsonschema_description:"Builder images apps may choose, as patterns on repository:tag (heroku/builder:*, registry.example.com/builders/*). The lifecycle of a builder runs with access to the Docker Engine, so only trusted images may be used. Empty: the plugin's defaults."`
}

// Builder is a Cloud Native Buildpacks builder plugin. Use NewBuilder.
type Builder struct {
	sdk.UnimplementedBuilder
	flavor Flavor

	mu       sync.RWMutex
	settings Settings

	settingsSchema, appSchema json.RawMessage
}

// envNamePattern is the pattern of environment variable names.
const envNamePattern = `^[A-Za-z_][A-Za-z0-9_]*$`

var envName = regexp.MustCompile(envNamePattern)

// buildpackPattern is "id" or "id@version".
var buildpackPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*(@[A-Za-z0-9][A-Za-z0-9.+_-]*)?$`)

// NewBuilder returns a builder plugin of flavor f.
func NewBuilder(f Flavor) *Builder {
	b := &Builder{flavor: f}
	b.settingsSchema = settingsschema.Encode(settingsschema.For[Settings](f.Name, "How builds use the Docker Engine and which builder images apps may use."))
	s := settingsschema.For[AppSettings](f.Name+" build", "")
	settingsschema.Property(s, "build_env").PropertyNames = &jsonschema.Schema{Pattern: envNamePattern}
	settingsschema.Property(s, "buildpacks").Items = &jsonschema.Schema{Type: "string", Pattern: buildpackPattern.String()}
	b.appSchema = settingsschema.Encode(s)
	return b
}

// Info describes the plugin. CNB has no build secrets, so the plugin does
// not claim CapBuildSecrets; it ignores build arguments.
func (b *Builder) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: b.flavor.ID, Version: b.flavor.Version, Description: b.flavor.Description}, nil
}

// ConfigSchema returns the plugin and app settings schemas.
func (b *Builder) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: b.settingsSchema, App: b.appSchema}, nil
}

// Configure validates and applies the plugin settings.
func (b *Builder) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s Settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	var errs sdk.ConfigError
	s.EngineSettings.Validate(&errs)
	if s.DefaultBuilder != "" {
		if _, err := normalize(s.DefaultBuilder); err != nil {
			errs.Add("default_builder", "must be an image reference")
		}
	}
	for i, p := range s.TrustedBuilders {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			errs.Add(fmt.Sprintf("trusted_builders.%d", i), "must be an image pattern such as heroku/builder:*")
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.settings = s
	b.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Detect looks for the files the flavor's buildpacks recognise.
func (b *Builder) Detect(_ context.Context, req *sdk.DetectRequest) (*sdk.DetectResponse, error) {
	return Detect(req.SourceDir, b.flavor.Markers)
}

// normalize returns the familiar "repository:tag" (or "@digest") form of
// ref, with ":latest" added when it has neither.
func normalize(ref string) (string, error) {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	return reference.FamiliarString(reference.TagNameOnly(n)), nil
}

// trusted reports whether builder (normalized) may be used.
func (b *Builder) trusted(s Settings, builder string) bool {
	patterns := s.TrustedBuilders
	if len(patterns) == 0 {
		patterns = b.flavor.Trusted
	}
	for _, d := range []string{s.DefaultBuilder, b.flavor.DefaultBuilder} {
		if n, err := normalize(d); err == nil && n == builder {
			return true
		}
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, builder); ok {
			return true
		}
	}
	return false
}

// Build builds the app with the lifecycle of the builder image, into
// req.Image on the Docker Engine at req.DockerHost.
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
	b.mu.RLock()
	s := b.settings
	b.mu.RUnlock()

	var errs sdk.ConfigError
	builder := app.BuilderImage
	if builder == "" {
		builder = s.DefaultBuilder
	}
	if builder == "" {
		builder = b.flavor.DefaultBuilder
	}
	builder, err := normalize(builder)
	if err != nil {
		errs.Add("builder_image", "must be an image reference")
	} else if !b.trusted(s, builder) {
		errs.Add("builder_image", fmt.Sprintf("%s is not a trusted builder: an instance administrator must add it to the %s plugin's trusted_builders (its lifecycle runs with access to the Docker Engine)", builder, b.flavor.ID))
	}
	if app.RunImage != "" {
		if _, err := normalize(app.RunImage); err != nil {
			errs.Add("run_image", "must be an image reference")
		}
	}
	for i, bp := range app.Buildpacks {
		if !buildpackPattern.MatchString(bp) {
			errs.Add(fmt.Sprintf("buildpacks.%d", i), "must be a buildpack id or id@version")
		}
	}
	env := map[string]string{}
	for _, src := range []struct {
		field string
		m     map[string]string
	}{{"env", req.Env}, {"build_env", app.BuildEnv}} {
		for _, k := range slices.Sorted(maps.Keys(src.m)) {
			if !envName.MatchString(k) {
				errs.Add(src.field+"."+k, "is not a valid environment variable name")
				continue
			}
			env[k] = src.m[k]
		}
	}
	if err := errs.Err(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	log := req.Log
	if len(req.Secrets) > 0 {
		log.Printf("warning: %d build secret(s) not passed: Cloud Native Buildpacks have no build secrets (anything given to buildpacks may end up in the image); use the app's environment at run time instead", len(req.Secrets))
	}
	if len(req.BuildArgs) > 0 {
		log.Printf("note: build arguments are a Dockerfile feature and are ignored by buildpacks; use build_env")
	}
	if len(env) > 0 {
		log.Printf("build environment: %s", strings.Join(slices.Sorted(maps.Keys(env)), ", "))
	}
	id, err := Run(ctx, req.DockerHost, Options{
		Image: req.Image, Builder: builder, RunImage: app.RunImage, Buildpacks: app.Buildpacks,
		Env: env, SourceDir: req.SourceDir, Engine: s.EngineSettings,
	}, log)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	return &sdk.BuildResponse{Image: req.Image, Digest: id}, nil
}
