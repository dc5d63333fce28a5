package plugins_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/sdk"
)

func TestBackupTargetInstancesHaveTheirOwnSettings(t *testing.T) {
	h := newHost(t, plugins.Options{IdleTimeout: 200 * time.Millisecond}, "backup", "notifier")
	rootA, rootB := t.TempDir(), t.TempDir()
	settings := func(root string) json.RawMessage { return json.RawMessage(`{"root":"` + root + `"}`) }

	a, err := h.BackupTargetInstance(ctx(t), "backup.example", "dest-a", settings(rootA))
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.BackupTargetInstance(ctx(t), "backup.example", "dest-b", settings(rootB))
	if err != nil {
		t.Fatal(err)
	}
	// Each instance's process is read right after its call: the idle
	// timeout is short, and a loaded machine may stop one before the other
	// has answered.
	pids := map[string]int{}
	for _, tt := range []struct {
		c    *plugins.BackupTargetClient
		key  string
		body string
	}{{a, "dest-a", "in A"}, {b, "dest-b", "in B"}} {
		if _, err := tt.c.Put(ctx(t), &sdk.PutRequest{Key: "x/obj", Body: strings.NewReader(tt.body), Size: -1}); err != nil {
			t.Fatal(err)
		}
		h, _ := h.InstanceHealth("backup.example", tt.key)
		pids[tt.key] = h.PID
	}
	if !dirHolds(t, rootA, "in A") || !dirHolds(t, rootB, "in B") || dirHolds(t, rootA, "in B") {
		t.Fatal("each instance should write to its own directory")
	}
	if pa, pb := pids["dest-a"], pids["dest-b"]; pa == 0 || pa == pb {
		t.Errorf("instances should be separate processes: %d, %d", pa, pb)
	}
	if st := status(t, h, "backup.example").Health.State; st != plugins.StateNotStarted {
		t.Errorf("the plugin's own instance is %s, want untouched", st)
	}

	// Idle-stopped, an instance restarts with its own settings.
	waitFor(t, "idle stop", func() bool {
		hh, _ := h.InstanceHealth("backup.example", "dest-a")
		return hh.State == plugins.StateStopped
	})
	got, err := a.List(ctx(t), &sdk.ListRequest{Prefix: "x/"})
	if err != nil || len(got.Objects) != 1 {
		t.Fatalf("List after restart = %+v, %v", got, err)
	}

	// New settings for a key are applied to its process.
	rootC := t.TempDir()
	a, err = h.BackupTargetInstance(ctx(t), "backup.example", "dest-a", settings(rootC))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := a.List(ctx(t), &sdk.ListRequest{}); len(got.Objects) != 0 {
		t.Errorf("after new settings List = %+v, want the new, empty directory", got.Objects)
	}

	h.StopInstance("backup.example", "dest-b")
	if _, ok := h.InstanceHealth("backup.example", "dest-b"); ok {
		t.Error("a stopped instance should be forgotten")
	}
}

func TestBackupTargetInstanceErrors(t *testing.T) {
	h := newHost(t, plugins.Options{}, "backup", "notifier")
	tests := []struct {
		name     string
		id       string
		settings string
		check    func(error) bool
	}{
		{"unknown plugin", "backup.nope", `{}`, func(err error) bool { return errors.Is(err, plugins.ErrUnknownPlugin) }},
		{"wrong kind", "notifier.example", `{}`, func(err error) bool { return errors.Is(err, plugins.ErrWrongKind) }},
		{"invalid settings", "backup.example", `{"root":"relative"}`, func(err error) bool {
			var ce *sdk.ConfigError
			return errors.As(err, &ce)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.BackupTargetInstance(ctx(t), tt.id, "k", json.RawMessage(tt.settings))
			if !tt.check(err) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// dirHolds reports whether some file under dir has exactly content.
func dirHolds(t *testing.T, dir, content string) bool {
	t.Helper()
	found := false
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(p); string(data) == content {
				found = true
			}
		}
		return nil
	})
	return found
}
