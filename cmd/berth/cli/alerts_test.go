package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/cmd/berth/cli"
)

func TestAlertVerbs(t *testing.T) {
	url, token, _ := notifyServer(t)
	t.Setenv("BERTH_CONFIG", filepath.Join(t.TempDir(), "credentials.json"))
	t.Setenv("BERTH_SERVER", "")
	t.Setenv("BERTH_TOKEN", "")
	if r := run(t, "correct horse battery\n", "setup", "--server", url, "--setup-token", token, "--email", "a@example.com"); r.code != 0 {
		t.Fatalf("setup: %+v", r)
	}
	shop := decode[struct {
		ID           string
		Environments []struct{ ID, Name string }
	}](t, run(t, "", "projects", "create", "shop", "-o", "json"))
	app := decode[struct{ ID string }](t, run(t, "", "apps", "create", shop.Environments[0].ID, "--name", "api", "--image", "nginx:1", "-o", "json"))

	type rule struct {
		ID              string
		Name            string
		Metric          string
		Threshold       float64
		DurationSeconds int `json:"duration_seconds"`
		CooldownSeconds int `json:"cooldown_seconds"`
		Subject         string
		Enabled         bool
	}
	r := decode[rule](t, run(t, "", "alerts", "create", "--app", app.ID, "--metric", "cpu_percent", "--above", "90", "--for", "5m", "-o", "json"))
	if r.Metric != "cpu_percent" || r.Threshold != 90 || r.DurationSeconds != 300 || r.CooldownSeconds != 1800 || !r.Enabled {
		t.Fatalf("created %+v", r)
	}
	disk := decode[rule](t, run(t, "", "alerts", "create", "--servers", "--name", "root disk", "--metric", "disk_percent", "--above", "85",
		"--mount", "/", "--for", "0s", "--cooldown", "1h", "-o", "json"))
	if disk.Subject != "/" || disk.DurationSeconds != 0 || disk.CooldownSeconds != 3600 || disk.Name != "root disk" {
		t.Fatalf("created %+v", disk)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no owner", []string{"alerts", "list"}, cli.ExitUsage, "exactly one of"},
		{"two owners", []string{"alerts", "list", "--app", app.ID, "--servers"}, cli.ExitUsage, "exactly one of"},
		{"no metric", []string{"alerts", "create", "--app", app.ID, "--above", "3"}, cli.ExitUsage, "--metric"},
		{"bad threshold", []string{"alerts", "create", "--app", app.ID, "--metric", "cpu_percent", "--above", "300"}, cli.ExitError, "threshold"},
		{"bad metric", []string{"alerts", "create", "--app", app.ID, "--metric", "disk_percent", "--above", "3"}, cli.ExitError, "metric"},
		{"short cooldown", []string{"alerts", "update", r.ID, "--cooldown", "10s"}, cli.ExitError, "cooldown_seconds"},
		{"nothing to change", []string{"alerts", "update", r.ID}, cli.ExitUsage, "nothing to change"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "", tt.args...)
			if res.code != tt.code || !strings.Contains(res.stderr, tt.msg) {
				t.Fatalf("got code %d stderr %q; want %d containing %q", res.code, res.stderr, tt.code, tt.msg)
			}
		})
	}
	out := run(t, "", "alerts", "list", "--app", app.ID)
	if out.code != 0 || !strings.Contains(out.stdout, "STATE") || !strings.Contains(out.stdout, "cpu_percent > 90 for 5m0s") || !strings.Contains(out.stdout, " ok ") {
		t.Fatalf("alerts list: %+v", out)
	}
	if res := run(t, "", "alerts", "update", r.ID, "--above", "95", "--disable", "-o", "json"); res.code != 0 || !strings.Contains(res.stdout, `"threshold": 95`) ||
		!strings.Contains(res.stdout, `"enabled": false`) {
		t.Fatalf("alerts update: %+v", res)
	}
	if res := run(t, "", "alerts", "list", "--servers"); res.code != 0 || !strings.Contains(res.stdout, "root disk") {
		t.Fatalf("alerts list --servers: %+v", res)
	}
	if res := run(t, "", "alerts", "delete", disk.ID); res.code != 0 {
		t.Fatalf("alerts delete: %+v", res)
	}
	if res := run(t, "", "alerts", "show", disk.ID); res.code != cli.ExitNotFound {
		t.Fatalf("show a deleted rule: %+v", res)
	}
}
