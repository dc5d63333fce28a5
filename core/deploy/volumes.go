package deploy

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/core/store"
)

// mountSource is what the service mounts for one of the application's
// mounts: for a named volume, the Docker volume its source maps to for this
// application (recorded by a restore's switch or the migration of an
// existing service, else store.DefaultVolumeName), never the bare source,
// so two applications mounting "data" do not share a volume; the source
// itself for bind and tmpfs mounts.
func mountSource(a store.Application, m store.Mount) string {
	if m.Type != "volume" {
		return m.Source
	}
	if v, ok := a.Volumes[m.Source]; ok && v != "" {
		return v
	}
	return store.DefaultVolumeName(a, m.Source)
}

// currentVolumes reloads the application's volume mappings just before
// the release: a volume restore may have switched the service to a fresh
// volume since the deployment loaded the application, and the release
// must not switch it back.
func (p *Pipeline) currentVolumes(ctx context.Context, a *store.Application) error {
	if a.PreviewOf != nil {
		return nil // previews mount no named volume
	}
	v, err := p.store.AppVolumes(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("release: load the application's volumes: %w", err)
	}
	a.Volumes = v
	return nil
}
