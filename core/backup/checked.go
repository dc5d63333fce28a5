package backup

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/core/store"
)

// CheckedTargets opens destinations with Targets once Check has accepted
// them. core/app checks the outbound URLs of a destination's settings again
// there (core/netguard), so every backup, restore, retention pass, test and
// listing re-resolves a host name a tenant saved right before the plugin is
// sent to it.
type CheckedTargets struct {
	Targets Targets
	Check   func(ctx context.Context, dest store.BackupDestination) error
}

// Target implements Targets.
func (c CheckedTargets) Target(ctx context.Context, dest store.BackupDestination) (Target, error) {
	if c.Check != nil {
		if err := c.Check(ctx, dest); err != nil {
			return nil, fmt.Errorf("backup destination %s: %w", dest.Name, err)
		}
	}
	return c.Targets.Target(ctx, dest)
}
