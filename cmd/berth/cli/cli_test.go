package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/cmd/berth/cli"
	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// server starts a real API server on a loopback port and returns its URL and
// setup token.
func server(t *testing.T) (string, string) {
	t.Helper()
	url, tok, _ := serverWithStore(t)
	return url, tok
}

// serverWithStore is server, also returning its store.
func serverWithStore(t *testing.T) (string, string, *store.Store) {
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
	tok, holder := auth.NewSetupToken()
	srv := api.New(api.Options{Store: st, Setup: holder, CSRFKey: box.Derive("csrf")})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.App().Listener(ln)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String(), tok, st
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	err := cli.Run(context.Background(), e, args)
	code := 0
	if err != nil {
		code = cli.Code(err)
		errb.WriteString(err.Error())
	}
	return result{code, out.String(), errb.String()}
}

func TestCLI(t *testing.T) {
	url, token := server(t)
	t.Setenv("BERTH_CONFIG", filepath.Join(t.TempDir(), "credentials.json"))
	t.Setenv("BERTH_SERVER", "")
	t.Setenv("BERTH_TOKEN", "")

	if r := run(t, "", "projects", "list"); r.code != cli.ExitAuth || !strings.Contains(r.stderr, "berth login") {
		t.Fatalf("not logged in: %+v", r)
	}
	if r := run(t, "correct horse battery\n", "setup", "--server", url, "--setup-token", "wrong", "--email", "a@example.com"); r.code != cli.ExitError || !strings.Contains(r.stderr, "token:") {
		t.Fatalf("setup with wrong token: %+v", r)
	}
	if r := run(t, "correct horse battery\n", "setup", "--server", url, "--setup-token", token, "--email", "a@example.com"); r.code != 0 {
		t.Fatalf("setup: %+v", r)
	}
	st, err := os.Stat(os.Getenv("BERTH_CONFIG"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", st, err)
	}

	r := run(t, "", "projects", "create", "shop", "--description", "the shop", "-o", "json")
	if r.code != 0 {
		t.Fatalf("create project: %+v", r)
	}
	var proj struct {
		ID           string `json:"id"`
		Environments []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"environments"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &proj); err != nil || len(proj.Environments) != 1 {
		t.Fatalf("create project output %q: %v", r.stdout, err)
	}
	r = run(t, "", "projects", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "shop") || !strings.HasPrefix(r.stdout, "ID") {
		t.Fatalf("projects list table: %+v", r)
	}
	r = run(t, "", "apps", "create", proj.Environments[0].ID, "--name", "web", "--image", "nginx:1.27", "--port", "80", "--output", "json")
	if r.code != 0 {
		t.Fatalf("create app: %+v", r)
	}
	var app struct {
		ID       string `json:"id"`
		Replicas int    `json:"replicas"`
	}
	json.Unmarshal([]byte(r.stdout), &app)
	if r := run(t, "", "apps", "update", app.ID, "--replicas", "3", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"replicas": 3`) {
		t.Fatalf("update app: %+v", r)
	}
	if r := run(t, "", "vars", "set", "--app", app.ID, "A=1", "B=x=y"); r.code != 0 {
		t.Fatalf("vars set: %+v", r)
	}
	if r := run(t, "", "vars", "list", "--app", app.ID, "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"x=y"`) {
		t.Fatalf("vars list: %+v", r)
	}
	if r := run(t, "", "domains", "add", app.ID, "shop.example.com"); r.code != 0 {
		t.Fatalf("domains add: %+v", r)
	}

	// Git connections and webhooks.
	if r := run(t, "s3cret-token\n", "git", "connect", "github", "--name", "gh", "--access-token", "-", "-o", "json"); r.code != 0 ||
		!strings.Contains(r.stdout, `"git.github"`) || strings.Contains(r.stdout, "s3cret") {
		t.Fatalf("git connect: %+v", r)
	}
	if r := run(t, "", "git", "connections"); r.code != 0 || !strings.Contains(r.stdout, "gh") || !strings.Contains(r.stdout, "token") {
		t.Fatalf("git connections: %+v", r)
	}
	if r := run(t, "", "git", "connect", "github", "--name", "none"); r.code != cli.ExitError || !strings.Contains(r.stderr, "credentials:") {
		t.Fatalf("git connect without credentials: %+v", r)
	}
	if r := run(t, "", "apps", "webhook", app.ID, "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, "/api/v1/webhooks/git/") || !strings.Contains(r.stdout, `"secret"`) {
		t.Fatalf("apps webhook: %+v", r)
	}
	if r := run(t, "", "apps", "webhook", app.ID, "--deploy-token", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, "bdt_") {
		t.Fatalf("apps webhook --deploy-token: %+v", r)
	}
	if r := run(t, "<h1>Back soon</h1>", "apps", "maintenance", app.ID, "off", "--page", "-", "--retry-after", "60", "-o", "json"); r.code != 0 ||
		!strings.Contains(r.stdout, `"retry_after_seconds": 60`) || !strings.Contains(r.stdout, `"page": "\u003ch1\u003eBack soon`) {
		t.Fatalf("apps maintenance off --page: %+v", r)
	}
	if r := run(t, "", "apps", "maintenance", app.ID, "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"enabled": false`) {
		t.Fatalf("apps maintenance: %+v", r)
	}
	if r := run(t, "", "apps", "maintenance", app.ID, "off", "--retry-after", "0"); r.code != 0 {
		t.Fatalf("apps maintenance --retry-after 0 (keeps the saved value): %+v", r)
	}
	if r := run(t, "", "apps", "maintenance", app.ID, "maybe"); r.code != cli.ExitUsage {
		t.Fatalf("apps maintenance maybe: %+v", r)
	}
	if r := run(t, "", "apps", "previews", app.ID); r.code != 0 || !strings.HasPrefix(r.stdout, "ID") {
		t.Fatalf("apps previews: %+v", r)
	}

	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"invalid field", []string{"apps", "create", proj.Environments[0].ID, "--name", "Bad Name", "--image", "x"}, cli.ExitError, "name:"},
		{"not found", []string{"projects", "get", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}, cli.ExitNotFound, "not found"},
		{"unknown command", []string{"frobnicate"}, cli.ExitUsage, "unknown command"},
		{"unknown subcommand", []string{"projects", "explode"}, cli.ExitUsage, "unknown subcommand"},
		{"missing argument", []string{"projects", "get"}, cli.ExitUsage, "expected arguments"},
		{"bad output", []string{"projects", "list", "-o", "yaml"}, cli.ExitUsage, "--output"},
		{"bad flag", []string{"projects", "list", "--nope"}, cli.ExitUsage, "nope"},
		{"vars scope", []string{"vars", "list"}, cli.ExitUsage, "--app"},
		{"bad var", []string{"vars", "set", "--app", app.ID, "NOEQUALS"}, cli.ExitUsage, "KEY=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
				t.Fatalf("got code %d stderr %q; want %d containing %q", r.code, r.stderr, tt.code, tt.msg)
			}
		})
	}

	if r := run(t, "", "logout"); r.code != 0 {
		t.Fatalf("logout: %+v", r)
	}
	if r := run(t, "", "projects", "list"); r.code != cli.ExitAuth {
		t.Fatalf("after logout: %+v", r)
	}
	if r := run(t, "correct horse battery\n", "login", "--server", url, "--email", "a@example.com"); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	if r := run(t, "wrong password!!\n", "login", "--server", url, "--email", "a@example.com"); r.code != cli.ExitAuth {
		t.Fatalf("login with a wrong password: %+v", r)
	}
	if r := run(t, "", "whoami", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, "a@example.com") {
		t.Fatalf("whoami: %+v", r)
	}
}
