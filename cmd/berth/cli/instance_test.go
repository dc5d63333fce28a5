package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/cmd/berth/cli"
)

func TestInstanceVerbs(t *testing.T) {
	url, token := server(t)
	t.Setenv("BERTH_CONFIG", filepath.Join(t.TempDir(), "credentials.json"))
	t.Setenv("BERTH_SERVER", "")
	t.Setenv("BERTH_TOKEN", "")
	if r := run(t, "correct horse battery\n", "setup", "--server", url, "--setup-token", token, "--email", "a@example.com"); r.code != 0 {
		t.Fatalf("setup: %+v", r)
	}
	if r := run(t, "", "instance", "settings"); r.code != 0 || !strings.Contains(r.stdout, "allow_organization_creation: false") ||
		!strings.Contains(r.stdout, "bind_mount_roots: (none)") {
		t.Fatalf("instance settings: %+v", r)
	}
	r := run(t, "", "instance", "settings", "--allow-org-creation=true", "--bind-mount-root", "/srv/a", "--bind-mount-root", "/srv/b",
		"--local-backup-root", "/srv/backups", "--outbound-allow", "10.0.0.0/8")
	if r.code != 0 || !strings.Contains(r.stdout, "allow_organization_creation: true") || !strings.Contains(r.stdout, "bind_mount_roots: /srv/a /srv/b") ||
		!strings.Contains(r.stdout, "outbound_allow: 10.0.0.0/8") {
		t.Fatalf("instance settings change: %+v", r)
	}
	// Other settings are kept; --flag= clears a list.
	r = run(t, "", "instance", "settings", "--bind-mount-root=", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"bind_mount_roots": []`) || !strings.Contains(r.stdout, `"/srv/backups"`) {
		t.Fatalf("clear a list: %+v", r)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"bad root", []string{"instance", "settings", "--bind-mount-root", "/srv/ok", "--bind-mount-root", "relative"}, cli.ExitError, "bind_mount_roots[1]"},
		{"bad outbound", []string{"instance", "settings", "--outbound-allow", "http://x"}, cli.ExitError, "outbound_allow[0]"},
		{"bad bool", []string{"instance", "settings", "--allow-org-creation=maybe"}, cli.ExitUsage, "true or false"},
		{"last admin", []string{"users", "revoke-admin", "a@example.com"}, cli.ExitError, "at least one instance administrator"},
		{"unknown user", []string{"users", "grant-admin", "nobody@example.com"}, cli.ExitNotFound, "no user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
				t.Fatalf("got code %d stderr %q; want %d containing %q", r.code, r.stderr, tt.code, tt.msg)
			}
		})
	}
	if r := run(t, "", "users", "list"); r.code != 0 || !strings.Contains(r.stdout, "a@example.com") || !strings.Contains(r.stdout, "true") {
		t.Fatalf("users list: %+v", r)
	}
}
