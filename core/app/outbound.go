package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/store"
)

// recheckDestination checks the outbound URLs of a backup destination's
// settings (the properties its plugin's schema marks) again right before the
// plugin is sent to them (backup.CheckedTargets).
func (s *Server) recheckDestination(ctx context.Context, dest store.BackupDestination) error {
	if s.outbound == nil || s.plugins == nil {
		return nil
	}
	infos, err := s.plugins.List(ctx)
	if err != nil {
		return fmt.Errorf("list plugins: %w", err)
	}
	var values map[string]json.RawMessage
	_ = json.Unmarshal(dest.Settings, &values)
	for _, in := range infos {
		if in.ID != dest.PluginID {
			continue
		}
		for _, name := range hostaccess.MarkedProperties(in.ConfigSchema, hostaccess.OutboundURLKeyword) {
			var v string
			if json.Unmarshal(values[name], &v) != nil {
				continue
			}
			if err := s.outbound.RecheckURL(ctx, "settings."+name, v); err != nil {
				return err
			}
		}
	}
	return nil
}
