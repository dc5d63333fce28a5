package plugins

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"

	"github.com/berth-dev/berth/sdk"
)

// instanceKey names an extra process of a plugin: the plugin's id and a
// caller-chosen key (a backup destination's or notification channel's id).
type instanceKey struct {
	id, key string
}

// allInstances returns every plugin instance, keyed ones included.
func (h *Host) allInstances() []*instance {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append(slices.Collect(maps.Values(h.instances)), slices.Collect(maps.Values(h.keyed))...)
}

// BackupTargetInstance returns the client of a separate process of backup
// plugin id, one per key, configured with settings. Several destinations
// of one plugin (two S3 buckets) thus run side by side, each with its own
// settings. Like every plugin, the process starts on first use, stops when
// idle and is restarted with its settings. When settings differ from the
// ones the process has, they are applied first; invalid settings come back
// as a *sdk.ConfigError (errors.As). The plugin's own instance (Configure,
// BackupTarget) is left alone.
func (h *Host) BackupTargetInstance(ctx context.Context, id, key string, settings json.RawMessage) (*BackupTargetClient, error) {
	inst, err := h.configuredInstance(ctx, id, key, sdk.KindBackup, settings)
	if err != nil {
		return nil, err
	}
	return &BackupTargetClient{baseClient{inst}}, nil
}

// NotifierInstance returns the client of a separate process of notifier
// plugin id, one per key (a notification channel's id), configured with
// settings, as BackupTargetInstance does for backup destinations: two
// Slack channels of one organization, or of two, never share a process
// or settings.
func (h *Host) NotifierInstance(ctx context.Context, id, key string, settings json.RawMessage) (*NotifierClient, error) {
	inst, err := h.configuredInstance(ctx, id, key, sdk.KindNotifier, settings)
	if err != nil {
		return nil, err
	}
	return &NotifierClient{baseClient{inst}}, nil
}

// configuredInstance returns instance (id, key) of a plugin of kind with
// settings applied (when they differ from the ones it has).
func (h *Host) configuredInstance(ctx context.Context, id, key string, kind sdk.Kind, settings json.RawMessage) (*instance, error) {
	inst, err := h.keyedInstance(ctx, id, key, kind)
	if err != nil {
		return nil, err
	}
	inst.mu.Lock()
	same := inst.settings != nil && bytes.Equal(inst.settings, settings)
	inst.mu.Unlock()
	if !same {
		if _, err := (baseClient{inst}).Configure(ctx, &sdk.ConfigureRequest{Settings: settings}); err != nil {
			return nil, err
		}
	}
	return inst, nil
}

// keyedInstance returns (creating it if needed) the instance (id, key) of a
// plugin of kind.
func (h *Host) keyedInstance(ctx context.Context, id, key string, kind sdk.Kind) (*instance, error) {
	h.mu.Lock()
	base, ok := h.instances[id]
	h.mu.Unlock()
	switch {
	case h.closed.Load():
		return nil, wrapErr(id, "", ErrClosed)
	case !ok:
		return nil, wrapErr(id, "", ErrUnknownPlugin)
	}
	base.mu.Lock()
	entry, path, source := base.entry, base.path, base.source
	base.mu.Unlock()
	if entry.Kind != kind {
		return nil, wrapErr(id, "", ErrWrongKind)
	}
	k := instanceKey{id: id, key: key}
	h.mu.Lock()
	inst, ok := h.keyed[k]
	if !ok {
		inst = newInstance(h, entry, path, source)
		h.keyed[k] = inst
	}
	h.mu.Unlock()
	return inst, ctx.Err()
}

// StopInstance stops and forgets the process (id, key) started by
// BackupTargetInstance or NotifierInstance, e.g. when its destination or
// channel is deleted. Unknown instances are ignored.
func (h *Host) StopInstance(id, key string) {
	k := instanceKey{id: id, key: key}
	h.mu.Lock()
	inst, ok := h.keyed[k]
	delete(h.keyed, k)
	h.mu.Unlock()
	if ok {
		inst.stop(StateStopped)
	}
}

// InstanceHealth reports the health of process (id, key), and false when
// it was never used.
func (h *Host) InstanceHealth(id, key string) (Health, bool) {
	h.mu.Lock()
	inst, ok := h.keyed[instanceKey{id: id, key: key}]
	h.mu.Unlock()
	if !ok {
		return Health{}, false
	}
	return inst.info().Health, true
}
