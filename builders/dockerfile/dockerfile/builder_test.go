package dockerfile

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/berth-dev/berth/builders/internal/dockerbuild"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/test/dockertest"
)

const multiStage = `FROM scratch AS a
ARG GREETING=none
LABEL greeting=$GREETING stage=a
COPY hello.txt /hello.txt

FROM scratch AS b
COPY --from=a /hello.txt /copied.txt
LABEL stage=b
`

func TestBuild(t *testing.T) {
	cli := dockertest.EngineClient(t)
	type check func(t *testing.T, ref string, labels map[string]string, log string)
	exists := func(want map[string]bool) check {
		return func(t *testing.T, ref string, _ map[string]string, _ string) {
			paths := make([]string, 0, len(want))
			for p := range want {
				paths = append(paths, p)
			}
			got := imageFiles(t, cli, ref, paths...)
			for p, w := range want {
				if (got[p] != nil) != w {
					t.Errorf("%s in the image: %v, want %v", p, got[p] != nil, w)
				}
			}
		}
	}
	label := func(want map[string]string) check {
		return func(t *testing.T, _ string, labels map[string]string, _ string) {
			for k, v := range want {
				if labels[k] != v {
					t.Errorf("label %s = %q, want %q (labels %v)", k, labels[k], v, labels)
				}
			}
		}
	}
	logHas := func(s string) check {
		return func(t *testing.T, _ string, _ map[string]string, log string) {
			if !strings.Contains(log, s) {
				t.Errorf("log lacks %q:\n%s", s, log)
			}
		}
	}
	tests := []struct {
		name      string
		files     map[string]string
		settings  string
		buildArgs map[string]string
		secrets   map[string]string
		checks    []check
	}{
		{
			name:      "target stage with a build argument",
			files:     map[string]string{"Dockerfile": multiStage, "hello.txt": "hello"},
			settings:  `{"target": "a"}`,
			buildArgs: map[string]string{"GREETING": "hello"},
			checks: []check{
				label(map[string]string{"greeting": "hello", "stage": "a"}),
				exists(map[string]bool{"/hello.txt": true, "/copied.txt": false}),
				logHas("target stage: a"),
			},
		},
		{
			name:   "last stage",
			files:  map[string]string{"Dockerfile": multiStage, "hello.txt": "hello"},
			checks: []check{label(map[string]string{"stage": "b"}), exists(map[string]bool{"/copied.txt": true, "/hello.txt": false})},
		},
		{
			name:      "request build arguments override the settings'",
			files:     map[string]string{"Dockerfile": multiStage, "hello.txt": "hello"},
			settings:  `{"target": "a", "build_args": {"GREETING": "from-settings"}}`,
			buildArgs: map[string]string{"GREETING": "from-request"},
			checks:    []check{label(map[string]string{"greeting": "from-request"})},
		},
		{
			name: ".dockerignore",
			files: map[string]string{
				"Dockerfile":    "FROM scratch\nCOPY . /ctx/\n",
				".dockerignore": "secret.txt\n*.log\ndocs\n!docs/keep.md\nDockerfile\n",
				"keep.txt":      "k", "secret.txt": "s", "debug.log": "l", "docs/keep.md": "k", "docs/other.md": "o",
				"sub/secret.txt": "nested files are matched by their own path",
			},
			checks: []check{exists(map[string]bool{
				"/ctx/keep.txt": true, "/ctx/secret.txt": false, "/ctx/debug.log": false,
				"/ctx/docs/keep.md": true, "/ctx/docs/other.md": false, "/ctx/sub/secret.txt": true,
				// As with docker build: the engine drops an ignored Dockerfile.
				"/ctx/Dockerfile": false, "/ctx/.dockerignore": true,
			})},
		},
		{
			name: "context directory and a Dockerfile outside it with its own .dockerignore",
			files: map[string]string{
				"app/index.txt": "i", "app/private.txt": "p", "app/.dockerignore": "index.txt\n",
				"docker/web.Dockerfile":              "FROM scratch\nCOPY . /app/\n",
				"docker/web.Dockerfile.dockerignore": "private.txt\n",
			},
			settings: `{"context": "app", "dockerfile": "docker/web.Dockerfile"}`,
			checks:   []check{exists(map[string]bool{"/app/index.txt": true, "/app/private.txt": false})},
		},
		{
			name:     "Dockerfile in the context directory by default",
			files:    map[string]string{"app/Dockerfile": "FROM scratch\nCOPY x.txt /x.txt\n", "app/x.txt": "x"},
			settings: `{"context": "app"}`,
			checks:   []check{exists(map[string]bool{"/x.txt": true})},
		},
		{
			name:    "secrets are not passed by default",
			files:   map[string]string{"Dockerfile": "FROM scratch\nARG TOKEN\nLABEL token=\"t-$TOKEN\"\n"},
			secrets: map[string]string{"TOKEN": "s3cr3t-value"},
			checks:  []check{label(map[string]string{"token": "t-"}), logHas("1 build secret(s) not passed")},
		},
		{
			name:     "secrets as build arguments when the app opts in",
			files:    map[string]string{"Dockerfile": "FROM scratch\nARG TOKEN\nLABEL token=\"t-$TOKEN\"\n"},
			settings: `{"secrets_as_build_args": true}`,
			secrets:  map[string]string{"TOKEN": "s3cr3t-value"},
			checks:   []check{label(map[string]string{"token": "t-s3cr3t-value"}), logHas("passing build secrets TOKEN as build arguments")},
		},
		{
			name: "symbolic links are sent as links, never followed",
			files: map[string]string{
				"Dockerfile": "FROM scratch\nCOPY . /ctx/\n", "passwd": "->/etc/passwd", "up": "->../..",
			},
			checks: []check{func(t *testing.T, ref string, _ map[string]string, _ string) {
				got := imageFiles(t, cli, ref, "/ctx/passwd", "/ctx/up")
				// The engine reports link targets resolved inside the image.
				for p, target := range map[string]string{"/ctx/passwd": "/etc/passwd", "/ctx/up": "/"} {
					if st := got[p]; st == nil || st.Mode&os.ModeSymlink == 0 || st.LinkTarget != target {
						t.Errorf("%s = %+v, want a link to %s", p, st, target)
					}
				}
			}},
		},
	}
	b := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			writeTree(t, src, tt.files)
			ref := dockertest.ImageRef(t, cli, "dockerfile")
			var rec recorder
			cleanupLayers(t, cli, rec.text)
			r, err := b.Build(t.Context(), &sdk.BuildRequest{
				SourceDir: src, Settings: json.RawMessage(tt.settings), Image: ref, DockerHost: dockertest.Host(),
				BuildArgs: tt.buildArgs, Secrets: tt.secrets, Log: rec.log,
			})
			if err != nil {
				t.Fatalf("Build: %v\nlog:\n%s", err, rec.text())
			}
			if r.Image != ref || !strings.HasPrefix(r.Digest, "sha256:") {
				t.Errorf("Build = %+v, want image %s and a sha256 id", r, ref)
			}
			img, err := cli.ImageInspect(t.Context(), ref)
			if err != nil || img.ID != r.Digest {
				t.Errorf("image %s has id %s (%v), Build said %s", ref, img.ID, err, r.Digest)
			}
			log := rec.text()
			for _, v := range tt.secrets {
				if strings.Contains(log, v) {
					t.Errorf("the log shows a secret:\n%s", log)
				}
			}
			for _, c := range tt.checks {
				c(t, ref, imageLabels(t, cli, ref), log)
			}
		})
	}
}

func TestBuildFailures(t *testing.T) {
	cli := dockertest.EngineClient(t)
	tests := []struct {
		name     string
		files    map[string]string
		settings string
		want     string
	}{
		{"missing file", map[string]string{"Dockerfile": "FROM scratch\nCOPY missing.txt /\n"}, "", "missing.txt"},
		{"unknown instruction", map[string]string{"Dockerfile": "FROM scratch\nFETCH x\n"}, "", "unknown instruction: FETCH"},
		{"unknown target", map[string]string{"Dockerfile": multiStage, "hello.txt": "h"}, `{"target": "c"}`, "target c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			writeTree(t, src, tt.files)
			var rec recorder
			cleanupLayers(t, cli, rec.text)
			_, err := New().Build(t.Context(), &sdk.BuildRequest{
				SourceDir: src, Settings: json.RawMessage(tt.settings), Image: dockertest.ImageRef(t, cli, "failing"),
				DockerHost: dockertest.Host(), Log: rec.log,
			})
			var failed *dockerbuild.BuildFailedError
			if !errors.As(err, &failed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build = %v, want a *BuildFailedError mentioning %q", err, tt.want)
			}
			if !strings.Contains(rec.text(), failed.Message) {
				t.Errorf("the engine's error is not in the log:\n%s", rec.text())
			}
		})
	}
}

func TestBuildStreamsAndCancels(t *testing.T) {
	cli := dockertest.EngineClient(t)
	src := t.TempDir()
	buildSleeper(t, src)

	t.Run("lines arrive while the build runs", func(t *testing.T) {
		writeTree(t, src, map[string]string{"Dockerfile": "FROM scratch\nCOPY sleeper /sleeper\nRUN [\"/sleeper\", \"2s\"]\n"})
		var rec recorder
		cleanupLayers(t, cli, rec.text)
		_, err := New().Build(t.Context(), &sdk.BuildRequest{
			SourceDir: src, Image: dockertest.ImageRef(t, cli, "sleeper"), DockerHost: dockertest.Host(), Log: rec.log, Settings: json.RawMessage(`{"no_cache": true}`),
		})
		end := time.Now()
		if err != nil {
			t.Fatalf("Build: %v\n%s", err, rec.text())
		}
		first, ok1 := rec.firstAt("Step 1/3")
		done, ok2 := rec.firstAt("sleeper: done")
		if !ok1 || !ok2 {
			t.Fatalf("missing log lines:\n%s", rec.text())
		}
		if end.Sub(first) < 1500*time.Millisecond {
			t.Errorf("the first line came %s before the end of a 2s build: not streamed", end.Sub(first))
		}
		if done.Sub(first) < 1500*time.Millisecond {
			t.Errorf("the RUN step's lines came %s after the first: not streamed", done.Sub(first))
		}
	})

	t.Run("cancel stops the build", func(t *testing.T) {
		writeTree(t, src, map[string]string{"Dockerfile": "FROM scratch\nCOPY sleeper /sleeper\nRUN [\"/sleeper\", \"60s\"]\n"})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var rec recorder
		cleanupLayers(t, cli, rec.text)
		var cancelledAt time.Time
		done := make(chan error, 1)
		go func() {
			_, err := New().Build(ctx, &sdk.BuildRequest{
				SourceDir: src, Image: dockertest.ImageRef(t, cli, "cancelled"), DockerHost: dockertest.Host(), Settings: json.RawMessage(`{"no_cache": true}`),
				Log: func(l sdk.LogLine) {
					rec.log(l)
					if strings.Contains(l.Text, "sleeper: start") && cancelledAt.IsZero() {
						cancelledAt = time.Now()
						cancel()
					}
				},
			})
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Build = %v, want context.Canceled\n%s", err, rec.text())
			}
			t.Logf("Build returned %s after cancel", time.Since(cancelledAt))
		case <-time.After(45 * time.Second):
			t.Fatalf("Build still running 45s after cancel\n%s", rec.text())
		}
		// The engine stops the step: no container runs the sleeper.
		deadline := time.Now().Add(15 * time.Second)
		for {
			list, err := cli.ContainerList(t.Context(), container.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			running := false
			for _, c := range list {
				running = running || strings.Contains(c.Command, "/sleeper 60s")
			}
			if !running {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the build step still runs after cancel")
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

func TestBuildRefusesBadRequests(t *testing.T) {
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"Dockerfile": "FROM scratch\n"})
	tests := []struct {
		name      string
		settings  string
		image     string
		buildArgs map[string]string
		field     string
	}{
		{"context above the root", `{"context": "../x"}`, "", nil, "context"},
		{"context link out", `{"context": "out"}`, "", nil, "context"},
		{"absolute Dockerfile", `{"dockerfile": "/etc/passwd"}`, "", nil, "dockerfile"},
		{"Dockerfile link out", `{"dockerfile": "out/Dockerfile"}`, "", nil, "dockerfile"},
		{"missing Dockerfile", `{"dockerfile": "nope/Dockerfile"}`, "", nil, "dockerfile"},
		{"context is a file", `{"context": "Dockerfile"}`, "", nil, "context"},
		{"bad target", `{"target": "-x"}`, "", nil, "target"},
		{"bad build argument in settings", `{"build_args": {"A B": "x"}}`, "", nil, "build_args.A B"},
		{"bad build argument in request", ``, "", map[string]string{"1X": "x"}, "build_args.1X"},
		{"unknown setting", `{"dockerfiles": "x"}`, "", nil, "dockerfiles"},
		{"wrong type", `{"no_cache": "yes"}`, "", nil, "no_cache"},
		{"bad image name", ``, "Not A Name", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			writeTree(t, src, map[string]string{"Dockerfile": "FROM scratch\n", "out": "->" + outside})
			image := tt.image
			if image == "" {
				image = "berth-test/never-built:1"
			}
			_, err := New().Build(t.Context(), &sdk.BuildRequest{
				SourceDir: src, Settings: json.RawMessage(tt.settings), Image: image, BuildArgs: tt.buildArgs,
				DockerHost: "unix:///nonexistent.sock",
			})
			if !errors.Is(err, sdk.ErrInvalidArgument) {
				t.Fatalf("Build = %v, want sdk.ErrInvalidArgument", err)
			}
			var cfg *sdk.ConfigError
			if tt.field != "" && (!errors.As(err, &cfg) || cfg.Fields[0].Field != tt.field) {
				t.Errorf("Build = %v, want a field error on %q", err, tt.field)
			}
		})
	}
}

func TestBuildWithoutEngine(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"Dockerfile": "FROM scratch\n"})
	_, err := New().Build(t.Context(), &sdk.BuildRequest{SourceDir: src, Image: "berth-test/x:1", DockerHost: "unix:///nonexistent.sock"})
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Build without an engine = %v, want sdk.ErrUnavailable", err)
	}
}

func TestDetect(t *testing.T) {
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"Dockerfile": "FROM scratch\n"})
	tests := []struct {
		name  string
		files map[string]string
		want  bool
	}{
		{"Dockerfile", map[string]string{"Dockerfile": "FROM scratch\n"}, true},
		{"none", map[string]string{"index.html": "x"}, false},
		{"only in a subdirectory", map[string]string{"app/Dockerfile": "FROM scratch\n"}, false},
		{"directory named Dockerfile", map[string]string{"Dockerfile/x": "x"}, false},
		{"link out of the repository", map[string]string{"Dockerfile": "->" + filepath.Join(outside, "Dockerfile")}, false},
		{"link inside the repository", map[string]string{"Dockerfile": "->docker/Dockerfile", "docker/Dockerfile": "FROM scratch\n"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			writeTree(t, src, tt.files)
			r, err := New().Detect(t.Context(), &sdk.DetectRequest{SourceDir: src})
			if err != nil {
				t.Fatal(err)
			}
			if r.Detected != tt.want {
				t.Errorf("Detect = %v (%s), want %v", r.Detected, r.Reason, tt.want)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		settings, field string
	}{
		{`{}`, ""},
		{`{"memory_limit": "2g", "network_mode": "none"}`, ""},
		{`{"memory_limit": "lots"}`, "memory_limit"},
		{`{"memory_limit": "1k"}`, "memory_limit"},
		{`{"network_mode": "bridge2"}`, "network_mode"},
		{`{"memory": "2g"}`, "memory"},
	}
	for _, tt := range tests {
		_, err := New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var cfg *sdk.ConfigError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("Configure(%s) = %v", tt.settings, err)
		case tt.field != "" && (!errors.As(err, &cfg) || cfg.Fields[0].Field != tt.field):
			t.Errorf("Configure(%s) = %v, want a field error on %s", tt.settings, err, tt.field)
		}
	}
}
