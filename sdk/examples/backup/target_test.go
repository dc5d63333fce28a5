package main

import (
	"encoding/json"
	"testing"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func suite(t *testing.T) plugintest.BackupTargetSuite {
	settings, _ := json.Marshal(map[string]string{"root": t.TempDir()})
	return plugintest.BackupTargetSuite{BaseSuite: plugintest.BaseSuite{
		Settings:        settings,
		InvalidSettings: json.RawMessage(`{"root": "relative/path"}`),
	}}
}

func TestConformanceInProcess(t *testing.T) {
	plugintest.TestBackupTarget(t, plugintest.BackupTarget(t, &Target{}), suite(t))
}

func TestConformanceSubprocess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := plugintest.BuildPlugin(t, ".")
	plugintest.TestBackupTarget(t, plugintest.Launch(t, bin).(sdk.BackupTarget), suite(t))
}

func TestKeys(t *testing.T) {
	target := &Target{}
	settings, _ := json.Marshal(map[string]string{"root": t.TempDir()})
	if _, err := target.Configure(t.Context(), &sdk.ConfigureRequest{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key string
		ok  bool
	}{
		{"a/b.sql.gz", true},
		{"a", true},
		{"", false},
		{"/etc/passwd", false},
		{"../escape", false},
		{"a/../../escape", false},
		{"a//b", false},
		{`a\b`, false},
	}
	for _, tt := range tests {
		_, _, err := target.paths(tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("paths(%q) error = %v, want ok=%v", tt.key, err, tt.ok)
		}
	}
}

// TestSettingsSchema checks the hand-written schema describes the settings
// type Configure decodes: one source of truth.
func TestSettingsSchema(t *testing.T) {
	plugintest.CheckSettingsSchema(t, json.RawMessage(schema), settings{})
}
