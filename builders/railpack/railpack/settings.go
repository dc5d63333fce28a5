package railpack

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/invopop/jsonschema"

	"github.com/berth-dev/berth/sdk"
)

// DefaultBuildkitdImage is the image of the buildkitd container the plugin
// manages when no buildkit_host is set: upstream BuildKit at the version
// Railpack v0.36.4 is built against.
const DefaultBuildkitdImage = "moby/buildkit:v0.32.2"

// Settings are the plugin's instance settings: where BuildKit runs and
// where mise comes from.
type Settings struct {
	// BuildkitHost is an operator's BuildKit daemon (BUILDKIT_HOST form:
	// tcp://host:1234, unix:///run/buildkit/buildkitd.sock). Empty: the
	// plugin runs its own buildkitd container on the Docker Engine.
	BuildkitHost string `json:"buildkit_host,omitempty" jsonschema:"title=BuildKit address,example=unix:///run/buildkit/buildkitd.sock,example=tcp://127.0.0.1:1234" jsonschema_description:"Address of a BuildKit daemon to build with, as in BUILDKIT_HOST (unix://, tcp://). Empty: berth runs a buildkitd container on the Docker Engine and reaches it through the engine (no port is opened)."`
	// BuildkitdImage is the image of the managed buildkitd container.
	BuildkitdImage string `json:"buildkitd_image,omitempty" jsonschema:"title=buildkitd image,default=moby/buildkit:v0.32.2" jsonschema_description:"Image of the buildkitd container berth manages when no BuildKit address is set. It must hold buildkitd and buildctl. The container is recreated when the image or the configuration changes."`
	// BuildkitdConfig is the buildkitd.toml of the managed container.
	BuildkitdConfig string `json:"buildkitd_config,omitempty" jsonschema:"title=buildkitd.toml" jsonschema_description:"Configuration file of the managed buildkitd (TOML), e.g. registry mirrors: [registry.\"ghcr.io\"] mirrors = [\"mirror.example:5000\"]."`
	// MiseSource is where the mise binary Railpack needs for planning comes
	// from: an npm tarball URL or a local path of the tarball or binary.
	MiseSource string `json:"mise_source,omitempty" jsonschema:"title=mise source" jsonschema_description:"Where the plugin gets mise (needed to plan builds): an https:// URL or a local path of the npm package tarball of @jdxcode/mise-linux-x64 at the version Railpack pins, or of the mise binary itself. Default: the npm registry."`
}

// AppSettings are an app's build settings (BuildRequest.Settings).
type AppSettings struct {
	// BuildCommand replaces the build step's commands.
	BuildCommand string `json:"build_command,omitempty" jsonschema:"title=Build command,example=npm run build" jsonschema_description:"Command run to build the app, instead of the one Railpack chooses (railpack --build-cmd)."`
	// StartCommand is the image's start command.
	StartCommand string `json:"start_command,omitempty" jsonschema:"title=Start command,example=./server" jsonschema_description:"Command the container runs, instead of the one Railpack chooses (railpack --start-cmd)."`
	// Packages are extra mise packages ("node@22", "python").
	Packages []string `json:"packages,omitempty" jsonschema:"title=Extra packages,example=node@22" jsonschema_description:"Extra tools installed with mise, as name or name@version (RAILPACK_PACKAGES)."`
	// BuildAptPackages are Debian packages installed for the build.
	BuildAptPackages []string `json:"build_apt_packages,omitempty" jsonschema:"title=Build apt packages" jsonschema_description:"Debian packages installed in the build image (RAILPACK_BUILD_APT_PACKAGES)."`
	// DeployAptPackages are Debian packages installed in the final image.
	DeployAptPackages []string `json:"deploy_apt_packages,omitempty" jsonschema:"title=Runtime apt packages" jsonschema_description:"Debian packages installed in the final image (RAILPACK_DEPLOY_APT_PACKAGES)."`
	// Env are build-time variables, Railpack's RAILPACK_* configuration
	// variables included; the app's variables override them.
	Env map[string]string `json:"env,omitempty" jsonschema:"title=Build variables" jsonschema_description:"Variables available to the build (Railpack passes them as build secrets, never stored in the image), including Railpack's RAILPACK_* configuration variables. The app's environment overrides them."`
	// ConfigFile is the Railpack config file's path in the repository.
	ConfigFile string `json:"config_file,omitempty" jsonschema:"title=Railpack config file,default=railpack.json" jsonschema_description:"Path of the Railpack configuration file, relative to the repository root."`
	// NoCache builds every step again.
	NoCache bool `json:"no_cache,omitempty" jsonschema:"title=Do not use the build cache,default=false" jsonschema_description:"Run every step again instead of reusing BuildKit's cache."`
}

// envNamePattern is a variable name.
const envNamePattern = `^[A-Za-z_][A-Za-z0-9_]*$`

var envName = regexp.MustCompile(envNamePattern)

// reflect makes the JSON Schema of T, the way berth's other plugins do:
// one inline object whose properties are T's fields.
func reflect[T any](title, description string) *jsonschema.Schema {
	r := jsonschema.Reflector{Anonymous: true, DoNotReference: true, ExpandedStruct: true, RequiredFromJSONSchemaTags: true}
	var zero T
	s := r.Reflect(&zero)
	s.Title, s.Description = title, description
	return s
}

func encode(s *jsonschema.Schema) json.RawMessage {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("railpack: schema %q: %v", s.Title, err))
	}
	return b
}

var settingsSchema = encode(reflect[Settings]("Railpack builder", "Where BuildKit runs and where mise comes from."))

var appSchema = func() json.RawMessage {
	s := reflect[AppSettings]("Railpack build", "")
	if p, ok := s.Properties.Get("env"); ok {
		p.PropertyNames = &jsonschema.Schema{Pattern: envNamePattern}
	}
	return encode(s)
}()

// validate adds a field error for each bad setting.
func (s Settings) validate(errs *sdk.ConfigError) {
	if s.BuildkitHost != "" {
		u, err := url.Parse(s.BuildkitHost)
		if err != nil || u.Scheme == "" {
			errs.Add("buildkit_host", "must be an address such as tcp://host:1234 or unix:///path/buildkitd.sock")
		}
	}
	if strings.ContainsAny(s.BuildkitdImage, " \t\n") {
		errs.Add("buildkitd_image", "must be an image reference")
	}
	if s.BuildkitdConfig != "" {
		var v map[string]any
		if _, err := toml.Decode(s.BuildkitdConfig, &v); err != nil {
			errs.Add("buildkitd_config", "is not valid TOML: "+err.Error())
		}
	}
}

// validate adds a field error for each bad app setting.
func (a AppSettings) validate(errs *sdk.ConfigError) {
	for k := range a.Env {
		if !envName.MatchString(k) {
			errs.Add("env", fmt.Sprintf("%q is not a variable name", k))
		}
	}
	if strings.Contains(a.ConfigFile, "..") || strings.HasPrefix(a.ConfigFile, "/") {
		errs.Add("config_file", "must be a path inside the repository")
	}
}

func (s Settings) image() string {
	if s.BuildkitdImage == "" {
		return DefaultBuildkitdImage
	}
	return s.BuildkitdImage
}
