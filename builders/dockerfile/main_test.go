package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/berth-dev/berth/builders/dockerfile/dockerfile"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func dockerHost() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "unix:///var/run/docker.sock"
}

// suite returns the conformance suite, building a fresh image name that is
// removed with the test.
func suite(t *testing.T) plugintest.BuilderSuite {
	cli, err := client.NewClientWithOpts(client.WithHost(dockerHost()), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		t.Fatalf("the conformance suite needs a Docker Engine at %s (run `make deps`): %v", dockerHost(), err)
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	ref := "berth-test/dockerfile-conformance-" + hex.EncodeToString(r[:]) + ":latest"
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true, PruneChildren: true})
	})
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
		DockerHost: dockerHost(),
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
