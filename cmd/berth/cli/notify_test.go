package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/cmd/berth/cli"
	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// notifiers stands in for the plugin host: notifier.webhook, whose
// channels fail to deliver when their URL names "dead".
type notifiers struct {
	mu   sync.Mutex
	sent []string
}

const hookSchema = `{"type": "object", "required": ["url"], "properties": {
  "url": {"type": "string", "x-berth-outbound-url": true},
  "secret": {"type": "string", "writeOnly": true}}}`

func (n *notifiers) NotifierSchemas(context.Context) (map[string]json.RawMessage, error) {
	return map[string]json.RawMessage{"notifier.webhook": json.RawMessage(hookSchema)}, nil
}

func (n *notifiers) SendToChannel(_ context.Context, ch store.NotificationChannel, ev sdk.Event) error {
	if strings.Contains(string(ch.Settings), "dead") {
		return errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, ch.Name+" "+string(ev.Type))
	return nil
}

func (n *notifiers) StopChannel(store.NotificationChannel) {}

func notifyServer(t *testing.T) (string, string, *notifiers) {
	t.Helper()
	box, _ := secrets.New(bytes.Repeat([]byte{1}, secrets.KeySize))
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := &notifiers{}
	tok, holder := auth.NewSetupToken()
	srv := api.New(api.Options{Store: st, Setup: holder, CSRFKey: box.Derive("csrf"),
		Services: service.New(service.Deps{Store: st, Notifiers: n})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.App().Listener(ln)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String(), tok, n
}

func TestNotifyVerbs(t *testing.T) {
	url, token, n := notifyServer(t)
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
	decode[struct{ ID string }](t, run(t, "", "projects", "create", "blog", "-o", "json"))

	if r := run(t, "", "notify", "events"); r.code != 0 || !strings.HasPrefix(r.stdout, "TYPE") || !strings.Contains(r.stdout, "deploy.failed") {
		t.Fatalf("notify events: %+v", r)
	}
	const secret = "s3cret-signing-key"
	ch := decode[struct {
		ID             string
		Events         []string
		ProjectIDs     []string `json:"project_ids"`
		EnvironmentIDs []string `json:"environment_ids"`
		Enabled        bool
	}](t, run(t, secret+"\n", "notify", "create", "ops", "--plugin", "notifier.webhook", "--set", "url=https://hooks.example.com/x",
		"--secret-stdin", "secret", "--events", "deploy.failed,backup.failed", "--project", "shop", "--environment", "shop/production", "-o", "json"))
	if strings.Join(ch.Events, ",") != "deploy.failed,backup.failed" || len(ch.ProjectIDs) != 1 || ch.ProjectIDs[0] != shop.ID ||
		len(ch.EnvironmentIDs) != 1 || ch.EnvironmentIDs[0] != shop.Environments[0].ID || !ch.Enabled {
		t.Fatalf("created %+v", ch)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"no events", "", []string{"notify", "create", "x", "--plugin", "notifier.webhook", "--set", "url=https://h.example.com"}, cli.ExitUsage, "--events"},
		{"unknown event", "", []string{"notify", "create", "x", "--plugin", "notifier.webhook", "--set", "url=https://h.example.com", "--events", "deploy.failed,nope"}, cli.ExitError, "events[1]"},
		{"unknown plugin", "", []string{"notify", "create", "x", "--plugin", "notifier.carrier-pigeon", "--events", "deploy.failed"}, cli.ExitError, "plugin_id"},
		{"missing setting", "", []string{"notify", "create", "x", "--plugin", "notifier.webhook", "--events", "deploy.failed"}, cli.ExitError, "url"},
		{"unknown project", "", []string{"notify", "create", "x", "--plugin", "notifier.webhook", "--set", "url=https://h.example.com", "--events", "deploy.failed", "--project", "nope"}, cli.ExitNotFound, "no project"},
		{"ambiguous environment", "", []string{"notify", "create", "x", "--plugin", "notifier.webhook", "--set", "url=https://h.example.com", "--events", "deploy.failed", "--environment", "production"}, cli.ExitUsage, "PROJECT/production"},
		{"settings file not JSON", "not json", []string{"notify", "create", "x", "--plugin", "notifier.webhook", "--settings-file", "-", "--events", "deploy.failed"}, cli.ExitUsage, "JSON object"},
		{"enable and disable", "", []string{"notify", "update", ch.ID, "--enable", "--disable"}, cli.ExitUsage, "not both"},
		{"nothing to change", "", []string{"notify", "update", ch.ID}, cli.ExitUsage, "nothing to change"},
		{"test of an unknown channel", "", []string{"notify", "test", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}, cli.ExitNotFound, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.stdin, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
				t.Fatalf("got code %d stderr %q; want %d containing %q", r.code, r.stderr, tt.code, tt.msg)
			}
		})
	}

	// A test delivers; a dead channel's test fails and the list shows its health.
	if r := run(t, "", "notify", "test", ch.ID); r.code != 0 || !strings.Contains(r.stdout, "true") {
		t.Fatalf("notify test: %+v", r)
	}
	dead := decode[struct{ ID string }](t, run(t, `{"url": "https://dead.example.com/hook"}`, "notify", "create", "dead",
		"--plugin", "notifier.webhook", "--settings-file", "-", "--events", "backup.failed", "-o", "json"))
	if r := run(t, "", "notify", "test", dead.ID); r.code != cli.ExitError || !strings.Contains(r.stderr, "connection refused") {
		t.Fatalf("notify test of a dead channel: %+v", r)
	}
	r := run(t, "", "notify", "list")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ID") || !strings.Contains(r.stdout, "HEALTH") || !strings.Contains(r.stdout, "LAST ERROR") {
		t.Fatalf("notify list: %+v", r)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.Contains(line, ch.ID) && !strings.Contains(line, "healthy"):
			t.Errorf("ops row %q is not healthy", line)
		case strings.Contains(line, dead.ID) && (!strings.Contains(line, "failing") || !strings.Contains(line, "connection refused")):
			t.Errorf("dead row %q lacks its failing health and error", line)
		}
	}
	if strings.Contains(r.stdout, secret) || strings.Contains(r.stdout, "hooks.example.com") {
		t.Errorf("notify list shows settings: %s", r.stdout)
	}

	// Update: events, filters cleared, disabled, a setting removed, the
	// secret kept (never shown).
	r = run(t, "", "notify", "update", ch.ID, "--events", "deploy.failed", "--all-projects", "--all-environments", "--disable", "--name", "ops2", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"enabled": false`) || !strings.Contains(r.stdout, `"project_ids": []`) ||
		!strings.Contains(r.stdout, `"ops2"`) || strings.Contains(r.stdout, secret) {
		t.Fatalf("notify update: %+v", r)
	}
	if r := run(t, "", "notify", "update", ch.ID, "--enable", "--instance-events", "-o", "json"); r.code != 0 ||
		!strings.Contains(r.stdout, `"instance_events": true`) || !strings.Contains(r.stdout, `"enabled": true`) {
		t.Fatalf("notify update --instance-events by an instance administrator: %+v", r)
	}
	if r := run(t, "", "notify", "show", ch.ID); r.code != 0 || !strings.Contains(r.stdout, "ops2") || strings.Contains(r.stdout, secret) {
		t.Fatalf("notify show: %+v", r)
	}
	if r := run(t, "", "notify", "delete", ch.ID); r.code != 0 {
		t.Fatalf("notify delete: %+v", r)
	}
	if r := run(t, "", "notify", "show", ch.ID); r.code != cli.ExitNotFound {
		t.Fatalf("show a deleted channel: %+v", r)
	}
	if got := strings.Join(n.sent, "|"); got != "ops test" {
		t.Errorf("sent %q", got)
	}
}
