package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/core/api"
)

// secretPlugin lists one backup plugin whose schema marks its secret key
// writeOnly, and records the settings it is configured with.
type secretPlugin struct {
	mu         sync.Mutex
	configured []json.RawMessage
}

const secretSchema = `{"type": "object", "properties": {
  "bucket": {"type": "string"},
  "secret_access_key": {"type": "string", "writeOnly": true}
}}`

func (p *secretPlugin) ListPlugins(context.Context) ([]api.PluginInfo, error) {
	return []api.PluginInfo{{ID: "backup.vault", Kind: "backup", Version: "1.0.0", Schema: json.RawMessage(secretSchema)}}, nil
}

func (p *secretPlugin) ConfigurePlugin(_ context.Context, id string, settings json.RawMessage) error {
	if id != "backup.vault" {
		return api.ErrUnknownPlugin
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.configured = append(p.configured, settings)
	return nil
}

func (p *secretPlugin) last(t *testing.T) map[string]any {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var m map[string]any
	if err := json.Unmarshal(p.configured[len(p.configured)-1], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPluginSecretsAreNeverReturned(t *testing.T) {
	plugin := &secretPlugin{}
	h := newHarness(t, func(o *api.Options) { o.Plugins, o.PluginSettings = plugin, plugin })
	key := h.setup()
	const secret = "sk-never-in-a-response-7f3a"
	path := "/api/v1/plugins/backup.vault/settings"
	noSecret := func(r response) map[string]any {
		t.Helper()
		if strings.Contains(string(r.Body), secret) || strings.Contains(string(r.Body), "sk-") {
			t.Fatalf("a secret is in the answer: %s", r.Body)
		}
		var ps struct {
			Settings map[string]any `json:"settings"`
		}
		r.json(t, &ps)
		return ps.Settings
	}
	got := noSecret(h.must(200, h.do("PUT", path, key, map[string]any{"settings": map[string]any{"bucket": "a", "secret_access_key": secret}})))
	if got["bucket"] != "a" || got["secret_access_key"] != "********" {
		t.Fatalf("PUT answered %v", got)
	}
	if plugin.last(t)["secret_access_key"] != secret {
		t.Fatal("the plugin did not get the secret")
	}
	got = noSecret(h.must(200, h.do("GET", path, key, nil)))
	if got["secret_access_key"] != "********" {
		t.Fatalf("GET answered %v", got)
	}

	// GET, change the bucket, PUT back: the secret is kept.
	got["bucket"] = "b"
	noSecret(h.must(200, h.do("PUT", path, key, map[string]any{"settings": got})))
	if m := plugin.last(t); m["secret_access_key"] != secret || m["bucket"] != "b" {
		t.Fatalf("the plugin got %v after a PUT with the marker", m)
	}
	// Leaving it out keeps it too.
	noSecret(h.must(200, h.do("PUT", path, key, map[string]any{"settings": map[string]any{"bucket": "c"}})))
	saved, err := h.store.PluginSettings(context.Background(), "backup.vault")
	if err != nil || !strings.Contains(string(saved), secret) || !strings.Contains(string(saved), `"c"`) {
		t.Fatalf("saved %s (%v): the secret must be kept", saved, err)
	}
	// null clears it.
	got = noSecret(h.must(200, h.do("PUT", path, key, map[string]any{"settings": map[string]any{"bucket": "c", "secret_access_key": nil}})))
	if _, ok := got["secret_access_key"]; ok || plugin.last(t)["secret_access_key"] != nil {
		t.Fatalf("null did not clear the secret: %v", got)
	}
}
