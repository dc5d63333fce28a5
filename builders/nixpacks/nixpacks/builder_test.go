package nixpacks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/berth-dev/berth/builders/nixpacks/nixpacks"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/test/dockertest"
	"github.com/berth-dev/berth/test/nixpacks"
)

// configured returns a Builder whose path setting is bin.
func configured(t testing.TB, bin string) *nixpacks.Builder {
	t.Helper()
	b := nixpacks.New()
	settings, _ := json.Marshal(map[string]string{"path": bin})
	if _, err := b.Configure(context.Background(), &sdk.ConfigureRequest{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	return b
}

func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// recorder collects log lines with the time they arrived.
type recorder struct {
	mu    sync.Mutex
	lines []sdk.LogLine
	at    []time.Time
	// on is called with each line.
	on func(sdk.LogLine)
}

func (r *recorder) log(l sdk.LogLine) {
	r.mu.Lock()
	r.lines = append(r.lines, l)
	r.at = append(r.at, time.Now())
	on := r.on
	r.mu.Unlock()
	if on != nil {
		on(l)
	}
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, l := range r.lines {
		b.WriteString(l.Text + "\n")
	}
	return b.String()
}

func TestDetect(t *testing.T) {
	bin := nixpackstest.StandIn(t)
	tests := []struct {
		name   string
		bin    string
		files  map[string]string
		want   bool
		reason string
	}{
		{"node app", bin, map[string]string{"package.json": "{}"}, true, "nixpacks detected node"},
		{"two providers", bin, map[string]string{"package.json": "{}", "requirements.txt": ""}, true, "nixpacks detected node, python"},
		{"config file only", bin, map[string]string{"nixpacks.toml": "[start]\ncmd = 'x'\n"}, true, "nixpacks.toml found"},
		{"nothing", bin, map[string]string{"README": "x"}, false, "no provider"},
		{"not installed", "/nonexistent/nixpacks", map[string]string{"package.json": "{}"}, false, "package.json found (node), but nixpacks is not installed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			writeTree(t, src, tt.files)
			r, err := configured(t, tt.bin).Detect(t.Context(), &sdk.DetectRequest{SourceDir: src})
			if err != nil {
				t.Fatal(err)
			}
			if r.Detected != tt.want || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("Detect = %v (%q), want %v with %q", r.Detected, r.Reason, tt.want, tt.reason)
			}
		})
	}
}

func TestNotInstalled(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"package.json": "{}"})
	emptyPath := t.TempDir()
	t.Setenv("PATH", emptyPath)
	for name, b := range map[string]*nixpacks.Builder{
		"path setting": configured(t, "/nonexistent/nixpacks"),
		"not on PATH":  nixpacks.New(),
	} {
		t.Run(name, func(t *testing.T) {
			var rec recorder
			_, err := b.Build(t.Context(), &sdk.BuildRequest{SourceDir: src, Image: "berth-test/never:1", DockerHost: dockertest.Host(), Log: rec.log})
			want := "nixpacks is not installed"
			if !errors.Is(err, nixpacks.ErrNotInstalled) || !errors.Is(err, sdk.ErrUnavailable) ||
				!strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "https://nixpacks.com/docs/install") || !strings.Contains(err.Error(), "path setting") {
				t.Fatalf("Build = %v, want the not-installed error", err)
			}
			if !strings.Contains(rec.text(), want) {
				t.Errorf("the log lacks the error:\n%s", rec.text())
			}
		})
	}
}

// build runs one build of src into a fresh image and returns it, its
// duration and the log.
func build(t *testing.T, b *nixpacks.Builder, src, ref, settings string, secrets map[string]string) (*sdk.BuildResponse, time.Duration, string, error) {
	t.Helper()
	var rec recorder
	start := time.Now()
	r, err := b.Build(t.Context(), &sdk.BuildRequest{SourceDir: src, Image: ref, DockerHost: dockertest.Host(),
		Settings: json.RawMessage(settings), Secrets: secrets, BuildArgs: map[string]string{"FROM_BUILD_ARG": "yes"}, Log: rec.log})
	return r, time.Since(start), rec.text(), err
}

// serve runs the image in a container and returns what GET / answers.
func serve(t *testing.T, cli *client.Client, ref string) string {
	t.Helper()
	ctx := t.Context()
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: ref}, nil, nil, nil, "")
	if err != nil {
		t.Fatalf("creating a container of %s: %v", ref, err)
	}
	t.Cleanup(func() { _ = cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true}) })
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	info, err := cli.ContainerInspect(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + info.NetworkSettings.IPAddress + ":8080/"
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(body)
		}
		if time.Now().After(deadline) {
			logs, _ := cli.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
			out := ""
			if logs != nil {
				b, _ := io.ReadAll(logs)
				out = string(b)
			}
			t.Fatalf("the container of %s does not answer at %s: %v\n%s", ref, url, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestBuildRunAndRebuild(t *testing.T) {
	cli := dockertest.EngineClient(t)
	b := configured(t, nixpackstest.StandIn(t))
	base := nixpackstest.BaseImage(t)
	src := t.TempDir()
	nixpackstest.App(t, src, base, fmt.Sprintf("first %d", time.Now().UnixNano()))

	ref := dockertest.ImageRef(t, cli, "nixpacks")
	r, first, log, err := build(t, b, src, ref, `{"no_cache": true}`, nil)
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, log)
	}
	for _, want := range []string{"nixpacks 1.41.0", "Nixpacks v1.41.0", "Saved output to", "Step 1/", "providers none", "built " + ref} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	img, err := cli.ImageInspect(t.Context(), ref)
	if err != nil || img.ID != r.Digest {
		t.Fatalf("image %s: %v (id %s, Build said %s)", ref, err, img.ID, r.Digest)
	}
	env := strings.Join(img.Config.Env, "\n")
	for _, want := range []string{"FROM_BUILD_ARG=yes", "PORT=8080"} {
		if !strings.Contains(env, want) {
			t.Errorf("image env lacks %q: %v", want, img.Config.Env)
		}
	}
	if got := serve(t, cli, ref); !strings.HasPrefix(got, "first ") {
		t.Errorf("the app answers %q", got)
	}

	// A one-line change that the install phase does not see: its layers
	// come from the cache.
	writeTree(t, src, map[string]string{"message.txt": "second\n"})
	ref3 := dockertest.ImageRef(t, cli, "nixpacks")
	_, cached, log, err := build(t, b, src, ref3, `{}`, nil)
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, log)
	}
	t.Logf("nixpacks build times: first (no cache) %s, rebuild after a one-line change %s", first.Round(time.Millisecond), cached.Round(time.Millisecond))
	if !strings.Contains(log, "Using cache") || cached >= first {
		t.Errorf("the rebuild took %s (first %s), log:\n%s", cached, first, log)
	}
	if got := serve(t, cli, ref3); !strings.HasPrefix(got, "second ") {
		t.Errorf("the rebuilt app answers %q", got)
	}
}

func TestBuildSettingsReachNixpacks(t *testing.T) {
	cli := dockertest.EngineClient(t)
	b := configured(t, nixpackstest.StandIn(t))
	base := nixpackstest.BaseImage(t)
	src := t.TempDir()
	writeTree(t, src, map[string]string{"nixpacks.toml": "buildImage = '" + base + "'\n", "hello.txt": "hi\n",
		"deploy/np.toml": "buildImage = '" + base + "'\n[variables]\nFROM_CONFIG = 'yes'\n"})
	ref := dockertest.ImageRef(t, cli, "nixpacks")
	settings := `{"apt_packages": ["libvips-dev"], "nix_packages": ["ffmpeg"], "env": {"GREETING": "hi there"},
		"install_cmd": "echo install-ran > /app/installed", "build_cmd": "echo -n \"$SECRET_TOKEN\" | wc -c > /app/secret-len",
		"start_cmd": "cat /app/installed", "config": "deploy/np.toml", "secrets_as_env": true}`
	_, _, log, err := build(t, b, src, ref, settings, map[string]string{"SECRET_TOKEN": "s3cr3t-value-1234"})
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, log)
	}
	if strings.Contains(log, "s3cr3t-value-1234") {
		t.Errorf("the log shows a secret:\n%s", log)
	}
	img, err := cli.ImageInspect(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(img.Config.Cmd, " "); got != "cat /app/installed" {
		t.Errorf("image CMD = %q", got)
	}
	env := strings.Join(img.Config.Env, "\n")
	if !strings.Contains(env, "FROM_CONFIG=yes") || !strings.Contains(env, "SECRET_TOKEN=s3cr3t-value-1234") || !strings.Contains(env, "GREETING=hi there") {
		t.Errorf("image env = %v, want the config file's variable and the secret (secrets_as_env)", img.Config.Env)
	}
	for _, want := range []string{"passing build secrets SECRET_TOKEN", "RUN echo install-ran",
		"apt-get install -y --no-install-recommends libvips-dev", "nix-env -if .nixpacks/nixpkgs-standin.nix (ffmpeg)"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}

	// By default secrets are not passed.
	ref2 := dockertest.ImageRef(t, cli, "nixpacks")
	_, _, log, err = build(t, b, src, ref2, `{"start_cmd": "true"}`, map[string]string{"SECRET_TOKEN": "s3cr3t-value-1234"})
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, log)
	}
	img, _ = cli.ImageInspect(t.Context(), ref2)
	if strings.Contains(strings.Join(img.Config.Env, " "), "SECRET_TOKEN") || !strings.Contains(log, "1 build secret(s) not passed") {
		t.Errorf("a secret reached the image by default: %v\n%s", img.Config.Env, log)
	}
}

func TestBuildFailures(t *testing.T) {
	cli := dockertest.EngineClient(t)
	b := configured(t, nixpackstest.StandIn(t))
	base := nixpackstest.BaseImage(t)
	tests := []struct {
		name     string
		files    map[string]string
		settings string
		want     string
	}{
		{"nixpacks finds no start command", map[string]string{"package.json": "{}"}, `{}`,
			"nixpacks build failed (exit status 1): Error: No start command could be found"},
		{"nixpacks fails", map[string]string{".nixpacks-standin-fail": "Failed to parse package.json", "package.json": "{"}, `{}`,
			"nixpacks plan failed (exit status 1): Error: Failed to parse package.json"},
		{"a build command fails", map[string]string{"nixpacks.toml": "buildImage = '" + base + "'\n"}, `{"build_cmd": "echo compiling && exit 3", "start_cmd": "true"}`,
			"returned a non-zero code: 3"},
		{"the build image is missing", map[string]string{"nixpacks.toml": "buildImage = 'berth-test/no-such-image:1'\n"}, `{"start_cmd": "true"}`,
			"no-such-image|registry-1.docker.io"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			writeTree(t, src, tt.files)
			_, _, log, err := build(t, b, src, dockertest.ImageRef(t, cli, "nixpacks-failing"), tt.settings, nil)
			if err == nil || !containsAny(err.Error(), strings.Split(tt.want, "|")) {
				t.Fatalf("Build = %v, want an error with %q\n%s", err, tt.want, log)
			}
		})
	}
}

func TestBuildRefusesBadSettings(t *testing.T) {
	b := configured(t, "/nonexistent/nixpacks")
	tests := []struct{ settings, field string }{
		{`{"build_cmd": "a\nFROM evil"}`, "build_cmd"},
		{`{"nix_packages": ["ok", "bad pkg"]}`, "nix_packages[1]"},
		{`{"apt_packages": ["-oAPT::x"]}`, "apt_packages[0]"},
		{`{"env": {"1X": "y"}}`, "env.1X"},
		{`{"config": "../outside.toml"}`, "config"},
		{`{"start": "x"}`, "start"},
	}
	for _, tt := range tests {
		_, err := b.Build(t.Context(), &sdk.BuildRequest{SourceDir: t.TempDir(), Image: "berth-test/never:1", Settings: json.RawMessage(tt.settings)})
		var cfg *sdk.ConfigError
		if !errors.As(err, &cfg) || cfg.Fields[0].Field != tt.field {
			t.Errorf("Build(%s) = %v, want a field error on %s", tt.settings, err, tt.field)
		}
	}
}

func TestCancel(t *testing.T) {
	cli := dockertest.EngineClient(t)
	b := configured(t, nixpackstest.StandIn(t))
	base := nixpackstest.BaseImage(t)
	tests := []struct {
		name  string
		files map[string]string
		// at is the log line that cancels the build.
		at string
		// running is part of the command line of what must be gone.
		running string
	}{
		{"while nixpacks runs", map[string]string{".nixpacks-standin-delay": "60", "nixpacks.toml": "[start]\ncmd = 'true'\n"}, "stand-in: waiting", ""},
		{"while the engine builds", map[string]string{"nixpacks.toml": "buildImage = '" + base + "'\n[phases.build]\ncmds = ['echo sleeping && sleep 61']\n[start]\ncmd = 'true'\n"},
			"sleeping", "sleep 61"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			writeTree(t, src, tt.files)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var cancelledAt time.Time
			var once sync.Once
			rec := &recorder{on: func(l sdk.LogLine) {
				if strings.Contains(l.Text, tt.at) {
					once.Do(func() { cancelledAt = time.Now(); cancel() })
				}
			}}
			done := make(chan error, 1)
			go func() {
				_, err := b.Build(ctx, &sdk.BuildRequest{SourceDir: src, Image: dockertest.ImageRef(t, cli, "nixpacks-cancelled"),
					DockerHost: dockertest.Host(), Settings: json.RawMessage(`{"no_cache": true}`), Log: rec.log})
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) || cancelledAt.IsZero() {
					t.Fatalf("Build = %v, want context.Canceled after %q\n%s", err, tt.at, rec.text())
				}
				took := time.Since(cancelledAt)
				t.Logf("Build returned %s after cancel", took.Round(time.Millisecond))
				if took > time.Second {
					t.Errorf("Build returned %s after cancel, want within a second", took)
				}
			case <-time.After(90 * time.Second):
				t.Fatalf("Build still running 90s after it started\n%s", rec.text())
			}
			if pids := processesWith(t, src); len(pids) > 0 {
				t.Errorf("processes still run on the source after cancel: %v", pids)
			}
			if tt.running == "" {
				return
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				list, err := cli.ContainerList(t.Context(), container.ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				running := false
				for _, c := range list {
					running = running || strings.Contains(c.Command, tt.running)
				}
				if !running {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the build step still runs 5s after cancel")
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

// processesWith lists the processes whose command line mentions s.
func processesWith(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), s) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
