package snapshot_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/snapshot"
	"github.com/berth-dev/berth/core/store"
)

func base() store.Application {
	return store.Application{Port: 8080, Replicas: 2, Command: []string{"serve"}, MemoryLimitMB: 256,
		RuntimeSettings: store.RuntimeSettings{
			Mounts:        []store.Mount{{Type: "volume", Source: "data", Target: "/data"}},
			Files:         []store.File{{Target: "/etc/app.ini", Content: "password=hunter2", Mode: 0o440}},
			Labels:        map[string]string{"team": "shop"},
			RestartPolicy: "any",
		}}
}

// TestDiff: the changes between two releases, sorted by field, with
// secret values (every variable, file contents) masked yet still listed
// when they change.
func TestDiff(t *testing.T) {
	env := map[string]string{"STRIPE_KEY": "sk_old_secret", "MODE": "turbo-mode-value"}
	from := snapshot.Of(base(), "berth/web:1", env)
	tests := []struct {
		name string
		edit func(a *store.Application, image *string, env map[string]string)
		want string // field from->to [secret], one per line
	}{
		{"identical", func(*store.Application, *string, map[string]string) {}, ""},
		{"image", func(_ *store.Application, image *string, _ map[string]string) { *image = "berth/web:2" },
			"image berth/web:1->berth/web:2"},
		{"secret variable changed", func(_ *store.Application, _ *string, env map[string]string) { env["STRIPE_KEY"] = "sk_new_secret" },
			"env.STRIPE_KEY ********->******** secret"},
		{"variable added and removed", func(_ *store.Application, _ *string, env map[string]string) {
			delete(env, "MODE")
			env["NEW"] = "x"
		}, "env.MODE ********-><nil> secret\nenv.NEW <nil>->******** secret"},
		{"settings", func(a *store.Application, _ *string, _ map[string]string) {
			a.Replicas, a.MemoryLimitMB, a.Command = 3, 512, []string{"serve", "--fast"}
			a.Labels = map[string]string{"team": "ops"}
		}, `command ["serve"]->["serve","--fast"]` + "\nlabels.team shop->ops\nreplicas 2->3\nresources.memory_limit_mb 256->512"},
		{"health check added", func(a *store.Application, _ *string, _ map[string]string) {
			a.HealthCheck = &store.HealthCheck{Test: []string{"/app", "health"}, Retries: 3}
		}, `health_check.interval_seconds <nil>->0` + "\n" + `health_check.retries <nil>->3` + "\n" +
			`health_check.start_period_seconds <nil>->0` + "\n" + `health_check.test <nil>->["/app","health"]` + "\n" +
			`health_check.timeout_seconds <nil>->0`},
		{"release settings", func(a *store.Application, _ *string, _ map[string]string) {
			soak := 30
			a.SoakSeconds, a.Readiness = &soak, &store.Readiness{Mode: "http", Path: "/healthz"}
		}, "readiness.mode <nil>->http\nreadiness.path <nil>->/healthz\nsoak_seconds <nil>->30"},
		{"file content and mode", func(a *store.Application, _ *string, _ map[string]string) {
			a.Files = []store.File{{Target: "/etc/app.ini", Content: "password=swordfish", Mode: 0o400}}
		}, "files./etc/app.ini ********->******** secret\nfiles./etc/app.ini.mode 0440->0400"},
		{"mount", func(a *store.Application, _ *string, _ map[string]string) {
			a.Mounts = []store.Mount{{Type: "volume", Source: "data", Target: "/data", ReadOnly: true}, {Type: "tmpfs", Target: "/tmp"}}
		}, "mounts[/data] volume data->volume data (read-only)\nmounts[/tmp] <nil>->tmpfs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, image, e := base(), "berth/web:1", map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			tt.edit(&a, &image, e)
			changes, err := snapshot.Diff(from, snapshot.Of(a, image, e))
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, c := range changes {
				line := c.Field + " " + str(c.From) + "->" + str(c.To)
				if c.Secret {
					line += " secret"
				}
				lines = append(lines, line)
			}
			if got := strings.Join(lines, "\n"); got != tt.want {
				t.Fatalf("changes:\n%s\nwant:\n%s", got, tt.want)
			}
			data, _ := json.Marshal(changes)
			for _, secret := range []string{"sk_old_secret", "sk_new_secret", "hunter2", "swordfish", "turbo-mode-value"} {
				if strings.Contains(string(data), secret) {
					t.Fatalf("the diff shows a secret value %q: %s", secret, data)
				}
			}
		})
	}
}

func str(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
