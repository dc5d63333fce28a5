package cnb_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"

	"github.com/berth-dev/berth/builders/internal/cnb"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/test/buildpacks/cnbtest"
	"github.com/berth-dev/berth/test/dockertest"
)

// newBuilder is a CNB builder whose default builder is the test builder.
func newBuilder(t *testing.T, im cnbtest.Images) *cnb.Builder {
	return cnb.NewBuilder(cnb.Flavor{ID: "builder.cnbtest", Version: "0.0.1", Name: "CNB test", DefaultBuilder: im.Builder, Markers: cnb.CommonMarkers})
}

// repo is a fresh image repository whose images and cache volumes are
// removed when the test ends.
func repo(t *testing.T, cli *client.Client, what string) string {
	r := dockertest.UniqueName("berth-test/cnb-" + what + "-")
	cnbtest.Cleanup(t, cli, r)
	return r
}

func TestBuildRunsAndReusesTheCache(t *testing.T) {
	cli := dockertest.EngineClient(t)
	im := cnbtest.Fixtures(t, cli)
	b := newBuilder(t, im)
	src := t.TempDir()
	cnbtest.App(t, src)
	r := repo(t, cli, "app")

	build := func(tag string) (time.Duration, string) {
		var rec cnbtest.Recorder
		start := time.Now()
		res, err := b.Build(t.Context(), &sdk.BuildRequest{
			SourceDir: src, Image: r + ":" + tag, DockerHost: dockertest.Host(), Log: rec.Log,
			Env:      map[string]string{"GREETING": "from-app-env"},
			Settings: json.RawMessage(`{"build_env": {"GREETING": "from-build-env", "DEPS_INSTALL_SECONDS": "8"}}`),
			Secrets:  map[string]string{"TOKEN": "s3cr3t-value"},
		})
		took := time.Since(start)
		if err != nil {
			t.Fatalf("Build %s: %v\n%s", tag, err, rec.Text())
		}
		if img, err := cli.ImageInspect(t.Context(), r+":"+tag); err != nil || img.ID != res.Digest {
			t.Fatalf("image %s: %v, id %s, Build said %s", tag, err, img.ID, res.Digest)
		}
		log := rec.Text()
		for _, want := range []string{"===> DETECTING", "berth-test/procfile", "procfile: process web: ./backend",
			"GREETING=from-build-env", "1 build secret(s) not passed", "build environment: DEPS_INSTALL_SECONDS, GREETING"} {
			if !strings.Contains(log, want) {
				t.Errorf("build %s: the log lacks %q:\n%s", tag, want, log)
			}
		}
		if strings.Contains(log, "s3cr3t-value") {
			t.Errorf("the log shows a secret")
		}
		return took, log
	}
	first, log1 := build("1")
	if !strings.Contains(log1, "deps: installing dependencies") {
		t.Errorf("the first build did not install the dependencies:\n%s", log1)
	}
	if got := cnbtest.Get(t, cli, r+":1", "/hello", "MESSAGE=cnb-v1"); got != "cnb-v1 /hello" {
		t.Errorf("the built app answers %q", got)
	}
	// A one-line change of the app: the dependencies' layer comes from the
	// cache volume.
	cnbtest.Write(t, src, map[string]string{"README.md": "version 2\n"})
	second, log2 := build("2")
	if !strings.Contains(log2, "deps: reusing cached dependencies") {
		t.Errorf("the rebuild did not reuse the cached layer:\n%s", log2)
	}
	t.Logf("first build %s, rebuild after a one-line change %s", first.Round(time.Millisecond), second.Round(time.Millisecond))
	if second >= first-4*time.Second {
		t.Errorf("the rebuild took %s, the first build %s: the cache saved less than half the 8 s install", second, first)
	}
	if got := cnbtest.Get(t, cli, r+":2", "/", "MESSAGE=cnb-v2"); got != "cnb-v2 /" {
		t.Errorf("the rebuilt app answers %q", got)
	}
	if n := len(cnbtest.BuildContainers(t, cli, r+":2")); n != 0 {
		t.Errorf("%d lifecycle containers left", n)
	}
}

func TestBuildFailures(t *testing.T) {
	cli := dockertest.EngineClient(t)
	im := cnbtest.Fixtures(t, cli)
	b := newBuilder(t, im)
	tests := []struct {
		name     string
		files    map[string]string
		settings string
		want     []string
	}{
		{"a buildpack fails", map[string]string{"Procfile": "web: ./x\n", "deps.lock": "x\n", "fail-build": "the lock file is corrupt"}, "",
			[]string{"deps: the lock file is corrupt", "ERROR: failed to build"}},
		{"no buildpack detects the app", map[string]string{"index.html": "x"}, "", []string{"ERROR: failed to detect"}},
		{"a chosen buildpack does not detect", map[string]string{"deps.lock": "x"}, `{"buildpacks": ["berth-test/procfile"]}`, []string{"ERROR: failed to detect"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			cnbtest.Write(t, src, tt.files)
			ref := repo(t, cli, "fail") + ":1"
			var rec cnbtest.Recorder
			_, err := b.Build(t.Context(), &sdk.BuildRequest{SourceDir: src, Image: ref, DockerHost: dockertest.Host(), Log: rec.Log, Settings: json.RawMessage(tt.settings)})
			var failed *cnb.FailedError
			if !errors.As(err, &failed) {
				t.Fatalf("Build = %v, want a *FailedError\n%s", err, rec.Text())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q\n%s", err, w, rec.Text())
				}
			}
			if n := len(cnbtest.BuildContainers(t, cli, ref)); n != 0 {
				t.Errorf("%d lifecycle containers left", n)
			}
		})
	}
}

func TestBuildChosenBuildpacks(t *testing.T) {
	cli := dockertest.EngineClient(t)
	im := cnbtest.Fixtures(t, cli)
	src := t.TempDir()
	cnbtest.App(t, src)
	ref := repo(t, cli, "order") + ":1"
	var rec cnbtest.Recorder
	_, err := newBuilder(t, im).Build(t.Context(), &sdk.BuildRequest{SourceDir: src, Image: ref, DockerHost: dockertest.Host(), Log: rec.Log,
		Settings: json.RawMessage(`{"buildpacks": ["berth-test/procfile"]}`)})
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, rec.Text())
	}
	if log := rec.Text(); strings.Contains(log, "deps: installing") || !strings.Contains(log, "buildpacks: berth-test/procfile") {
		t.Errorf("the deps buildpack ran though only procfile was chosen:\n%s", log)
	}
}

func TestBuildCancel(t *testing.T) {
	cli := dockertest.EngineClient(t)
	im := cnbtest.Fixtures(t, cli)
	src := t.TempDir()
	cnbtest.App(t, src)
	ref := repo(t, cli, "cancel") + ":1"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var cancelledAt time.Time
	rec := &cnbtest.Recorder{}
	rec.On = func(l sdk.LogLine) {
		if strings.Contains(l.Text, "deps: installing... 1/") && cancelledAt.IsZero() {
			cancelledAt = time.Now()
			cancel()
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := newBuilder(t, im).Build(ctx, &sdk.BuildRequest{SourceDir: src, Image: ref, DockerHost: dockertest.Host(), Log: rec.Log,
			Settings: json.RawMessage(`{"build_env": {"DEPS_INSTALL_SECONDS": "60"}}`)})
		done <- err
	}()
	select {
	case err := <-done:
		took := time.Since(cancelledAt)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Build = %v, want context.Canceled\n%s", err, rec.Text())
		}
		t.Logf("Build returned %s after cancel", took)
		// About 0.9 s here: the engine's kill and removal of the container;
		// on this shared 2-core machine under load they alone take longer.
		if took > 2*time.Second {
			t.Errorf("Build returned %s after cancel, want about a second", took)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("Build still running 90 s after cancel\n%s", rec.Text())
	}
	if n := len(cnbtest.BuildContainers(t, cli, ref)); n != 0 {
		t.Errorf("%d lifecycle containers left after cancel", n)
	}
}

func TestBuildRefusesBadRequests(t *testing.T) {
	cli := dockertest.EngineClient(t)
	im := cnbtest.Fixtures(t, cli)
	src := t.TempDir()
	cnbtest.Write(t, src, map[string]string{"Procfile": "web: x"})
	tests := []struct {
		name, settings, field string
		env                   map[string]string
	}{
		{"untrusted builder", `{"builder_image": "evil/builder:1"}`, "builder_image", nil},
		{"bad builder reference", `{"builder_image": "Not A Ref"}`, "builder_image", nil},
		{"bad run image", `{"run_image": "::"}`, "run_image", nil},
		{"bad build env name", `{"build_env": {"A-B": "x"}}`, "build_env.A-B", nil},
		{"bad app env name", ``, "env.1X", map[string]string{"1X": "x"}},
		{"bad buildpack", `{"buildpacks": ["a b"]}`, "buildpacks.0", nil},
		{"unknown setting", `{"builder": "x"}`, "builder", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newBuilder(t, im).Build(t.Context(), &sdk.BuildRequest{SourceDir: src, Image: "berth-test/never:1", DockerHost: "unix:///nonexistent.sock",
				Settings: json.RawMessage(tt.settings), Env: tt.env, Log: func(sdk.LogLine) {}})
			var cfg *sdk.ConfigError
			if !errors.Is(err, sdk.ErrInvalidArgument) || !errors.As(err, &cfg) || cfg.Fields[0].Field != tt.field {
				t.Fatalf("Build = %v, want a field error on %s", err, tt.field)
			}
		})
	}
	t.Run("a buildpack not in the builder", func(t *testing.T) {
		_, err := newBuilder(t, im).Build(t.Context(), &sdk.BuildRequest{SourceDir: src, Image: "berth-test/never:1", DockerHost: dockertest.Host(),
			Settings: json.RawMessage(`{"buildpacks": ["heroku/nodejs"]}`), Log: func(sdk.LogLine) {}})
		if !errors.Is(err, sdk.ErrInvalidArgument) || !strings.Contains(err.Error(), "heroku/nodejs is not in the builder image") {
			t.Fatalf("Build = %v", err)
		}
	})
}

// TestBuildChecksTheEngine builds, on the real engine, a builder image that
// claims lifecycle 0.21.5, which needs Engine API 1.44.
func TestBuildChecksTheEngine(t *testing.T) {
	cli := dockertest.EngineClient(t)
	im := cnbtest.Fixtures(t, cli)
	ver, err := cli.ServerVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ver.APIVersion >= "1.44" {
		t.Fatalf("this test needs an engine older than API 1.44; this one speaks %s", ver.APIVersion)
	}
	old := dockertest.ImageRef(t, cli, "cnb-old-lifecycle")
	meta := `{"images":[{"image":"` + im.Run + `"}],"lifecycle":{"version":"0.21.5","apis":{"platform":{"supported":["0.12","0.13"]}}}}`
	buildImage(t, cli, fmt.Sprintf("FROM %s\nLABEL %s=%q\n", im.Builder, cnb.MetadataLabel, meta), old)
	src := t.TempDir()
	cnbtest.App(t, src)
	b := cnb.NewBuilder(cnb.Flavor{ID: "builder.cnbtest", Name: "CNB test", DefaultBuilder: old})
	_, err = b.Build(t.Context(), &sdk.BuildRequest{SourceDir: src, Image: repo(t, cli, "old") + ":1", DockerHost: dockertest.Host(), Log: func(sdk.LogLine) {}})
	if err == nil || !strings.Contains(err.Error(), "lifecycle 0.21.5 cannot work with this Docker Engine (API "+ver.APIVersion+")") {
		t.Fatalf("Build = %v, want the lifecycle/engine mismatch", err)
	}
	t.Logf("Build: %v", err)
}

// buildImage builds a one-file context (dockerfile) as tag.
func buildImage(t *testing.T, cli *client.Client, dockerfile, tag string) {
	t.Helper()
	var ctx bytes.Buffer
	tw := tar.NewWriter(&ctx)
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(dockerfile)); err != nil || tw.Close() != nil {
		t.Fatal(err)
	}
	resp, err := cli.ImageBuild(t.Context(), &ctx, build.ImageBuildOptions{Tags: []string{tag}, Remove: true, Version: build.BuilderV1})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(out), `"error"`) {
		t.Fatalf("building %s: %s", tag, out)
	}
}
