// Package static implements berth's static site builder (id
// builder.static): it packs a directory of HTML, CSS, JavaScript and other
// files into an image that serves it, as a plain site or as a single-page
// app.
//
// The image needs no base image from a registry: it is FROM scratch and
// holds a copy of the plugin's own executable, a static binary, which
// serves the site when started with "serve" (see package server), plus
// the site's files. Hidden files (.git, .env...) are never copied, except
// .well-known.
//
// With a build command (build_command, run by /bin/sh in build_image), the
// image has a first stage FROM build_image that runs the command over the
// source and the site is copied from its publish directory. build_image
// must exist on the Docker Engine or be pullable from a registry it can
// reach; berth never pulls it itself.
package static

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/distribution/reference"

	"github.com/berth-dev/berth/builders/internal/dockerbuild"
	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin id.
const ID = "builder.static"

// Version is the plugin's version.
const Version = "1.0.0"

// Candidates are the directories, in order, where Build looks for the site
// (the first holding an index.html) when the app names none.
var Candidates = []string{"dist", "build", "public", "."}

// Settings are the plugin's settings. Their tags make the settings schema.
type Settings struct {
	dockerbuild.EngineSettings
	// BuildImage is the default image build commands run in, for apps that
	// set a command without an image and for sources detected by their
	// package.json.
	BuildImage string `json:"build_image,omitempty" jsonschema:"title=Default build image,example=node:22-alpine" jsonschema_description:"Image that build commands run in when an app names none. It must exist on the Docker Engine or be pullable from a registry the engine reaches. When set, a source with a package.json that has a build script is detected as a static site."`
}

// AppSettings are an app's build settings (BuildRequest.Settings). Their
// tags make the app settings schema.
type AppSettings struct {
	// PublishDir is the site's directory relative to the repository root.
	// Default: the first of dist, build, public and the root that holds an
	// index.html; "dist" with a build command.
	PublishDir string `json:"publish_dir,omitempty" jsonschema:"title=Publish directory,example=dist,example=build,example=public,example=." jsonschema_description:"Directory holding the site (its index.html), relative to the repository root. Default: the first of dist, build, public and the repository root that has an index.html; dist when there is a build command."`
	// SPA serves /index.html for unknown paths that are not files.
	SPA bool `json:"spa,omitempty" jsonschema:"title=Single-page app,default=false" jsonschema_description:"Serve /index.html for unknown paths that do not name a file, so client-side routes work. Otherwise unknown paths are 404 (with 404.html when the site has one)."`
	// Port is the port the site is served on, default 8080.
	Port int `json:"port,omitempty" jsonschema:"title=Port,minimum=1,maximum=65535,default=8080" jsonschema_description:"Port the site is served on inside the container."`
	// CleanURLs serves /about from /about.html.
	CleanURLs bool `json:"clean_urls,omitempty" jsonschema:"title=Clean URLs,default=false" jsonschema_description:"Serve /about from /about.html."`
	// BuildImage is the image BuildCommand runs in.
	BuildImage string `json:"build_image,omitempty" jsonschema:"title=Build image,example=node:22-alpine" jsonschema_description:"Image the build command runs in. It must exist on the Docker Engine or be pullable from a registry the engine reaches. Default: the plugin's build image."`
	// BuildCommand is run by /bin/sh -c in /src, a copy of the source.
	BuildCommand string `json:"build_command,omitempty" jsonschema:"title=Build command,example=npm ci && npm run build" jsonschema_description:"Shell command that builds the site, run by /bin/sh -c in /src (a copy of the repository) in the build image, with the build variables as environment. Default with a build image: from package.json and its lock file."`
}

// The schemas of the plugin's and an app's settings.
var (
	settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Static site builder", ""))
	appSchema      = settingsschema.Encode(settingsschema.For[AppSettings]("Static site", ""))
)

// Builder is the static site builder. Use New.
type Builder struct {
	sdk.UnimplementedBuilder

	// ServerBinary is the path of the static Linux executable copied into
	// images as /server; started with "serve" it must run the site server,
	// as this plugin's own binary does. Empty: the running executable.
	ServerBinary string

	mu       sync.RWMutex
	settings Settings
}

// New returns a Builder that puts its own executable into the images.
func New() *Builder { return &Builder{} }

// Info describes the plugin.
func (b *Builder) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:           ID,
		Version:      Version,
		Description:  "Serves a directory as a static site or single-page app from a minimal image (no base image), optionally after a build command.",
		Capabilities: []sdk.Capability{sdk.CapBuildArgs},
	}, nil
}

// ConfigSchema returns the plugin and per-app settings schemas.
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
	s.EngineSettings.Validate(&errs)
	if s.BuildImage != "" && checkImageRef(s.BuildImage) != nil {
		errs.Add("build_image", "must be an image reference such as node:22-alpine")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.settings = s
	b.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

func (b *Builder) current() Settings {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.settings
}

// Detect finds an index.html in one of the Candidates directories, or,
// when the plugin has a default build image, a package.json with a build
// script.
func (b *Builder) Detect(_ context.Context, req *sdk.DetectRequest) (*sdk.DetectResponse, error) {
	if dir, ok := findSite(req.SourceDir); ok {
		return &sdk.DetectResponse{Detected: true, Reason: "found " + path.Join(dir, "index.html")}, nil
	}
	if img := b.current().BuildImage; img != "" {
		if _, ok := packageBuildCommand(req.SourceDir); ok {
			return &sdk.DetectResponse{Detected: true, Reason: "package.json has a build script, to run in " + img}, nil
		}
	}
	return &sdk.DetectResponse{Reason: "no index.html in dist/, build/, public/ or the repository root"}, nil
}

// findSite returns the first candidate directory with an index.html.
func findSite(source string) (string, bool) {
	for _, dir := range Candidates {
		p, err := dockerbuild.ResolveInside(source, path.Join(dir, "index.html"))
		if err != nil {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return dir, true
		}
	}
	return "", false
}

// packageBuildCommand returns the command building a JavaScript project
// whose package.json has a build script, with the package manager its lock
// file names.
func packageBuildCommand(source string) (string, bool) {
	p, err := dockerbuild.ResolveInside(source, "package.json")
	if err != nil {
		return "", false
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	if json.Unmarshal(data, &pkg) != nil || strings.TrimSpace(pkg.Scripts["build"]) == "" {
		return "", false
	}
	has := func(name string) bool {
		_, err := dockerbuild.ResolveInside(source, name)
		return err == nil
	}
	switch {
	case has("pnpm-lock.yaml"):
		return "corepack enable && pnpm install --frozen-lockfile && pnpm run build", true
	case has("yarn.lock"):
		return "corepack enable && yarn install --frozen-lockfile && yarn run build", true
	case has("package-lock.json"):
		return "npm ci && npm run build", true
	default:
		return "npm install && npm run build", true
	}
}

var publishDirPattern = regexp.MustCompile(`^[A-Za-z0-9._@+-]+(/[A-Za-z0-9._@+-]+)*/?$`)

// checkImageRef validates an image reference for a FROM line.
func checkImageRef(s string) error {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("image %q has spaces or control characters: %w", s, sdk.ErrInvalidArgument)
	}
	if _, err := reference.ParseNormalizedNamed(s); err != nil {
		return fmt.Errorf("image %q: %w: %w", s, err, sdk.ErrInvalidArgument)
	}
	return nil
}

// plan is a checked build.
type plan struct {
	spec imageSpec
	// siteDir is the site's directory, without a build stage.
	siteDir string
	// source is the source directory, copied whole with a build stage.
	source string
	// sourceExclude are the source's .dockerignore patterns.
	sourceExclude []string
	server        string
}

// siteExclude keeps hidden files and directories out of the image, except
// .well-known.
var siteExclude = []string{"**/.*", "!**/.well-known"}

// newPlan checks the app settings against the source tree.
func (b *Builder) newPlan(source string, app AppSettings, buildArgs map[string]string) (*plan, error) {
	settings := b.current()
	var errs sdk.ConfigError
	p := &plan{spec: imageSpec{Port: app.Port, SPA: app.SPA, CleanURLs: app.CleanURLs}}
	if p.spec.Port == 0 {
		p.spec.Port = 8080
	}
	if p.spec.Port < 1 || p.spec.Port > 65535 {
		errs.Add("port", "must be between 1 and 65535")
	}
	if app.PublishDir != "" {
		clean := path.Clean(app.PublishDir)
		if !publishDirPattern.MatchString(app.PublishDir) || clean == ".." || strings.HasPrefix(clean, "../") || strings.HasPrefix(app.PublishDir, "/") {
			errs.Add("publish_dir", "must be a directory inside the repository (letters, digits, . _ - @ + and /)")
		}
		p.spec.PublishDir = clean
	}
	img, cmd := app.BuildImage, app.BuildCommand
	if img == "" {
		img = settings.BuildImage
	}
	if cmd == "" && img != "" && (app.BuildImage != "" || app.PublishDir == "" && !hasSite(source)) {
		cmd, _ = packageBuildCommand(source)
	}
	switch {
	case app.BuildImage != "" && checkImageRef(app.BuildImage) != nil:
		errs.Add("build_image", "must be an image reference such as node:22-alpine")
	case app.BuildCommand != "" && img == "":
		errs.Add("build_image", "is required to run build_command (the plugin has no default build image)")
	case app.BuildImage != "" && cmd == "":
		errs.Add("build_command", "is required with build_image (no package.json with a build script to guess it from)")
	}
	if strings.ContainsRune(app.BuildCommand, 0) {
		errs.Add("build_command", "must not contain NUL characters")
	}
	dockerbuild.CheckBuildArgs(&errs, "build_args", buildArgs)
	if err := errs.Err(); err != nil {
		return nil, err
	}

	if cmd != "" {
		p.spec.BuildImage, p.spec.BuildCommand = img, cmd
		if p.spec.PublishDir == "" {
			p.spec.PublishDir = "dist"
		}
		p.spec.BuildArgs = sortedKeys(buildArgs)
		var err error
		if p.source, err = dockerbuild.ResolveInside(source, "."); err != nil {
			return nil, err
		}
		if p.sourceExclude, err = dockerbuild.ReadIgnoreFile(filepath.Join(p.source, ".dockerignore")); err != nil {
			return nil, err
		}
		p.sourceExclude = append(p.sourceExclude, ".git")
		return p, nil
	}

	if p.spec.PublishDir == "" {
		dir, ok := findSite(source)
		if !ok {
			return nil, sdk.NewConfigError("publish_dir", "no index.html in dist/, build/, public/ or the repository root: name the site's directory")
		}
		p.spec.PublishDir = dir
	}
	dir, err := dockerbuild.ResolveInside(source, p.spec.PublishDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, sdk.NewConfigError("publish_dir", fmt.Sprintf("%q does not exist", p.spec.PublishDir))
	case errors.Is(err, dockerbuild.ErrEscapes):
		return nil, sdk.NewConfigError("publish_dir", "must stay inside the repository (a link leads out of it)")
	case err != nil:
		return nil, err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, sdk.NewConfigError("publish_dir", fmt.Sprintf("%q is not a directory", p.spec.PublishDir))
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil && p.spec.SPA {
		return nil, sdk.NewConfigError("publish_dir", fmt.Sprintf("%q has no index.html, which a single-page app needs", p.spec.PublishDir))
	}
	p.siteDir = dir
	return p, nil
}

func hasSite(source string) bool {
	_, ok := findSite(source)
	return ok
}

// write writes the build context: the Dockerfile, the server and the site
// (or the source, for a build stage).
func (p *plan) write(ctx context.Context, w io.Writer) error {
	cw := dockerbuild.NewContextWriter(w)
	if err := cw.AddBytes("Dockerfile", 0o644, []byte(renderDockerfile(p.spec))); err != nil {
		return err
	}
	if err := cw.AddFile(contextServer, 0o755, p.server); err != nil {
		return err
	}
	if p.spec.BuildCommand != "" {
		if err := cw.AddDirEntry(contextSource); err != nil {
			return err
		}
		if err := cw.AddDir(ctx, p.source, dockerbuild.DirOptions{Prefix: contextSource, Exclude: p.sourceExclude}); err != nil {
			return err
		}
	} else {
		if err := cw.AddDirEntry(contextSite); err != nil {
			return err
		}
		if err := cw.AddDir(ctx, p.siteDir, dockerbuild.DirOptions{Prefix: contextSite, Exclude: siteExclude, Normalize: true}); err != nil {
			return err
		}
	}
	return cw.Close()
}

// Build packs the site into req.Image on the Docker Engine at
// req.DockerHost.
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
	p, err := b.newPlan(req.SourceDir, app, req.BuildArgs)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if p.server, err = b.serverBinary(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	log := req.Log
	if len(req.Secrets) > 0 {
		log.Printf("warning: %d build secret(s) not passed: the static builder does not pass secrets to build commands", len(req.Secrets))
	}
	args := map[string]string{}
	if p.spec.BuildCommand != "" {
		log.Printf("building the site in %s: %s", p.spec.BuildImage, p.spec.BuildCommand)
		if len(req.BuildArgs) > 0 {
			log.Printf("build variables: %s", strings.Join(p.spec.BuildArgs, ", "))
			args = req.BuildArgs
		}
	}
	log.Printf("packing %s into %s (port %d, spa %v, clean URLs %v)", p.spec.PublishDir, req.Image, p.spec.Port, p.spec.SPA, p.spec.CleanURLs)
	opts := dockerbuild.BuildOptions{
		Tag: req.Image, Dockerfile: "Dockerfile", BuildArgs: args, Engine: b.current().EngineSettings,
		Labels: map[string]string{"dev.berth.builder": ID},
	}
	id, err := dockerbuild.BuildContext(ctx, req.DockerHost, p.write, opts, log)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	log.Printf("built %s (%s)", req.Image, id)
	return &sdk.BuildResponse{Image: req.Image, Digest: id}, nil
}

// serverBinary returns the checked path of the site server binary.
func (b *Builder) serverBinary() (string, error) {
	p := b.ServerBinary
	if p == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("finding the plugin's executable: %w", err)
		}
		p = exe
	}
	if err := checkStatic(p); err != nil {
		return "", err
	}
	return p, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
