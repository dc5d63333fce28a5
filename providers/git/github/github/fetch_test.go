package github

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

func TestFetchTranslatesCredentials(t *testing.T) {
	p, f, _ := setup(t)
	tests := []struct {
		name   string
		repo   string
		creds  *sdk.Credentials
		ref    string
		commit string
	}{
		{"owner/repo with a token", "octo-org/hello-world", tokenCreds(f, testToken), "feature", f.featureHead},
		{"clone URL with a token", f.srv.URL + "/octo-org/hello-world.git", tokenCreds(f, testToken), "main", f.mainHead},
		{"web URL with a token as password", f.srv.URL + "/octo-org/hello-world", &sdk.Credentials{BaseURL: f.apiURL(), Password: testToken}, "", f.mainHead},
		{"GitHub App installation", "octo-org/hello-world", appCreds(t, f), "refs/heads/feature", f.featureHead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs gitfixture.Log
			r, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: tt.repo, Ref: tt.ref, Dir: t.TempDir(), Credentials: tt.creds, Log: logs.Line})
			if err != nil {
				t.Fatalf("Fetch: %v\n%s", err, logs.String())
			}
			if r.Commit != tt.commit {
				t.Errorf("commit %s, want %s", r.Commit, tt.commit)
			}
			if all := logs.String(); strings.Contains(all, testToken) || strings.Contains(all, "ghs_") {
				t.Errorf("the log shows a token:\n%s", all)
			}
		})
	}
}

func TestFetchRefusals(t *testing.T) {
	p, f, _ := setup(t)
	tests := []struct {
		name  string
		repo  string
		creds *sdk.Credentials
		want  error
	}{
		{"wrong token", "octo-org/hello-world", tokenCreds(f, "ghp_wrong"), sdk.ErrUnauthenticated},
		{"no credentials for a private repository", "octo-org/hello-world", &sdk.Credentials{BaseURL: f.apiURL()}, sdk.ErrUnauthenticated},
		{"another host", "https://gitlab.example.com/octo-org/hello-world.git", tokenCreds(f, testToken), sdk.ErrInvalidArgument},
		{"local path", "/srv/git/hello-world.git", tokenCreds(f, testToken), sdk.ErrInvalidArgument},
		{"option injection", "--upload-pack=touch /tmp/pwned", tokenCreds(f, testToken), sdk.ErrInvalidArgument},
		{"three segments", "octo-org/hello-world/extra", tokenCreds(f, testToken), sdk.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: tt.repo, Dir: t.TempDir(), Credentials: tt.creds})
			if !errors.Is(err, tt.want) {
				t.Errorf("Fetch(%q) = %v, want %v", tt.repo, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}
