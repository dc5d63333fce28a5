package plugins_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// The example plugins pass their kind's conformance suite when berth runs
// them: real subprocesses launched by the Host, called through its typed
// clients.

func TestConformanceBackupExample(t *testing.T) {
	h := newHost(t, plugins.Options{}, "backup")
	b, err := h.BackupTarget(ctx(t), "backup.example")
	if err != nil {
		t.Fatal(err)
	}
	settings, _ := json.Marshal(map[string]string{"root": t.TempDir()})
	plugintest.TestBackupTarget(t, b, plugintest.BackupTargetSuite{BaseSuite: plugintest.BaseSuite{
		Settings: settings, InvalidSettings: json.RawMessage(`{"root":"relative"}`),
	}})
}

func TestConformanceNotifierExample(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var p struct {
			ID string `json:"id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		got = append(got, p.ID)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h := newHost(t, plugins.Options{}, "notifier")
	n, err := h.Notifier(ctx(t), "notifier.example")
	if err != nil {
		t.Fatal(err)
	}
	settings, _ := json.Marshal(map[string]string{"url": srv.URL})
	plugintest.TestNotifier(t, n, plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: settings, InvalidSettings: json.RawMessage(`{"url":""}`)},
		Delivered: func(t testing.TB, ev sdk.Event) {
			mu.Lock()
			defer mu.Unlock()
			if len(got) == 0 || got[len(got)-1] != ev.ID {
				t.Errorf("event %s not delivered (got %v)", ev.ID, got)
			}
		},
	})
}

func TestConformanceBuilderExample(t *testing.T) {
	h := newHost(t, plugins.Options{DockerHost: "unix:///test/docker.sock"}, "builder")
	b, err := h.Builder(ctx(t), "builder.example")
	if err != nil {
		t.Fatal(err)
	}
	plugintest.TestBuilder(t, b, plugintest.BuilderSuite{
		Image: "example/site:2",
		Source: func(t testing.TB, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>hi</h1>"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func TestBuilderGetsTheDockerHost(t *testing.T) {
	tests := []struct {
		name, opt, req, want string
	}{
		{"host default", "", "", plugins.DefaultDockerHost},
		{"host option", "tcp://127.0.0.1:2375", "", "tcp://127.0.0.1:2375"},
		{"request wins", "tcp://127.0.0.1:2375", "unix:///run/other.sock", "unix:///run/other.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, plugins.Options{DockerHost: tt.opt}, "builder")
			b, err := h.Builder(ctx(t), "builder.example")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "index.html"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			var log []string
			_, err = b.Build(ctx(t), &sdk.BuildRequest{SourceDir: dir, Image: "x:1", DockerHost: tt.req, Log: func(l sdk.LogLine) { log = append(log, l.Text) }})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(log, "\n"), "Docker Engine: "+tt.want+" ") {
				t.Errorf("build log does not show Docker Engine %s:\n%s", tt.want, strings.Join(log, "\n"))
			}
		})
	}
}

func TestConformanceGitExample(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "app")
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@localhost", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q")
	if err := os.WriteFile(filepath.Join(repo, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "first")
	head := git("rev-parse", "HEAD")

	h := newHost(t, plugins.Options{}, "gitprovider")
	g, err := h.GitProvider(ctx(t), "git.example")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"repository":"app","ref":"refs/heads/main","after":"` + head + `","changed":["main.go"]}`)
	header := http.Header{}
	header.Set("X-Berth-Example-Event", "push")
	header.Set("X-Berth-Example-Signature", sign("s3", body))
	settings, _ := json.Marshal(map[string]string{"root": root})
	plugintest.TestGitProvider(t, g, plugintest.GitProviderSuite{
		BaseSuite:  plugintest.BaseSuite{Settings: settings},
		Repository: repo, Ref: "main", WantCommit: head,
		Webhooks: []plugintest.WebhookCase{{
			Name: "push", Want: sdk.WebhookPush, WantChangedPaths: []string{"main.go"},
			Request: sdk.ParseWebhookRequest{Header: header, Body: body, Secret: "s3"},
		}},
	})
}

// sign computes the example git provider's webhook signature.
func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
