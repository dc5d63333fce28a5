package swarm

import (
	"fmt"
	"path"
	"strings"
)

// maxFileSize is Swarm's limit on a config's data.
const maxFileSize = 500 * 1024

// validate reports the first malformed field of s, wrapping ErrInvalidSpec.
func (s ServiceSpec) validate() error {
	if err := s.firstProblem(); err != "" {
		return fmt.Errorf("service %q: %w: %s", s.Name, ErrInvalidSpec, err)
	}
	return nil
}

func (s ServiceSpec) firstProblem() string {
	switch {
	case s.Name == "":
		return "name is required"
	case s.Image == "":
		return "image is required"
	case s.UpdateOrder != "" && s.UpdateOrder != UpdateStartFirst && s.UpdateOrder != UpdateStopFirst:
		return fmt.Sprintf("update order %q is not start-first or stop-first", s.UpdateOrder)
	case s.Resources.CPULimit < 0 || s.Resources.CPUReservation < 0 || s.Resources.MemoryLimit < 0 || s.Resources.MemoryReservation < 0:
		return "resources must not be negative"
	}
	for k := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Sprintf("environment variable name %q is invalid", k)
		}
	}
	for _, m := range s.Mounts {
		if p := m.problem(); p != "" {
			return p
		}
	}
	for _, f := range s.Files {
		if !path.IsAbs(f.Target) {
			return fmt.Sprintf("file target %q is not an absolute path", f.Target)
		}
		if len(f.Data) > maxFileSize {
			return fmt.Sprintf("file %s is %d bytes, more than Swarm's %d", f.Target, len(f.Data), maxFileSize)
		}
	}
	for _, p := range s.Ports {
		if p := p.problem(); p != "" {
			return p
		}
	}
	if s.HealthCheck != nil && len(s.HealthCheck.Test) == 0 {
		return "health check has no test command"
	}
	switch s.RestartPolicy.Condition {
	case "", RestartAny, RestartOnFailure, RestartNone:
	default:
		return fmt.Sprintf("restart condition %q is not any, on-failure or none", s.RestartPolicy.Condition)
	}
	return ""
}

func (m Mount) problem() string {
	if !path.IsAbs(m.Target) {
		return fmt.Sprintf("mount target %q is not an absolute path", m.Target)
	}
	switch m.Type {
	case MountVolume:
		if m.Source == "" {
			return fmt.Sprintf("volume mount at %s needs a volume name", m.Target)
		}
	case MountBind:
		if !path.IsAbs(m.Source) {
			return fmt.Sprintf("bind mount at %s needs an absolute host path, got %q", m.Target, m.Source)
		}
	case MountTmpfs:
		if m.Source != "" {
			return fmt.Sprintf("tmpfs mount at %s takes no source", m.Target)
		}
	default:
		return fmt.Sprintf("mount type %q is not volume, bind or tmpfs", m.Type)
	}
	return ""
}

func (p Port) problem() string {
	switch {
	case p.Target == 0:
		return "port target is required"
	case p.Protocol != "" && p.Protocol != TCP && p.Protocol != UDP:
		return fmt.Sprintf("port %d: protocol %q is not tcp or udp", p.Target, p.Protocol)
	case p.Mode != "" && p.Mode != PublishIngress && p.Mode != PublishHost:
		return fmt.Sprintf("port %d: mode %q is not ingress or host", p.Target, p.Mode)
	}
	return ""
}
