package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/builders/static/static"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
	"github.com/berth-dev/berth/test/dockertest"
)

// suite returns the conformance suite with a fresh image name, removed with
// the test.
func suite(t *testing.T) plugintest.BuilderSuite {
	cli := dockertest.EngineClient(t)
	ref := dockertest.ImageRef(t, cli, "static-conformance")
	return plugintest.BuilderSuite{
		BaseSuite: plugintest.BaseSuite{
			Settings:        json.RawMessage(`{"network_mode": "none"}`),
			InvalidSettings: json.RawMessage(`{"build_image": "no spaces allowed"}`),
		},
		Source: func(t testing.TB, dir string) {
			for name, content := range map[string]string{"public/index.html": "<h1>hi</h1>", "public/app.css": "body{}"} {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		},
		AppSettings: json.RawMessage(`{"spa": true}`),
		Image:       ref,
		DockerHost:  dockertest.Host(),
		CheckImage: func(t testing.TB, r *sdk.BuildResponse) {
			img, err := cli.ImageInspect(context.Background(), ref)
			if err != nil || img.ID != r.Digest {
				t.Errorf("image %s: id %s (%v), Build said %s", ref, img.ID, err, r.Digest)
			}
		},
	}
}

// staticBinary builds this plugin with CGO_ENABLED=0, as berth ships it.
func staticBinary(t *testing.T) string {
	t.Helper()
	t.Setenv("CGO_ENABLED", "0")
	return plugintest.BuildPlugin(t, ".")
}

func TestConformance(t *testing.T) {
	bin := staticBinary(t)
	t.Run("in-process", func(t *testing.T) {
		plugintest.TestBuilder(t, plugintest.Builder(t, &static.Builder{ServerBinary: bin}), suite(t))
	})
	t.Run("subprocess", func(t *testing.T) {
		plugintest.TestBuilder(t, plugintest.Launch(t, bin).(sdk.Builder), suite(t))
	})
}

func TestBinaryIsTheServer(t *testing.T) {
	bin := staticBinary(t)
	out, err := exec.Command(bin, "healthcheck", "--port", "1", "--timeout", "1s").CombinedOutput()
	if code := exitCode(err); code != 1 {
		t.Errorf("healthcheck with nothing listening exited %d (%s), want 1", code, out)
	}
	d, err := sdk.DescribeBinary(t.Context(), bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "builder.static" {
		t.Errorf("describe: id %s", d.ID)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}
