package swarm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// maxConfigPrefix keeps config names within Swarm's 64 characters.
const maxConfigPrefix = 40

// configName names the config holding data for service: configs are
// immutable, so a name is derived from the content.
func configName(service string, data []byte) string {
	sum := sha256.Sum256(data)
	prefix := service
	if len(prefix) > maxConfigPrefix {
		prefix = prefix[:maxConfigPrefix]
	}
	return prefix + "-" + hex.EncodeToString(sum[:8])
}

// ensureConfigs creates the configs s.Files need and returns their ids by
// name.
func (m *Manager) ensureConfigs(ctx context.Context, s ServiceSpec) (map[string]string, error) {
	ids := make(map[string]string, len(s.Files))
	for _, f := range s.Files {
		name := configName(s.Name, f.Data)
		if _, done := ids[name]; done {
			continue
		}
		id, err := m.ensureConfig(ctx, s.Name, name, f.Data)
		if err != nil {
			return nil, fmt.Errorf("service %q: file %s: %w", s.Name, f.Target, err)
		}
		ids[name] = id
	}
	return ids, nil
}

func (m *Manager) ensureConfig(ctx context.Context, service, name string, data []byte) (string, error) {
	c, _, err := m.docker.ConfigInspectWithRaw(ctx, name)
	if err == nil {
		return c.ID, nil
	}
	if !isNotFound(err) {
		return "", fmt.Errorf("inspect config %s: %w", name, err)
	}
	resp, err := m.docker.ConfigCreate(ctx, swarm.ConfigSpec{
		Annotations: swarm.Annotations{Name: name, Labels: map[string]string{LabelManaged: "true", LabelService: service}},
		Data:        data,
	})
	if err != nil && isAlreadyExists(err) {
		c, _, err = m.docker.ConfigInspectWithRaw(ctx, name)
		return c.ID, err
	}
	if err != nil {
		return "", fmt.Errorf("create config %s: %w", name, err)
	}
	return resp.ID, nil
}

// pruneConfigs removes the service's configs that neither its spec nor its
// previous spec (which a rollback would restore) references; keep may be
// nil when the service is gone. Failures are logged: a leftover config is
// harmless and the next prune retries.
func (m *Manager) pruneConfigs(ctx context.Context, service string, keep *swarm.Service) {
	configs, err := m.docker.ConfigList(ctx, swarm.ConfigListOptions{
		Filters: filters.NewArgs(filters.Arg("label", LabelService+"="+service)),
	})
	if err != nil {
		m.log.WarnContext(ctx, "list configs", "service", service, "err", err)
		return
	}
	used := map[string]bool{}
	if keep != nil {
		for _, spec := range []*swarm.ServiceSpec{&keep.Spec, keep.PreviousSpec} {
			if spec == nil || spec.TaskTemplate.ContainerSpec == nil {
				continue
			}
			for _, ref := range spec.TaskTemplate.ContainerSpec.Configs {
				used[ref.ConfigID] = true
			}
		}
	}
	for _, c := range configs {
		if used[c.ID] || c.Spec.Labels[LabelService] != service {
			continue
		}
		if err := m.docker.ConfigRemove(ctx, c.ID); err != nil && !isNotFound(err) {
			m.log.WarnContext(ctx, "remove unused config", "service", service, "config", c.Spec.Name, "err", err)
		}
	}
}
