package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/builders/nixpacks/nixpacks"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
	"github.com/berth-dev/berth/test/dockertest"
	"github.com/berth-dev/berth/test/nixpacks"
)

// suite returns the conformance suite with the stand-in nixpacks.
func suite(t *testing.T) plugintest.BuilderSuite {
	cli := dockertest.EngineClient(t)
	ref := dockertest.ImageRef(t, cli, "nixpacks-conformance")
	base := nixpackstest.BaseImage(t)
	settings, _ := json.Marshal(map[string]string{"path": nixpackstest.StandIn(t)})
	return plugintest.BuilderSuite{
		BaseSuite: plugintest.BaseSuite{
			Settings:        settings,
			InvalidSettings: json.RawMessage(`{"path": "bin/nixpacks"}`),
		},
		Source: func(t testing.TB, dir string) {
			config := "buildImage = '" + base + "'\n[start]\ncmd = 'cat hello.txt'\n"
			for name, content := range map[string]string{"nixpacks.toml": config, "hello.txt": "hello"} {
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
			if !strings.Contains(strings.Join(img.Config.Env, " "), "PLUGINTEST_ARG=1") {
				t.Errorf("build argument PLUGINTEST_ARG did not reach the build: env %v", img.Config.Env)
			}
		},
	}
}

func TestConformance(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		plugintest.TestBuilder(t, plugintest.Builder(t, nixpacks.New()), suite(t))
	})
	t.Run("subprocess", func(t *testing.T) {
		bin := plugintest.BuildPlugin(t, ".")
		plugintest.TestBuilder(t, plugintest.Launch(t, bin).(sdk.Builder), suite(t))
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), nixpacks.New())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "builder.nixpacks" || len(d.AppSchema) == 0 {
		t.Errorf("Describe = %s with app schema %s", d.ID, d.AppSchema)
	}
}
