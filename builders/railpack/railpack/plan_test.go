package railpack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/railwayapp/railpack/core/plan"
)

// TestPlanHonoursSettingsAndRailpackJSON plans shell-script apps (no
// network) with the app settings and a railpack.json.
func TestPlanHonoursSettingsAndRailpackJSON(t *testing.T) {
	if err := ensureMise(context.Background(), fixtureSettings(t).MiseSource, t.Logf); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		files     map[string]string
		settings  AppSettings
		wantStart string
		wantCmd   string
		wantErr   string
	}{
		{name: "provider defaults", files: map[string]string{"start.sh": "echo hi\n"}, wantStart: "sh start.sh", wantCmd: "chmod +x start.sh"},
		{name: "settings", files: map[string]string{"start.sh": "echo hi\n"},
			settings: AppSettings{BuildCommand: "make all", StartCommand: "./server"}, wantStart: "./server", wantCmd: "make all"},
		{name: "railpack.json", files: map[string]string{"start.sh": "echo hi\n",
			"railpack.json": `{"deploy": {"startCommand": "./from-config"}, "steps": {"build": {"commands": ["...", "echo from-config"]}}}`},
			wantStart: "./from-config", wantCmd: "echo from-config"},
		{name: "config_file", files: map[string]string{"start.sh": "echo hi\n", "deploy/rp.json": `{"deploy": {"startCommand": "./other"}}`},
			settings: AppSettings{ConfigFile: "deploy/rp.json"}, wantStart: "./other"},
		{name: "bad railpack.json", files: map[string]string{"start.sh": "echo hi\n", "railpack.json": `{"deploy": `}, wantErr: "railpack.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range c.files {
				os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p, err := makePlan(dir, c.settings, map[string]string{}, t.Logf)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("makePlan = %v, want an error naming %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Deploy.StartCmd != c.wantStart {
				t.Errorf("start command %q, want %q", p.Deploy.StartCmd, c.wantStart)
			}
			if c.wantCmd != "" && !hasExec(p, c.wantCmd) {
				t.Errorf("no step runs %q: %+v", c.wantCmd, p.Steps)
			}
		})
	}
}

func hasExec(p *plan.BuildPlan, cmd string) bool {
	for _, s := range p.Steps {
		for _, c := range s.Commands {
			if e, ok := c.(plan.ExecCommand); ok && strings.Contains(e.Cmd, cmd) {
				return true
			}
		}
	}
	return false
}
