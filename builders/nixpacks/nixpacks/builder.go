// Package nixpacks implements berth's Nixpacks builder (id
// builder.nixpacks). Nixpacks (https://nixpacks.com) is a Rust program that
// berth does not ship: the operator installs it, and the plugin runs that
// binary (the path setting, or nixpacks on berth's PATH) with an argument
// list, never through a shell:
//
//  1. nixpacks plan <src> --format json [options]: the build plan, whose
//     variables the generated Dockerfile declares as ARGs;
//  2. nixpacks build <src> --out <tmp> --no-cache [options]: writes
//     <tmp>/.nixpacks/Dockerfile and its assets without building;
//  3. the plugin builds that Dockerfile itself on the Docker Engine berth
//     names (package dockerbuild), with the app's source as the build
//     context (honouring .dockerignore) plus the generated .nixpacks/
//     folder, so the build's output is streamed, its layers cached by the
//     engine, and cancellation stops it.
//
// --no-cache keeps nixpacks from writing BuildKit cache mounts (RUN
// --mount=type=cache), which the engine's classic builder cannot run;
// rebuilds still reuse the engine's layer cache.
//
// Secrets: nixpacks writes every build variable into the image as an ENV,
// so a secret cannot reach a nixpacks build without being recorded in the
// image. By default BuildRequest.Secrets are not passed and the log says
// so; the app setting secrets_as_env passes them (names on the command
// line, values only in the nixpacks process's environment and the engine's
// build arguments). Secret values are hidden in every logged line.
package nixpacks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/builders/internal/dockerbuild"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin id.
const ID = "builder.nixpacks"

// Version is the plugin's version.
const Version = "1.0.0"

// InstallHint is how the "not installed" error tells an operator to
// install nixpacks.
const InstallHint = "install it from https://nixpacks.com/docs/install (e.g. curl -sSL https://nixpacks.com/install.sh | bash) or set the path setting"

// ErrNotInstalled is wrapped by the error of a build when no nixpacks
// binary is found.
var ErrNotInstalled = errors.New("nixpacks is not installed")

// detectTimeout bounds `nixpacks detect` and `nixpacks --version`.
const detectTimeout = 30 * time.Second

// maxPlan bounds the plan nixpacks prints.
const maxPlan = 8 << 20

// Builder is the Nixpacks builder. Use New.
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
		Description:  "Builds apps without a Dockerfile with Nixpacks (an operator-installed nixpacks binary generates the Dockerfile; berth builds it on the Docker Engine).",
		Capabilities: []sdk.Capability{sdk.CapBuildArgs},
	}, nil
}

// ConfigSchema returns the plugin settings schema and the per-app build
// settings schema.
func (b *Builder) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: settingsSchema, App: appSchema}, nil
}

// Configure validates and applies the plugin settings. A path that does
// not exist yet is accepted: builds say it is missing.
func (b *Builder) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s Settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	var errs sdk.ConfigError
	s.Validate(&errs)
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

// binary finds the nixpacks binary: the path setting, else nixpacks on
// PATH. Its error wraps ErrNotInstalled and sdk.ErrUnavailable.
func (s Settings) binary() (string, error) {
	if s.Path != "" {
		st, err := os.Stat(s.Path)
		switch {
		case err != nil:
			return "", fmt.Errorf("%w: %s does not exist: %s: %w", ErrNotInstalled, s.Path, InstallHint, sdk.ErrUnavailable)
		case st.IsDir() || st.Mode().Perm()&0o111 == 0:
			return "", fmt.Errorf("%w: %s is not an executable file: %s: %w", ErrNotInstalled, s.Path, InstallHint, sdk.ErrUnavailable)
		}
		return s.Path, nil
	}
	p, err := exec.LookPath("nixpacks")
	if err != nil {
		return "", fmt.Errorf("%w: no nixpacks on the PATH: %s: %w", ErrNotInstalled, InstallHint, sdk.ErrUnavailable)
	}
	return p, nil
}

// configFiles are the files nixpacks reads its configuration from.
var configFiles = []string{"nixpacks.toml", "nixpacks.json"}

// markers are files whose presence makes one of nixpacks' providers
// detect an app; Detect names them when the binary is missing.
var markers = []struct{ file, provider string }{
	{"package.json", "node"}, {"requirements.txt", "python"}, {"pyproject.toml", "python"},
	{"Pipfile", "python"}, {"go.mod", "go"}, {"Cargo.toml", "rust"}, {"Gemfile", "ruby"},
	{"composer.json", "php"}, {"pom.xml", "java"}, {"build.gradle", "java"}, {"mix.exs", "elixir"},
	{"deno.json", "deno"}, {"Staticfile", "staticfile"},
}

// fileChecks names the configuration file or provider marker files found
// at the root of dir.
func fileChecks(dir string) []string {
	var found []string
	for _, f := range configFiles {
		if isFile(dir, f) {
			found = append(found, f+" found")
		}
	}
	for _, m := range markers {
		if isFile(dir, m.file) {
			found = append(found, fmt.Sprintf("%s found (%s)", m.file, m.provider))
		}
	}
	return found
}

func isFile(dir, name string) bool {
	p, err := dockerbuild.ResolveInside(dir, name)
	if err != nil {
		return false
	}
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Detect asks `nixpacks detect` which providers would build the tree; a
// tree with a nixpacks.toml or nixpacks.json and no provider is detected
// too (the file drives the build). Without a nixpacks binary the tree is
// never detected, so that `auto` moves on to a builder that can work; the
// reason then names the files a provider would have recognised.
func (b *Builder) Detect(ctx context.Context, req *sdk.DetectRequest) (*sdk.DetectResponse, error) {
	bin, err := b.current().binary()
	if err != nil {
		reason := "nixpacks is not installed (" + InstallHint + ")"
		if found := fileChecks(req.SourceDir); len(found) > 0 {
			reason = strings.Join(found, ", ") + ", but " + reason
		}
		return &sdk.DetectResponse{Reason: reason}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, detectTimeout)
	defer cancel()
	var out bytes.Buffer
	t := tool{bin: bin, args: []string{"detect", req.SourceDir}, env: baseEnv(), dir: req.SourceDir,
		stdout: &limitedWriter{w: &out, n: 64 << 10}}
	if err := t.run(ctx, "nixpacks detect"); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return &sdk.DetectResponse{Reason: err.Error()}, nil
	}
	if providers := strings.TrimSpace(out.String()); providers != "" {
		return &sdk.DetectResponse{Detected: true, Reason: "nixpacks detected " + providers}, nil
	}
	for _, f := range configFiles {
		if isFile(req.SourceDir, f) {
			return &sdk.DetectResponse{Detected: true, Reason: f + " found"}, nil
		}
	}
	return &sdk.DetectResponse{Reason: "nixpacks detected no provider and there is no nixpacks.toml"}, nil
}

// limitedWriter keeps at most n bytes and refuses more.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, fmt.Errorf("nixpacks printed more than expected")
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// buildPlan is the part of nixpacks' build plan the plugin reads.
type buildPlan struct {
	Providers []string          `json:"providers"`
	Variables map[string]string `json:"variables"`
	Start     struct {
		Cmd string `json:"cmd"`
	} `json:"start"`
}

// options are the nixpacks options of an app's settings, as arguments
// (always --flag=value, so no value is read as a flag).
func options(app AppSettings, vars []string) []string {
	var args []string
	for _, o := range []struct{ flag, value string }{
		{"--install-cmd", app.InstallCmd}, {"--build-cmd", app.BuildCmd}, {"--start-cmd", app.StartCmd}, {"--config", app.Config},
	} {
		if o.value != "" {
			args = append(args, o.flag+"="+o.value)
		}
	}
	for _, l := range []struct {
		flag   string
		values []string
	}{{"--pkgs", app.NixPackages}, {"--libs", app.NixLibraries}, {"--apt", app.AptPackages}, {"--env", vars}} {
		for _, v := range l.values {
			args = append(args, l.flag+"="+v)
		}
	}
	return args
}

// Build generates the Dockerfile with nixpacks and builds it into
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
	var errs sdk.ConfigError
	app.Validate(&errs)
	dockerbuild.CheckBuildArgs(&errs, "build_args", req.BuildArgs)
	if app.Config != "" {
		if p, err := dockerbuild.ResolveInside(req.SourceDir, app.Config); err != nil || !isRegular(p) {
			errs.Add("config", fmt.Sprintf("%q is not a file inside the repository", app.Config))
		}
	}
	if app.SecretsAsEnv {
		dockerbuild.CheckBuildArgs(&errs, "secrets", req.Secrets)
	}
	if err := errs.Err(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	s := b.current()
	bin, err := s.binary()
	if err != nil {
		req.Log.Line(sdk.LogStderr, err.Error())
		return nil, fmt.Errorf("build: %w", err)
	}
	log := req.Log
	redact := redactor(req.Secrets)

	// Build variables: the app's, then the build arguments; secrets by
	// name only, their values in the process's environment.
	env := baseEnv()
	var vars []string
	for _, k := range sortedKeys(app.Env) {
		vars = append(vars, k+"="+app.Env[k])
	}
	for _, k := range sortedKeys(req.BuildArgs) {
		vars = append(vars, k+"="+req.BuildArgs[k])
	}
	if len(req.Secrets) > 0 {
		names := sortedKeys(req.Secrets)
		if app.SecretsAsEnv {
			for _, k := range names {
				vars = append(vars, k)
				env = append(env, k+"="+req.Secrets[k])
			}
			log.Printf("passing build secrets %s as build variables (secrets_as_env): nixpacks records them in the image", strings.Join(names, ", "))
		} else {
			log.Printf("warning: %d build secret(s) not passed: nixpacks records build variables in the image; set secrets_as_env to pass them anyway", len(names))
		}
	}
	opts := options(app, vars)

	out, err := os.MkdirTemp("", "berth-nixpacks-")
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	defer os.RemoveAll(out)
	run := func(what string, stdout io.Writer, args ...string) error {
		return tool{bin: bin, args: args, env: env, dir: out, stdout: stdout, log: log, redact: redact}.run(ctx, what)
	}

	var version bytes.Buffer
	if err := run("nixpacks --version", &limitedWriter{w: &version, n: 4 << 10}, "--version"); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	log.Printf("%s (%s)", strings.TrimSpace(version.String()), bin)

	var planJSON bytes.Buffer
	if err := run("nixpacks plan", &limitedWriter{w: &planJSON, n: maxPlan}, append([]string{"plan", req.SourceDir, "--format=json"}, opts...)...); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	var plan buildPlan
	if err := json.Unmarshal(planJSON.Bytes(), &plan); err != nil {
		return nil, fmt.Errorf("build: reading the plan nixpacks printed: %w", err)
	}
	providers := "none"
	if len(plan.Providers) > 0 {
		providers = strings.Join(plan.Providers, ", ")
	}
	log.Printf("nixpacks plan: providers %s; start command %q; build variables %s", providers, redact(plan.Start.Cmd), strings.Join(orNone(sortedKeys(plan.Variables)), ", "))

	buildArgs := append([]string{"build", req.SourceDir, "--out=" + out, "--no-cache", "--name=" + req.Image}, opts...)
	if err := run("nixpacks build", nil, buildArgs...); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	generated := filepath.Join(out, ".nixpacks")
	if !isRegular(filepath.Join(generated, "Dockerfile")) {
		return nil, fmt.Errorf("build: nixpacks build wrote no .nixpacks/Dockerfile in %s", out)
	}
	for _, k := range sortedKeys(plan.Variables) {
		if !envNamePattern.MatchString(k) {
			return nil, fmt.Errorf("build: nixpacks plan has a variable %q that is not a valid build argument name", k)
		}
	}

	exclude, err := dockerbuild.ReadIgnoreFile(filepath.Join(req.SourceDir, ".dockerignore"))
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	// The app's own .nixpacks (if any) is replaced by the generated one.
	exclude = append(exclude, ".nixpacks")
	write := func(ctx context.Context, w io.Writer) error {
		cw := dockerbuild.NewContextWriter(w)
		if err := cw.AddDir(ctx, req.SourceDir, dockerbuild.DirOptions{Exclude: exclude}); err != nil {
			return err
		}
		if err := cw.AddDirEntry(".nixpacks"); err != nil {
			return err
		}
		if err := cw.AddDir(ctx, generated, dockerbuild.DirOptions{Prefix: ".nixpacks"}); err != nil {
			return err
		}
		return cw.Close()
	}
	log.Printf("building %s from the generated .nixpacks/Dockerfile", req.Image)
	id, err := dockerbuild.BuildContext(ctx, req.DockerHost, write, dockerbuild.BuildOptions{
		Tag: req.Image, Dockerfile: ".nixpacks/Dockerfile", BuildArgs: plan.Variables, NoCache: app.NoCache, Engine: s.EngineSettings,
	}, func(l sdk.LogLine) { l.Text = redact(l.Text); log(l) })
	if err != nil {
		var failed *dockerbuild.BuildFailedError
		if errors.As(err, &failed) && len(req.Secrets) > 0 {
			return nil, fmt.Errorf("build: building %s: %s", req.Image, redact(failed.Message))
		}
		return nil, fmt.Errorf("build: %w", err)
	}
	log.Printf("built %s (%s)", req.Image, id)
	return &sdk.BuildResponse{Image: req.Image, Digest: id}, nil
}

func isRegular(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func orNone(list []string) []string {
	if len(list) == 0 {
		return []string{"none"}
	}
	return list
}

// redactor replaces the values of secrets in a line with "***".
func redactor(secrets map[string]string) func(string) string {
	values := slices.Collect(maps.Values(secrets))
	// Longest first, so a secret containing another is hidden whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	return func(s string) string {
		for _, v := range values {
			if v != "" {
				s = strings.ReplaceAll(s, v, "***")
			}
		}
		return s
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
