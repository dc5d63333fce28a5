package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/berth-dev/berth/builders/paketo/paketo"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
	"github.com/berth-dev/berth/test/buildpacks/cnbtest"
	"github.com/berth-dev/berth/test/dockertest"
)

// suite returns the conformance suite: the plugin's default builder is the
// offline test builder (instance setting default_builder).
func suite(t *testing.T) plugintest.BuilderSuite {
	cli := dockertest.EngineClient(t)
	im := cnbtest.Fixtures(t, cli)
	repo := dockertest.UniqueName("berth-test/paketo-conformance-")
	cnbtest.Cleanup(t, cli, repo)
	settings, _ := json.Marshal(map[string]any{"default_builder": im.Builder, "memory_limit": "1g"})
	return plugintest.BuilderSuite{
		BaseSuite: plugintest.BaseSuite{
			Settings:        settings,
			InvalidSettings: json.RawMessage(`{"trusted_builders": ["[bad"]}`),
		},
		Source:     func(t testing.TB, dir string) { cnbtest.App(t, dir) },
		Image:      repo + ":1",
		DockerHost: dockertest.Host(),
		CheckImage: func(t testing.TB, r *sdk.BuildResponse) {
			if got := cnbtest.Get(t, cli, r.Image, "/conformance", "MESSAGE=paketo"); got != "paketo /conformance" {
				t.Errorf("the built app answers %q", got)
			}
			if !strings.HasPrefix(r.Digest, "sha256:") {
				t.Errorf("Digest = %q", r.Digest)
			}
		},
	}
}

func TestConformance(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		plugintest.TestBuilder(t, plugintest.Builder(t, paketo.New()), suite(t))
	})
	t.Run("subprocess", func(t *testing.T) {
		bin := plugintest.BuildPlugin(t, ".")
		plugintest.TestBuilder(t, plugintest.Launch(t, bin).(sdk.Builder), suite(t))
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), paketo.New())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != paketo.ID || len(d.AppSchema) == 0 || len(d.ConfigSchema) == 0 {
		t.Errorf("Describe = %s with app schema %s", d.ID, d.AppSchema)
	}
	for _, c := range d.Capabilities {
		if c == sdk.CapBuildSecrets {
			t.Errorf("the plugin claims build secrets, which CNB does not have")
		}
	}
}
