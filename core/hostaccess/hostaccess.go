// Package hostaccess decides who may use host-level powers: everything a
// change can do that reaches the machine berth runs on rather than the
// tenant's own containers (bind mounts, low or reserved host ports,
// privileged options, placement on chosen nodes, host directories, local git
// repositories, plugin settings). It is the one place these rules live; every
// front door (API, dashboard, webhooks, templates) lists the uses of a
// requested change with the Uses functions and asks Policy.Check before
// writing. See docs/security.md for the threat model.
package hostaccess

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Power names one host-level power.
type Power string

// The host-level powers.
const (
	// BindMount mounts a host path into a container.
	BindMount Power = "bind_mount"
	// HostPort publishes a port on the host (mode host) below 1024 or one
	// berth or Traefik uses.
	HostPort Power = "host_port"
	// Privileged runs a container privileged or with added capabilities,
	// devices or host namespaces.
	Privileged Power = "privileged"
	// Placement pins tasks to chosen nodes with constraints.
	Placement Power = "placement"
	// HostDirectory points a plugin at a directory of the host (backup.local).
	HostDirectory Power = "host_directory"
	// LocalRepository clones a git repository from a path on the host.
	LocalRepository Power = "local_repository"
	// PluginSettings changes an instance-wide plugin's settings.
	PluginSettings Power = "plugin_settings"
	// CreateOrganization creates a new tenant.
	CreateOrganization Power = "create_organization"
	// Volume mounts a named Docker volume; one another organization's
	// application or database uses is refused (it would share their data).
	Volume Power = "volume"
)

// Use is one use of a host-level power by a requested change.
type Use struct {
	// Field is the request field that asks for it, e.g. "mounts[0].source".
	Field string
	Power Power
	// Path is the host path of a BindMount or HostDirectory.
	Path string
	// Port is the host port of a HostPort.
	Port int
	// Detail says what exactly is asked, for the error message.
	Detail string
}

// Actor is who asks for a change.
type Actor struct {
	// InstanceAdmin is set for instance administrators, who hold every power.
	InstanceAdmin bool
}

// Policy holds the instance's settings that widen what tenants may do.
type Policy struct {
	// BindMountRoots are host directories under which anyone may bind mount.
	BindMountRoots []string
	// HostDirectoryRoots are host directories under which anyone may point a
	// plugin's host-directory setting (backup.local).
	HostDirectoryRoots []string
	// AllowOrganizationCreation lets anyone create organizations.
	AllowOrganizationCreation bool
	// ReservedPorts are host ports berth and Traefik use, with what uses them.
	ReservedPorts map[int]string
	// ForeignVolumes are the named volumes, among those asked for, that
	// another organization uses.
	ForeignVolumes map[string]bool
}

// ForbiddenError refuses a use of a host-level power; the API and dashboard
// answer 403 naming Field.
type ForbiddenError struct {
	Field   string
	Power   Power
	Message string
}

func (e *ForbiddenError) Error() string { return e.Field + ": " + e.Message }

// Check returns a *ForbiddenError for the first use the actor may not make,
// or nil. Instance administrators may make every use.
func (p Policy) Check(a Actor, uses []Use) error {
	if a.InstanceAdmin {
		return nil
	}
	for _, u := range uses {
		if err := p.check(u); err != nil {
			return err
		}
	}
	return nil
}

func (p Policy) check(u Use) error {
	deny := func(format string, args ...any) error {
		return &ForbiddenError{Field: u.Field, Power: u.Power, Message: fmt.Sprintf(format, args...)}
	}
	switch u.Power {
	case BindMount:
		if under(u.Path, p.BindMountRoots) && under(resolve(u.Path), p.BindMountRoots) {
			return nil
		}
		if len(p.BindMountRoots) == 0 {
			return deny("bind mounts of host paths are for instance administrators only")
		}
		return deny("bind mounts are allowed only under %s; %q is outside them (ask an instance administrator)", strings.Join(p.BindMountRoots, ", "), u.Path)
	case HostDirectory:
		if under(u.Path, p.HostDirectoryRoots) && under(resolve(u.Path), p.HostDirectoryRoots) {
			return nil
		}
		if len(p.HostDirectoryRoots) == 0 {
			return deny("host directories are for instance administrators only")
		}
		return deny("host directories are allowed only under %s; %q is outside them (ask an instance administrator)", strings.Join(p.HostDirectoryRoots, ", "), u.Path)
	case HostPort:
		if what, ok := p.ReservedPorts[u.Port]; ok {
			return deny("host port %d is used by %s; only instance administrators may publish it", u.Port, what)
		}
		if u.Port < 1024 {
			return deny("host ports below 1024 are for instance administrators only")
		}
		return nil
	case Volume:
		if p.ForeignVolumes[u.Path] {
			return deny("the volume %q belongs to another organization; choose another name", u.Path)
		}
		return nil
	case CreateOrganization:
		if p.AllowOrganizationCreation {
			return nil
		}
		return deny("only instance administrators may create organizations on this instance")
	case Privileged:
		return deny("%s is for instance administrators only", orDefault(u.Detail, "privileged mode"))
	case Placement:
		return deny("placement constraints are for instance administrators only")
	case LocalRepository:
		return deny("repositories on the berth host (absolute paths and file:// URLs) are for instance administrators only")
	case PluginSettings:
		return deny("plugin settings are for instance administrators only")
	}
	return deny("%s is for instance administrators only", u.Power)
}

// resolve follows symbolic links of a path that exists on this host, so a
// link planted under an allowed root cannot point outside it. A path that
// does not exist (yet, or on another node) is returned as it is.
var resolve = func(p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return p
	}
	return r
}

// under reports whether the clean absolute path p is one of roots or inside one.
func under(p string, roots []string) bool {
	if p == "" || !path.IsAbs(p) || path.Clean(p) != p {
		return false
	}
	for _, r := range roots {
		r = path.Clean(r)
		if !path.IsAbs(r) {
			continue
		}
		if p == r || strings.HasPrefix(p, strings.TrimSuffix(r, "/")+"/") {
			return true
		}
	}
	return false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ValidRoot reports why a configured root directory cannot be used, or "".
func ValidRoot(r string) string {
	switch {
	case !path.IsAbs(r) || path.Clean(r) != r:
		return fmt.Sprintf("%q must be a clean absolute path", r)
	case r == "/":
		return "/ would allow the whole host"
	}
	return ""
}

func sortStrings(s []string) { sort.Strings(s) }

// Reserved returns the reserved-port map from the ports berth and Traefik
// listen on, ignoring zero ports.
func Reserved(ports map[string]int) map[int]string {
	out := map[int]string{}
	names := make([]string, 0, len(ports))
	for n := range ports {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if p := ports[n]; p > 0 {
			if _, taken := out[p]; !taken {
				out[p] = n
			}
		}
	}
	return out
}
