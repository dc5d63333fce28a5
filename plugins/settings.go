package plugins

import (
	"context"
	"encoding/json"

	"github.com/berth-dev/berth/sdk"
)

// Configure applies settings to plugin id (of any kind), starting it if
// needed. Invalid settings come back as a *sdk.ConfigError (errors.As) with
// the plugin's field errors; valid ones are re-applied after every restart.
func (h *Host) Configure(ctx context.Context, id string, settings json.RawMessage) error {
	h.mu.Lock()
	inst, ok := h.instances[id]
	h.mu.Unlock()
	switch {
	case h.closed.Load():
		return wrapErr(id, "", ErrClosed)
	case !ok:
		return wrapErr(id, "", ErrUnknownPlugin)
	}
	inst, err := h.lookup(ctx, id, inst.kind())
	if err != nil {
		return err
	}
	_, err = baseClient{inst}.Configure(ctx, &sdk.ConfigureRequest{Settings: settings})
	return err
}

// Preload records settings saved earlier for plugin id without starting it:
// they are applied when the plugin first starts. Unknown ids are ignored (a
// plugin may have been removed since).
func (h *Host) Preload(id string, settings json.RawMessage) {
	h.mu.Lock()
	inst, ok := h.instances[id]
	h.mu.Unlock()
	if ok {
		inst.setSettings(settings)
	}
}
