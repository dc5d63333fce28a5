package main

import (
	"encoding/json"
	"testing"

	"github.com/berth-dev/berth/providers/backup/local/local"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func suite(t *testing.T) plugintest.BackupTargetSuite {
	settings, err := json.Marshal(local.Settings{Directory: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return plugintest.BackupTargetSuite{BaseSuite: plugintest.BaseSuite{
		Settings:        settings,
		InvalidSettings: json.RawMessage(`{"directory": "relative/path"}`),
	}}
}

func TestConformance(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		plugintest.TestBackupTarget(t, plugintest.BackupTarget(t, local.New()), suite(t))
	})
	t.Run("subprocess", func(t *testing.T) {
		bin := plugintest.BuildPlugin(t, ".")
		plugintest.TestBackupTarget(t, plugintest.Launch(t, bin).(sdk.BackupTarget), suite(t))
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), local.New())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "backup.local" || d.Kind != sdk.KindBackup || d.Name != "local" {
		t.Errorf("Describe = %s (%s, %s), want backup.local", d.ID, d.Kind, d.Name)
	}
}
