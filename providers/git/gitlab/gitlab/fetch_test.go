package gitlab_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/providers/git/gitlab/gitlab"
	"github.com/berth-dev/berth/providers/git/gitlab/gitlabtest"
	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

// TestFetchTranslatesCredentials fetches from a real repository served by
// git http-backend that, like GitLab, accepts the user "oauth2" with the
// token as password, and nothing else.
func TestFetchTranslatesCredentials(t *testing.T) {
	srv := gitlabtest.NewServer(t, token)
	repo := srv.AddRepository("group/subgroup/app")
	p, creds := connect(srv)

	for _, c := range []struct {
		repository, ref, want string
		creds                 *sdk.Credentials
	}{
		{"group/subgroup/app", "main", repo.Main, creds},
		{srv.URL + "/group/subgroup/app.git", "feature", repo.Feature, creds},
		{srv.URL + "/group/subgroup/app/-/tree/feature", "", repo.Main, creds},
		// A token given as the password works the same.
		{"group/subgroup/app", "feature", repo.Feature, &sdk.Credentials{Password: token, BaseURL: srv.URL}},
	} {
		var logs gitfixture.Log
		dir := t.TempDir()
		r, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: c.repository, Ref: c.ref, Dir: dir, Credentials: c.creds, Log: logs.Line})
		if err != nil {
			t.Fatalf("Fetch(%s, %q): %v\n%s", c.repository, c.ref, err, logs.String())
		}
		if r.Commit != c.want {
			t.Errorf("Fetch(%s, %q) = %s, want %s", c.repository, c.ref, r.Commit, c.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "README")); err != nil {
			t.Errorf("Fetch(%s) left no checkout: %v", c.repository, err)
		}
		if strings.Contains(logs.String(), token) {
			t.Errorf("the fetch log shows the token:\n%s", logs.String())
		}
	}

	t.Run("wrong token", func(t *testing.T) {
		_, err := p.Fetch(t.Context(), &sdk.FetchRequest{
			Repository: "group/subgroup/app", Ref: "main", Dir: t.TempDir(),
			Credentials: &sdk.Credentials{Token: "wrong-" + token, BaseURL: srv.URL},
		})
		if !errors.Is(err, sdk.ErrUnauthenticated) {
			t.Errorf("Fetch(wrong token) = %v, want sdk.ErrUnauthenticated", err)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("the error shows the token: %v", err)
		}
	})

	t.Run("missing branch", func(t *testing.T) {
		_, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: "group/subgroup/app", Ref: "nope", Dir: t.TempDir(), Credentials: creds})
		if !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Fetch(missing branch) = %v, want sdk.ErrNotFound", err)
		}
	})

	// The token only ever goes to the connection's host.
	for _, bad := range []string{
		"https://evil.example.com/group/app.git",
		"http://127.0.0.2:1/group/app.git",
		"git@evil.example.com:group/app.git",
		repo.Path,
		"file://" + repo.Path,
		"app",
		"group/../app",
		"--upload-pack=touch /tmp/x",
		strings.Replace(srv.URL, "://", "://oauth2:"+token+"@", 1) + "/group/app.git",
	} {
		_, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: bad, Dir: t.TempDir(), Credentials: creds})
		if !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Fetch(%q) = %v, want sdk.ErrInvalidArgument", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

func TestFetchPublicWithoutCredentials(t *testing.T) {
	srv := gitlabtest.NewServer(t, token)
	srv.AddRepository("group/app")
	// The fake requires the token for git too: without credentials the
	// fetch is refused, as for a private project.
	_, err := gitlab.New().Fetch(t.Context(), &sdk.FetchRequest{
		Repository: srv.URL + "/group/app.git", Ref: "main", Dir: t.TempDir(), Credentials: &sdk.Credentials{BaseURL: srv.URL},
	})
	if !errors.Is(err, sdk.ErrUnauthenticated) {
		t.Errorf("Fetch(no token) = %v, want sdk.ErrUnauthenticated", err)
	}
}
