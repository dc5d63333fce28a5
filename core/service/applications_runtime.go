package service

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
)

var (
	volumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$`)
	labelKey   = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9._/-]{0,126}[a-zA-Z0-9])?$`)
	constraint = regexp.MustCompile(`^[a-zA-Z0-9._/-]+ *(==|!=) *[a-zA-Z0-9._/:-]+$`)
)

// validateRelease checks how an application's releases take over.
func validateRelease(r store.ReleaseSettings) error {
	if c := r.Readiness; c != nil {
		switch c.Mode {
		case store.ReadinessPort, store.ReadinessHTTP, store.ReadinessNone:
		default:
			return problem.InvalidField("readiness.mode", "%q is not one of port, http, none", c.Mode)
		}
		if c.Path != "" && (!strings.HasPrefix(c.Path, "/") || len(c.Path) > 1024 ||
			strings.ContainsFunc(c.Path, func(r rune) bool { return r <= ' ' || r == 0x7f })) {
			return problem.InvalidField("readiness.path", "must be a path starting with / without spaces (at most 1024 bytes)")
		}
		for _, f := range []struct {
			name      string
			v, lo, hi int
		}{
			{"status_min", c.StatusMin, 100, 599}, {"status_max", c.StatusMax, 100, 599},
			{"interval_ms", c.IntervalMS, 100, 60000}, {"timeout_ms", c.TimeoutMS, 100, 60000},
			{"successes", c.Successes, 1, 100}, {"timeout_seconds", c.TimeoutSeconds, 1, 3600},
		} {
			if f.v != 0 && (f.v < f.lo || f.v > f.hi) {
				return problem.InvalidField("readiness."+f.name, "must be %s", rangeText(f.lo, f.hi))
			}
		}
		e := c.Effective()
		if e.StatusMin > e.StatusMax {
			return problem.InvalidField("readiness.status_min", "must not be above status_max (%d)", e.StatusMax)
		}
	}
	if v := r.SoakSeconds; v != nil && (*v < 0 || *v > 3600) {
		return problem.InvalidField("soak_seconds", "must be %s", rangeText(0, 3600))
	}
	if v := r.StopGraceSeconds; v != nil && (*v < 0 || *v > 3600) {
		return problem.InvalidField("stop_grace_seconds", "must be %s", rangeText(0, 3600))
	}
	return nil
}

// validateRuntime checks the Swarm settings of an application.
func validateRuntime(r store.RuntimeSettings) error {
	if err := validateRelease(r.ReleaseSettings); err != nil {
		return err
	}
	if hc := r.HealthCheck; hc != nil {
		if len(hc.Test) > 32 {
			return problem.InvalidField("health_check.test", "must have at most 32 arguments")
		}
		for _, a := range hc.Test {
			if a == "" || len(a) > 1024 || strings.ContainsRune(a, 0) {
				return problem.InvalidField("health_check.test", "arguments must be 1 to 1024 bytes without NUL")
			}
		}
		for name, v := range map[string]int{"interval_seconds": hc.IntervalSeconds, "timeout_seconds": hc.TimeoutSeconds,
			"start_period_seconds": hc.StartPeriodSeconds, "retries": hc.Retries} {
			if v < 0 || v > 3600 {
				return problem.InvalidField("health_check."+name, "must be %s", rangeText(0, 3600))
			}
		}
	}
	targets := map[string]bool{}
	for i, m := range r.Mounts {
		f := fmt.Sprintf("mounts[%d]", i)
		if !strings.HasPrefix(m.Target, "/") || path.Clean(m.Target) != m.Target || m.Target == "/" {
			return problem.InvalidField(f+".target", "%q must be a clean absolute path other than /", m.Target)
		}
		if targets[m.Target] {
			return problem.InvalidField(f+".target", "%q is mounted twice", m.Target)
		}
		targets[m.Target] = true
		switch m.Type {
		case "volume":
			if !volumeName.MatchString(m.Source) {
				return problem.InvalidField(f+".source", "%q is not a valid volume name", m.Source)
			}
		case "bind":
			if !strings.HasPrefix(m.Source, "/") || path.Clean(m.Source) != m.Source {
				return problem.InvalidField(f+".source", "%q must be a clean absolute host path", m.Source)
			}
			if strings.Contains(m.Source, "docker.sock") {
				return problem.InvalidField(f+".source", "mounting the Docker socket is not allowed")
			}
		case "tmpfs":
			if m.Source != "" {
				return problem.InvalidField(f+".source", "must be empty for tmpfs")
			}
		default:
			return problem.InvalidField(f+".type", "%q is not one of volume, bind, tmpfs", m.Type)
		}
	}
	if c := r.GitCredentials; c != nil {
		if len(c.Username) > 256 || len(c.Password) > 4096 || len(c.Token) > 4096 || len(c.SSHKnownHosts) > 64<<10 {
			return problem.InvalidField("git_credentials", "a value is too long")
		}
		if c.SSHPrivateKey != "" && !strings.Contains(c.SSHPrivateKey, "PRIVATE KEY-----") {
			return problem.InvalidField("git_credentials.ssh_private_key", "must be a PEM or OpenSSH private key")
		}
		if c.Password != "" && c.Token != "" {
			return problem.InvalidField("git_credentials.token", "give a token or a password, not both")
		}
	}
	if len(r.Files) > 100 {
		return problem.InvalidField("files", "at most 100 files")
	}
	for i, f := range r.Files {
		fl := fmt.Sprintf("files[%d]", i)
		if !strings.HasPrefix(f.Target, "/") || path.Clean(f.Target) != f.Target || f.Target == "/" {
			return problem.InvalidField(fl+".target", "%q must be a clean absolute path other than /", f.Target)
		}
		if targets[f.Target] {
			return problem.InvalidField(fl+".target", "%q is mounted twice", f.Target)
		}
		targets[f.Target] = true
		if len(f.Content) > 256<<10 {
			return problem.InvalidField(fl+".content", "must be at most 256 KiB")
		}
		if f.Mode < 0 || f.Mode > 0o777 {
			return problem.InvalidField(fl+".mode", "must be a file mode from 0 to 0777 (511)")
		}
	}
	published := map[string]bool{}
	for i, p := range r.Ports {
		f := fmt.Sprintf("ports[%d]", i)
		if p.Target < 1 || p.Target > 65535 {
			return problem.InvalidField(f+".target", "must be %s", rangeText(1, 65535))
		}
		if p.Published < 1 || p.Published > 65535 {
			return problem.InvalidField(f+".published", "must be %s", rangeText(1, 65535))
		}
		if p.Protocol == "" {
			p.Protocol = "tcp"
		}
		if p.Protocol != "tcp" && p.Protocol != "udp" {
			return problem.InvalidField(f+".protocol", "%q is not tcp or udp", p.Protocol)
		}
		if p.Mode != "host" && p.Mode != "ingress" {
			return problem.InvalidField(f+".mode", "%q is not host or ingress", p.Mode)
		}
		key := fmt.Sprintf("%d/%s", p.Published, p.Protocol)
		if published[key] {
			return problem.InvalidField(f+".published", "%s is published twice", key)
		}
		published[key] = true
	}
	if len(r.Placement) > 32 {
		return problem.InvalidField("placement", "at most 32 constraints")
	}
	for i, c := range r.Placement {
		if !constraint.MatchString(c) {
			return problem.InvalidField(fmt.Sprintf("placement[%d]", i), "%q is not a constraint like node.role==manager", c)
		}
	}
	if len(r.Labels) > 64 {
		return problem.InvalidField("labels", "at most 64 labels")
	}
	for k, v := range r.Labels {
		if !labelKey.MatchString(k) || strings.HasPrefix(k, "dev.berth.") || strings.HasPrefix(k, "com.docker.") {
			return problem.InvalidField("labels."+k, "is not an allowed label key (dev.berth.* and com.docker.* are reserved)")
		}
		if len(v) > 1024 {
			return problem.InvalidField("labels."+k, "value must be at most 1024 bytes")
		}
	}
	switch r.RestartPolicy {
	case "any", "on-failure", "none":
	default:
		return problem.InvalidField("restart_policy", "%q is not one of any, on-failure, none", r.RestartPolicy)
	}
	if r.CPUReservation < 0 || r.CPUReservation > 256 {
		return problem.InvalidField("cpu_reservation", "must be from 0 to 256 CPUs")
	}
	if r.MemoryReservationMB < 0 || r.MemoryReservationMB > 1<<20 {
		return problem.InvalidField("memory_reservation_mb", "must be %s MiB", rangeText(0, 1<<20))
	}
	if r.KeepReleases < 1 || r.KeepReleases > 100 {
		return problem.InvalidField("keep_releases", "must be %s", rangeText(1, 100))
	}
	return nil
}
