package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/providers/git/generic/generic"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// repository creates a bare repository with two commits on main and a
// branch, and returns its path and the head of main.
func repository(t *testing.T) (bare, head string) {
	t.Helper()
	root := t.TempDir()
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+root)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	bare = filepath.Join(root, "app.git")
	work := filepath.Join(root, "work")
	git(root, "init", "-q", "--bare", bare)
	git(root, "init", "-q", work)
	for _, content := range []string{"one", "two"} {
		if err := os.WriteFile(filepath.Join(work, "README"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		git(work, "add", "README")
		git(work, "commit", "-q", "-m", "commit "+content)
	}
	git(work, "branch", "feature")
	git(work, "push", "-q", bare, "main", "feature")
	return bare, git(work, "rev-parse", "HEAD")
}

func suite(t *testing.T) plugintest.GitProviderSuite {
	bare, head := repository(t)
	settings, err := json.Marshal(generic.Settings{Repositories: []string{bare}})
	if err != nil {
		t.Fatal(err)
	}
	return plugintest.GitProviderSuite{
		BaseSuite: plugintest.BaseSuite{
			Settings:        settings,
			InvalidSettings: json.RawMessage(`{"repositories": ["--upload-pack=touch /tmp/pwned"]}`),
		},
		Repository: bare,
		Ref:        "main",
		WantCommit: head,
	}
}

func TestConformance(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		plugintest.TestGitProvider(t, plugintest.GitProvider(t, generic.New()), suite(t))
	})
	t.Run("subprocess", func(t *testing.T) {
		bin := plugintest.BuildPlugin(t, ".")
		plugintest.TestGitProvider(t, plugintest.Launch(t, bin).(sdk.GitProvider), suite(t))
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), generic.New())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "git.generic" || d.Kind != sdk.KindGit || d.Name != "generic" {
		t.Errorf("Describe = %s (%s, %s), want git.generic", d.ID, d.Kind, d.Name)
	}
}
