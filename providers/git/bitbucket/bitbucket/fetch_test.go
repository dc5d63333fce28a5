package bitbucket_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/providers/git/bitbucket/bitbuckettest"
	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

// TestFetchTranslatesCredentials fetches from a real repository served by
// git http-backend that, like Bitbucket, accepts an access token with the
// user x-token-auth, an app password with the username, and an API token
// with x-bitbucket-api-token-auth, and nothing else.
func TestFetchTranslatesCredentials(t *testing.T) {
	srv := bitbuckettest.NewServer(t, account)
	repo := srv.AddGitRepository("ws/app")
	p := provider(t, srv)
	secrets := []string{account.AccessToken, account.AppPassword, account.APIToken}

	for kind, creds := range credentialKinds(srv) {
		t.Run(kind, func(t *testing.T) {
			for _, c := range []struct{ repository, ref, want string }{
				{"ws/app", "main", repo.Main},
				{srv.URL + "/ws/app.git", "feature", repo.Feature},
				{srv.URL + "/ws/app/src/main/", "", repo.Main},
			} {
				var logs gitfixture.Log
				dir := t.TempDir()
				r, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: c.repository, Ref: c.ref, Dir: dir, Credentials: creds, Log: logs.Line})
				if err != nil {
					t.Fatalf("Fetch(%s, %q): %v\n%s", c.repository, c.ref, err, logs.String())
				}
				if r.Commit != c.want {
					t.Errorf("Fetch(%s, %q) = %s, want %s", c.repository, c.ref, r.Commit, c.want)
				}
				if _, err := os.Stat(filepath.Join(dir, "README")); err != nil {
					t.Errorf("Fetch(%s) left no checkout: %v", c.repository, err)
				}
				for _, secret := range secrets {
					if strings.Contains(logs.String(), secret) {
						t.Errorf("the fetch log shows a secret:\n%s", logs.String())
					}
				}
			}
		})
	}

	for name, creds := range map[string]*sdk.Credentials{
		"wrong access token": {Token: "wrong"},
		"wrong app password": {Username: account.Username, Password: "wrong"},
		"API token with a username that is not the account's": {Username: "someone-else", Password: account.APIToken},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: "ws/app", Ref: "main", Dir: t.TempDir(), Credentials: creds})
			if !errors.Is(err, sdk.ErrUnauthenticated) {
				t.Errorf("Fetch = %v, want sdk.ErrUnauthenticated", err)
			}
		})
	}

	creds := &sdk.Credentials{Token: account.AccessToken}
	for _, bad := range []string{
		"https://evil.example.com/ws/app.git",
		"git@evil.example.com:ws/app.git",
		"ssh://git@evil.example.com/ws/app.git",
		repo.Path,
		"ws/app/extra",
		"ws",
		"-ws/app",
	} {
		_, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: bad, Dir: t.TempDir(), Credentials: creds})
		if !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Fetch(%q) = %v, want sdk.ErrInvalidArgument", bad, err)
		}
	}
}
