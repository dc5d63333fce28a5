package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/cmd/berth/cli"
)

// TestMetricsVerbs: berth metrics and berth servers call the API and
// print tables (no figures are stored on this test server yet).
func TestMetricsVerbs(t *testing.T) {
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

	m := decode[struct {
		Kind        string
		StepSeconds int `json:"step_seconds"`
		Points      []any
	}](t, run(t, "", "metrics", app.ID, "--since", "24h", "-o", "json"))
	if m.Kind != "application" || m.StepSeconds != 288 || m.Points == nil {
		t.Fatalf("metrics %+v", m)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"table", []string{"metrics", app.ID}, 0, "CPU PEAK"},
		{"servers", []string{"servers"}, 0, "MEASURED"},
		{"neither", []string{"metrics"}, cli.ExitUsage, "--database"},
		{"both", []string{"metrics", app.ID, "--database", app.ID}, cli.ExitUsage, "--database"},
		{"bad since", []string{"metrics", app.ID, "--since", "yesterday"}, cli.ExitError, "from"},
		{"unknown database", []string{"metrics", "--database", app.ID}, cli.ExitNotFound, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "", tt.args...)
			if res.code != tt.code || !strings.Contains(res.stdout+res.stderr, tt.msg) {
				t.Fatalf("exit %d, want %d with %q: %+v", res.code, tt.code, tt.msg, res)
			}
		})
	}
}
