package cli_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/cmd/berth/cli"
	"github.com/berth-dev/berth/core/snapshot"
	"github.com/berth-dev/berth/core/store"
)

// TestDeploymentsDiff: `berth deployments diff ID OTHER` shows what
// changed from OTHER to ID, secret values masked, as a table or JSON, and
// says why when a release has no snapshot.
func TestDeploymentsDiff(t *testing.T) {
	url, token, st := serverWithStore(t)
	t.Setenv("BERTH_CONFIG", filepath.Join(t.TempDir(), "credentials.json"))
	t.Setenv("BERTH_SERVER", "")
	t.Setenv("BERTH_TOKEN", "")
	if r := run(t, "correct horse battery\n", "setup", "--server", url, "--setup-token", token, "--email", "a@example.com"); r.code != 0 {
		t.Fatalf("setup: %+v", r)
	}
	r := run(t, "", "projects", "create", "shop", "-o", "json")
	var proj struct {
		Environments []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &proj); err != nil || len(proj.Environments) != 1 {
		t.Fatalf("create project: %+v", r)
	}
	r = run(t, "", "apps", "create", proj.Environments[0].ID, "--name", "web", "--image", "nginx:1.27", "--port", "80", "-o", "json")
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil {
		t.Fatalf("create app: %+v", r)
	}
	ctx := context.Background()
	app, err := st.GetApplication(ctx, uuid.MustParse(created.ID))
	if err != nil {
		t.Fatal(err)
	}
	deployment := func(image string, env map[string]string) string {
		t.Helper()
		d, err := st.CreateDeployment(ctx, app.ID, store.NewDeployment{Kind: store.KindDeploy})
		if err != nil {
			t.Fatal(err)
		}
		if env != nil {
			if err := snapshot.Save(ctx, st, d.ID, snapshot.Of(app, image, env)); err != nil {
				t.Fatal(err)
			}
		}
		return d.ID.String()
	}
	from := deployment("nginx:1.27", map[string]string{"TOKEN": "old-secret-token"})
	to := deployment("nginx:1.28", map[string]string{"TOKEN": "new-secret-token"})
	bare := deployment("nginx:1.28", nil)

	r = run(t, "", "deployments", "diff", to, from)
	if r.code != 0 || !regexp.MustCompile(`(?m)^FIELD +FROM +TO\nenv\.TOKEN +\*{8} +\*{8}\nimage +nginx:1\.27 +nginx:1\.28\n$`).MatchString(r.stdout) {
		t.Fatalf("diff table: %+v", r)
	}
	r = run(t, "", "deployments", "diff", to, from, "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"from": "`+from+`"`) || !strings.Contains(r.stdout, `"secret": true`) {
		t.Fatalf("diff json: %+v", r)
	}
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.Contains(out, "secret-token") {
			t.Fatalf("the diff shows a secret: %s", out)
		}
	}
	if r := run(t, "", "deployments", "diff", bare, from); r.code != cli.ExitError || !strings.Contains(r.stderr, "recorded no release snapshot") {
		t.Fatalf("diff without a snapshot: %+v", r)
	}
	if r := run(t, "", "deployments", "diff", to); r.code != cli.ExitUsage {
		t.Fatalf("diff with one id: %+v", r)
	}
}
