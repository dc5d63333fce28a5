// Command nixpacks is a stand-in for the nixpacks CLI
// (https://nixpacks.com/docs/cli), used by berth's tests of
// builders/nixpacks on machines where the real Rust binary cannot be
// installed. It implements the part of the CLI berth uses, with the real
// flags and output shapes:
//
//	nixpacks --version
//	nixpacks detect <path>                 providers, comma-separated
//	nixpacks plan <path> [--format json]   the build plan as JSON
//	nixpacks build <path> --out <dir>      writes <dir>/.nixpacks/Dockerfile
//
// with the global options --install-cmd/-i, --build-cmd/-b, --start-cmd/-s,
// --pkgs/-p, --apt/-a, --libs, --env/-e (NAME=value, or NAME to read the
// value from its own environment) and --config/-c, in "--flag value" or
// "--flag=value" form. Build accepts --name, --no-cache, --tag and --label
// and refuses to build without --out (it never runs Docker).
//
// It honours a subset of nixpacks.toml: buildImage, [variables],
// [phases.<name>] with cmds, nixPkgs, aptPkgs, nixLibs, onlyIncludeFiles
// and dependsOn, and [start] cmd; values are strings or one-line arrays of
// strings. Providers are detected from marker files as the real providers
// do (package.json: node, requirements.txt: python, go.mod: go, ...), but
// they contribute no phases: what is built is what the config file and the
// flags say. Nix and apt packages are recorded in the plan and in a comment
// RUN step, never installed. Like nixpacks it fails with "Error: No start
// command could be found" when nothing gives a start command.
//
// For tests, a file .nixpacks-standin-delay in the app holding a number of
// seconds makes plan and build wait that long first (a slow tool), and a
// file .nixpacks-standin-fail makes them fail with its content as error.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// version is the version the stand-in reports.
const version = "1.41.0"

// defaultBaseImage is nixpacks' default build image.
const defaultBaseImage = "ghcr.io/railwayapp/nixpacks:ubuntu-1745885067"

// options are the parsed command line.
type options struct {
	command, path, out, name, format, config string
	installCmd, buildCmd, startCmd           *string
	pkgs, apt, libs, env                     []string
	noCache                                  bool
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-V") {
		fmt.Printf("nixpacks %s\n", version)
		return 0
	}
	o, err := parse(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n\nFor more information, try '--help'.\n", err)
		return 2
	}
	if err := execute(o); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		return 1
	}
	return 0
}

// parse reads the arguments the way nixpacks' clap definition does.
func parse(args []string) (*options, error) {
	o := &options{format: "json"}
	str := func(p *string) func(string) { return func(v string) { *p = v } }
	ptr := func(p **string) func(string) { return func(v string) { *p = &v } }
	list := func(p *[]string) func(string) { return func(v string) { *p = append(*p, v) } }
	valued := map[string]func(string){
		"--install-cmd": ptr(&o.installCmd), "-i": ptr(&o.installCmd),
		"--build-cmd": ptr(&o.buildCmd), "-b": ptr(&o.buildCmd),
		"--start-cmd": ptr(&o.startCmd), "-s": ptr(&o.startCmd),
		"--pkgs": list(&o.pkgs), "-p": list(&o.pkgs),
		"--apt": list(&o.apt), "-a": list(&o.apt),
		"--libs": list(&o.libs),
		"--env":  list(&o.env), "-e": list(&o.env),
		"--config": str(&o.config), "-c": str(&o.config),
		"--out": str(&o.out), "-o": str(&o.out),
		"--name": str(&o.name), "-n": str(&o.name),
		"--format": str(&o.format), "-f": str(&o.format),
		"--tag": func(string) {}, "-t": func(string) {}, "--label": func(string) {}, "-l": func(string) {},
	}
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "-") {
			positional = append(positional, a)
			continue
		}
		if a == "--no-cache" {
			o.noCache = true
			continue
		}
		set, ok := valued[name]
		if !ok {
			return nil, fmt.Errorf("unexpected argument '%s' found", a)
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("a value is required for '%s <VALUE>' but none was supplied", name)
			}
			i++
			value = args[i]
		}
		set(value)
	}
	if len(positional) == 0 {
		return nil, fmt.Errorf("a subcommand is required")
	}
	o.command = positional[0]
	switch o.command {
	case "detect", "plan", "build":
	default:
		return nil, fmt.Errorf("unrecognized subcommand '%s'", o.command)
	}
	if len(positional) != 2 {
		return nil, fmt.Errorf("the following required arguments were not provided: <PATH>")
	}
	o.path = positional[1]
	if o.format != "json" && o.format != "toml" {
		return nil, fmt.Errorf("invalid value '%s' for '--format <FORMAT>'", o.format)
	}
	return o, nil
}

// phase is one phase of a build plan, as nixpacks serialises it.
type phase struct {
	Name             string   `json:"name"`
	DependsOn        []string `json:"dependsOn,omitempty"`
	NixPkgs          []string `json:"nixPkgs,omitempty"`
	NixLibs          []string `json:"nixLibs,omitempty"`
	AptPkgs          []string `json:"aptPkgs,omitempty"`
	Cmds             []string `json:"cmds,omitempty"`
	OnlyIncludeFiles []string `json:"onlyIncludeFiles,omitempty"`
}

// plan is a nixpacks build plan.
type plan struct {
	Providers  []string          `json:"providers"`
	BuildImage string            `json:"buildImage"`
	Variables  map[string]string `json:"variables,omitempty"`
	Phases     map[string]*phase `json:"phases"`
	Start      struct {
		Cmd string `json:"cmd,omitempty"`
	} `json:"start"`
}

// markers are the files each provider detects, in nixpacks' order.
var markers = []struct{ provider, file string }{
	{"php", "composer.json"}, {"ruby", "Gemfile"}, {"node", "package.json"},
	{"python", "requirements.txt"}, {"python", "pyproject.toml"}, {"go", "go.mod"},
	{"rust", "Cargo.toml"}, {"java", "pom.xml"}, {"elixir", "mix.exs"},
	{"deno", "deno.json"}, {"staticfile", "Staticfile"},
}

func providers(dir string) []string {
	var out []string
	for _, m := range markers {
		if st, err := os.Stat(filepath.Join(dir, m.file)); err == nil && !st.IsDir() && !contains(out, m.provider) {
			out = append(out, m.provider)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func execute(o *options) error {
	st, err := os.Stat(o.path)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("Path %s is not a directory", o.path)
	}
	if o.command == "detect" {
		fmt.Println(strings.Join(providers(o.path), ", "))
		return nil
	}
	if data, err := os.ReadFile(filepath.Join(o.path, ".nixpacks-standin-delay")); err == nil {
		secs, _ := strconv.ParseFloat(strings.TrimSpace(string(data)), 64)
		fmt.Fprintf(os.Stderr, "stand-in: waiting %gs\n", secs)
		time.Sleep(time.Duration(secs * float64(time.Second)))
	}
	if data, err := os.ReadFile(filepath.Join(o.path, ".nixpacks-standin-fail")); err == nil {
		return fmt.Errorf("%s", strings.TrimSpace(string(data)))
	}
	p, err := makePlan(o)
	if err != nil {
		return err
	}
	if o.command == "plan" {
		if o.format == "toml" {
			return fmt.Errorf("the stand-in only writes JSON plans")
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	if p.Start.Cmd == "" {
		return fmt.Errorf("No start command could be found")
	}
	if o.out == "" {
		return fmt.Errorf("the stand-in only writes the build files (--out); it never runs docker")
	}
	printBox(p)
	if err := writeOutput(o, p); err != nil {
		return err
	}
	fmt.Printf("\nSaved output to:\n  %s\n", o.out)
	return nil
}

// makePlan merges the config file, the flags and the environment into a
// plan: config lowest, flags highest.
func makePlan(o *options) (*plan, error) {
	p := &plan{Providers: providers(o.path), BuildImage: defaultBaseImage, Variables: map[string]string{},
		Phases: map[string]*phase{"setup": {Name: "setup"}, "install": {Name: "install", DependsOn: []string{"setup"}},
			"build": {Name: "build", DependsOn: []string{"install"}}}}
	if p.Providers == nil {
		p.Providers = []string{}
	}
	if procfile, err := os.ReadFile(filepath.Join(o.path, "Procfile")); err == nil {
		for _, line := range strings.Split(string(procfile), "\n") {
			if cmd, ok := strings.CutPrefix(line, "web:"); ok {
				p.Start.Cmd = strings.TrimSpace(cmd)
			}
		}
	}
	config := o.config
	if config == "" {
		config = "nixpacks.toml"
	}
	if data, err := os.ReadFile(filepath.Join(o.path, config)); err == nil {
		if err := applyTOML(p, string(data)); err != nil {
			return nil, fmt.Errorf("Error reading %s: %w", config, err)
		}
	} else if o.config != "" {
		return nil, fmt.Errorf("Failed to read config file %s", o.config)
	}
	setup := p.Phases["setup"]
	setup.NixPkgs = append(setup.NixPkgs, o.pkgs...)
	setup.AptPkgs = append(setup.AptPkgs, o.apt...)
	setup.NixLibs = append(setup.NixLibs, o.libs...)
	if o.installCmd != nil {
		p.Phases["install"].Cmds = []string{*o.installCmd}
	}
	if o.buildCmd != nil {
		p.Phases["build"].Cmds = []string{*o.buildCmd}
	}
	if o.startCmd != nil {
		p.Start.Cmd = *o.startCmd
	}
	for _, e := range o.env {
		name, value, ok := strings.Cut(e, "=")
		if !ok {
			value = os.Getenv(name)
		}
		p.Variables[name] = value
	}
	return p, nil
}

// applyTOML applies the supported subset of nixpacks.toml.
func applyTOML(p *plan, text string) error {
	section := ""
	for n, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.Trim(line, "[] ")
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("line %d: expected key = value", n+1)
		}
		key = strings.Trim(strings.TrimSpace(key), `"'`)
		value = strings.TrimSpace(value)
		switch {
		case section == "" && key == "buildImage":
			p.BuildImage = unquote(value)
		case section == "" && key == "providers":
		case section == "variables":
			p.Variables[key] = unquote(value)
		case section == "start" && key == "cmd":
			p.Start.Cmd = unquote(value)
		case strings.HasPrefix(section, "phases."):
			name := strings.TrimPrefix(section, "phases.")
			ph := p.Phases[name]
			if ph == nil {
				ph = &phase{Name: name, DependsOn: []string{"install"}}
				p.Phases[name] = ph
			}
			values := strings.Split(strings.Trim(value, "[] "), ",")
			var list []string
			for _, v := range values {
				if v = unquote(strings.TrimSpace(v)); v != "" {
					list = append(list, v)
				}
			}
			switch key {
			case "cmds", "commands":
				ph.Cmds = merge(ph.Cmds, list)
			case "nixPkgs", "nixPackages":
				ph.NixPkgs = merge(ph.NixPkgs, list)
			case "aptPkgs", "aptPackages":
				ph.AptPkgs = merge(ph.AptPkgs, list)
			case "nixLibs", "nixLibraries":
				ph.NixLibs = merge(ph.NixLibs, list)
			case "onlyIncludeFiles":
				ph.OnlyIncludeFiles = list
			case "dependsOn":
				ph.DependsOn = list
			}
		}
	}
	return nil
}

// merge replaces old with list, where "..." in list stands for old.
func merge(old, list []string) []string {
	var out []string
	for _, v := range list {
		if v == "..." {
			out = append(out, old...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// sortedPhases orders the phases by their dependencies, then by name.
func sortedPhases(p *plan) []*phase {
	var out []*phase
	done := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		ph := p.Phases[name]
		if ph == nil || done[name] {
			return
		}
		done[name] = true
		for _, d := range ph.DependsOn {
			visit(d)
		}
		out = append(out, ph)
	}
	names := make([]string, 0, len(p.Phases))
	for name := range p.Phases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range []string{"setup", "install", "build"} {
		visit(name)
	}
	for _, name := range names {
		visit(name)
	}
	return out
}

// printBox prints the plan summary nixpacks prints before building.
func printBox(p *plan) {
	fmt.Printf("\n╔══════════ Nixpacks v%s (berth stand-in) ══════════╗\n", version)
	for _, ph := range sortedPhases(p) {
		what := append(append([]string{}, ph.NixPkgs...), ph.Cmds...)
		fmt.Printf("║ %-10s │ %s\n", ph.Name, strings.Join(what, ", "))
	}
	fmt.Printf("║ %-10s │ %s\n", "start", p.Start.Cmd)
	fmt.Println("╚══════════════════════════════════════════════════════╝")
}

// writeOutput writes .nixpacks/ under the output directory: the
// Dockerfile, the Nix expression of the setup packages and build.sh, as
// nixpacks build --out does.
func writeOutput(o *options, p *plan) error {
	assets := filepath.Join(o.out, ".nixpacks")
	if err := os.MkdirAll(assets, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "FROM %s\n\nENTRYPOINT [\"/bin/bash\", \"-l\", \"-c\"]\nWORKDIR /app/\n\n", p.BuildImage)
	setup := p.Phases["setup"]
	if len(setup.NixPkgs)+len(setup.NixLibs) > 0 {
		nix := fmt.Sprintf("# stand-in: packages nixpacks would install with nix-env\n# pkgs: %s\n# libs: %s\n",
			strings.Join(setup.NixPkgs, " "), strings.Join(setup.NixLibs, " "))
		if err := os.WriteFile(filepath.Join(assets, "nixpkgs-standin.nix"), []byte(nix), 0o644); err != nil {
			return err
		}
		b.WriteString("COPY .nixpacks/nixpkgs-standin.nix .nixpacks/nixpkgs-standin.nix\n")
		fmt.Fprintf(&b, "RUN echo 'stand-in: nix-env -if .nixpacks/nixpkgs-standin.nix (%s)'\n", strings.Join(append(setup.NixPkgs, setup.NixLibs...), " "))
	}
	if len(setup.AptPkgs) > 0 {
		fmt.Fprintf(&b, "RUN echo 'stand-in: apt-get install -y --no-install-recommends %s'\n", strings.Join(setup.AptPkgs, " "))
	}
	if len(p.Variables) > 0 {
		names := make([]string, 0, len(p.Variables))
		for k := range p.Variables {
			names = append(names, k)
		}
		sort.Strings(names)
		envs := make([]string, len(names))
		for i, k := range names {
			envs[i] = k + "=$" + k
		}
		fmt.Fprintf(&b, "ARG %s\nENV %s\n", strings.Join(names, " "), strings.Join(envs, " "))
	}
	for _, ph := range sortedPhases(p) {
		fmt.Fprintf(&b, "\n# %s phase\n", ph.Name)
		if len(ph.Cmds) == 0 {
			b.WriteString("# noop\n")
			continue
		}
		files := ph.OnlyIncludeFiles
		if len(files) == 0 {
			files = []string{"."}
		}
		for _, f := range files {
			fmt.Fprintf(&b, "COPY %s /app/%s\n", f, strings.TrimPrefix(f, "./"))
		}
		for _, c := range ph.Cmds {
			fmt.Fprintf(&b, "RUN %s\n", c)
		}
	}
	fmt.Fprintf(&b, "\n# start\nCOPY . /app\nCMD [\"%s\"]\n", strings.ReplaceAll(p.Start.Cmd, `"`, `\"`))
	if err := os.WriteFile(filepath.Join(assets, "Dockerfile"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	script := "docker build " + o.out + " -f " + filepath.Join(assets, "Dockerfile") + " -t " + o.name + "\n"
	return os.WriteFile(filepath.Join(assets, "build.sh"), []byte(script), 0o644)
}
