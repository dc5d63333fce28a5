package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/builders/dockerfile/dockerfile"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
	"github.com/berth-dev/berth/test/dockertest"
)

// suite returns the conformance suite, building a fresh image name that is
// removed with the test.
func suite(t *testing.T) plugintest.BuilderSuite {
	cli := dockertest.EngineClient(t)
	ref := dockertest.ImageRef(t, cli, "dockerfile-conformance")
	return plugintest.BuilderSuite{
		BaseSuite: plugintest.BaseSuite{
			Settings:        json.RawMessage(`{"memory_limit": "256m"}`),
			InvalidSettings: json.RawMessage(`{"network_mode": "everywhere"}`),
		},
		Source: func(t testing.TB, dir string) {
			files := map[string]string{
				"Dockerfile": "FROM scratch\nARG PLUGINTEST_ARG\nLABEL arg=$PLUGINTEST_ARG\nCOPY hello.txt /hello.txt\n",
				"hello.txt":  "hello",
			}
			for name, content := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		},
		Image:      ref,
		DockerHost: dockertest.Host(),
		CheckImage: func(t testing.TB, r *sdk.BuildResponse) {
			img, err := cli.ImageInspect(context.Background(), ref)
			if err != nil {
				t.Fatalf("the built image: %v", err)
			}
			if img.ID != r.Digest || !strings.HasPrefix(r.Digest, "sha256:") {
				t.Errorf("Digest = %q, image id %q", r.Digest, img.ID)
			}
			if img.Config.Labels["arg"] != "1" {
				t.Errorf("build argument PLUGINTEST_ARG did not reach the build: labels %v", img.Config.Labels)
			}
		},
	}
}

func TestConformance(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		plugintest.TestBuilder(t, plugintest.Builder(t, dockerfile.New()), suite(t))
	})
	t.Run("subprocess", func(t *testing.T) {
		bin := plugintest.BuildPlugin(t, ".")
		plugintest.TestBuilder(t, plugintest.Launch(t, bin).(sdk.Builder), suite(t))
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), dockerfile.New())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "builder.dockerfile" || len(d.AppSchema) == 0 {
		t.Errorf("Describe = %s with app schema %s", d.ID, d.AppSchema)
	}
}
