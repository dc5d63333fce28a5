package nixpacks

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/berth-dev/berth/builders/internal/dockerbuild"
	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/sdk"
)

// Settings are the operator's settings of the plugin.
type Settings struct {
	// Path is the nixpacks binary; empty: "nixpacks" on the plugin's PATH.
	Path string `json:"path,omitempty" jsonschema:"title=Path of the nixpacks binary,pattern=^/,example=/usr/local/bin/nixpacks" jsonschema_description:"Absolute path of the nixpacks binary on the berth server. Empty: nixpacks is looked up on berth's PATH. Install it from https://nixpacks.com/docs/install."`
	dockerbuild.EngineSettings
}

// Validate adds a field error to errs for each bad setting.
func (s Settings) Validate(errs *sdk.ConfigError) {
	if s.Path != "" && (!filepath.IsAbs(s.Path) || filepath.Clean(s.Path) != s.Path) {
		errs.Add("path", "must be a clean absolute path, such as /usr/local/bin/nixpacks")
	}
	s.EngineSettings.Validate(errs)
}

// AppSettings are an app's build settings (BuildRequest.Settings). Each
// maps to one nixpacks option; empty ones leave nixpacks' own choice.
type AppSettings struct {
	// InstallCmd replaces the install phase's commands (--install-cmd).
	InstallCmd string `json:"install_cmd,omitempty" jsonschema:"title=Install command,maxLength=4096,example=npm ci" jsonschema_description:"Replaces the install phase's commands (nixpacks --install-cmd). Empty: what nixpacks detects."`
	// BuildCmd replaces the build phase's commands (--build-cmd).
	BuildCmd string `json:"build_cmd,omitempty" jsonschema:"title=Build command,maxLength=4096,example=npm run build" jsonschema_description:"Replaces the build phase's commands (nixpacks --build-cmd). Empty: what nixpacks detects."`
	// StartCmd is the command the image runs (--start-cmd).
	StartCmd string `json:"start_cmd,omitempty" jsonschema:"title=Start command,maxLength=4096,example=npm start" jsonschema_description:"The command the image runs (nixpacks --start-cmd). Empty: what nixpacks detects (a Procfile's web process, package.json's start script...)."`
	// NixPackages are added to the setup phase (--pkgs).
	NixPackages []string `json:"nix_packages,omitempty" jsonschema:"title=Nix packages,example=ffmpeg" jsonschema_description:"Extra Nix packages installed in the image (nixpacks --pkgs), e.g. ffmpeg or postgresql."`
	// NixLibraries are added to the setup phase (--libs).
	NixLibraries []string `json:"nix_libraries,omitempty" jsonschema:"title=Nix libraries" jsonschema_description:"Extra Nix libraries made available to the build (nixpacks --libs)."`
	// AptPackages are installed with apt-get (--apt).
	AptPackages []string `json:"apt_packages,omitempty" jsonschema:"title=Apt packages,example=libvips-dev" jsonschema_description:"Extra Debian/Ubuntu packages installed with apt-get (nixpacks --apt)."`
	// Env are build variables (--env NAME=value), recorded in the image.
	Env map[string]string `json:"env,omitempty" jsonschema:"title=Build variables" jsonschema_description:"Variables available during the build (nixpacks --env). Nixpacks also sets them in the image, so they are not secret: anyone with the image can read them. The app's own environment variables reach the running container without being written into the image."`
	// Config is the nixpacks config file, relative to the repository root
	// (--config); default nixpacks.toml or nixpacks.json.
	Config string `json:"config,omitempty" jsonschema:"title=Config file,example=deploy/nixpacks.toml" jsonschema_description:"Nixpacks configuration file relative to the repository root (nixpacks --config). Default: nixpacks.toml or nixpacks.json at the root, when present."`
	// SecretsAsEnv passes BuildRequest.Secrets as nixpacks variables, which
	// records them in the image.
	SecretsAsEnv bool `json:"secrets_as_env,omitempty" jsonschema:"title=Pass build secrets as build variables,default=false" jsonschema_description:"Nixpacks has no build secrets: every build variable becomes an ENV of the image. When on, each build secret is passed as a build variable (its value through the nixpacks process's environment, never on its command line), and is readable by anyone with the image. When off, secrets are not passed."`
	// NoCache builds every step again, ignoring the engine's layer cache.
	NoCache bool `json:"no_cache,omitempty" jsonschema:"title=Do not use the build cache,default=false" jsonschema_description:"Run every step of the generated Dockerfile again instead of reusing cached layers."`
}

var (
	// nixPackagePattern is a Nix attribute path, optionally with a version
	// pinned the nixpacks way (nodejs_18, python311Packages.pip).
	nixPackagePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)
	// aptPackagePattern is a Debian package name, optionally =version.
	aptPackagePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$`)
	envNamePattern    = regexp.MustCompile(dockerbuild.ArgNamePattern)
)

// maxListLen bounds each list setting.
const maxListLen = 100

// Validate adds a field error to errs for each bad setting. Commands may
// not hold line breaks: nixpacks writes them into Dockerfile lines.
func (a AppSettings) Validate(errs *sdk.ConfigError) {
	for field, cmd := range map[string]string{"install_cmd": a.InstallCmd, "build_cmd": a.BuildCmd, "start_cmd": a.StartCmd} {
		switch {
		case len(cmd) > 4096:
			errs.Add(field, "must be at most 4096 bytes")
		case strings.ContainsAny(cmd, "\x00\r\n"):
			errs.Add(field, "must be one line (join commands with &&)")
		}
	}
	for _, l := range []struct {
		field   string
		values  []string
		pattern *regexp.Regexp
		what    string
	}{
		{"nix_packages", a.NixPackages, nixPackagePattern, "a Nix package name such as nodejs_20 or python311Packages.pip"},
		{"nix_libraries", a.NixLibraries, nixPackagePattern, "a Nix library name such as libuuid"},
		{"apt_packages", a.AptPackages, aptPackagePattern, "a Debian package name such as libvips-dev"},
	} {
		if len(l.values) > maxListLen {
			errs.Add(l.field, fmt.Sprintf("at most %d entries", maxListLen))
			continue
		}
		for i, v := range l.values {
			if !l.pattern.MatchString(v) {
				errs.Add(fmt.Sprintf("%s[%d]", l.field, i), "must be "+l.what)
			}
		}
	}
	for _, k := range sortedKeys(a.Env) {
		if !envNamePattern.MatchString(k) {
			errs.Add("env."+k, "is not a valid variable name (letters, digits and _, not starting with a digit)")
		} else if strings.ContainsRune(a.Env[k], 0) {
			errs.Add("env."+k, "must not contain NUL characters")
		}
	}
}

// settingsSchema is the plugin settings' schema.
var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Nixpacks builder", "Where the nixpacks binary is, and how builds use the Docker Engine."))

// appSchema is the app settings' schema.
var appSchema = func() json.RawMessage {
	s := settingsschema.For[AppSettings]("Nixpacks build", "Options passed to nixpacks. A nixpacks.toml in the repository is honoured too; these settings win over it.")
	settingsschema.Property(s, "env").PropertyNames = &jsonschema.Schema{Pattern: dockerbuild.ArgNamePattern}
	for name, pattern := range map[string]string{"nix_packages": nixPackagePattern.String(), "nix_libraries": nixPackagePattern.String(), "apt_packages": aptPackagePattern.String()} {
		p := settingsschema.Property(s, name)
		p.MaxItems = ptr(uint64(maxListLen))
		p.Items = &jsonschema.Schema{Type: "string", Pattern: pattern}
	}
	for _, name := range []string{"install_cmd", "build_cmd", "start_cmd"} {
		settingsschema.Property(s, name).Pattern = `^[^\r\n]*$`
	}
	return settingsschema.Encode(s)
}()

func ptr[T any](v T) *T { return &v }
