package gitea

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

func TestFetchTranslatesCredentials(t *testing.T) {
	f := newFakeGitea(t)
	p := New()
	tests := []struct {
		name   string
		repo   string
		creds  *sdk.Credentials
		ref    string
		commit string
	}{
		{"owner/repo with a token", "team/webhooks", f.creds(testToken), "feature", f.featureHead},
		{"clone URL with a token and a user name", f.srv.URL + "/team/webhooks.git", &sdk.Credentials{BaseURL: f.srv.URL, Username: testUser, Token: testToken}, "main", f.mainHead},
		{"web URL with a password", f.srv.URL + "/team/webhooks", &sdk.Credentials{BaseURL: f.srv.URL + "/api/v1", Username: testUser, Password: testPassword}, "", f.mainHead},
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
			if all := logs.String(); strings.Contains(all, testToken) || strings.Contains(all, testPassword) {
				t.Errorf("the log shows a secret:\n%s", all)
			}
		})
	}
}

func TestFetchRefusals(t *testing.T) {
	f := newFakeGitea(t)
	tests := []struct {
		name  string
		repo  string
		creds *sdk.Credentials
		want  error
	}{
		{"wrong token", "team/webhooks", f.creds("wrong"), sdk.ErrUnauthenticated},
		{"no credentials", "team/webhooks", &sdk.Credentials{BaseURL: f.srv.URL}, sdk.ErrUnauthenticated},
		{"another host", "https://github.com/team/webhooks.git", f.creds(testToken), sdk.ErrInvalidArgument},
		{"local path", "/var/lib/gitea/repositories/team/webhooks.git", f.creds(testToken), sdk.ErrInvalidArgument},
		{"option injection", "-uhttps://evil/x", f.creds(testToken), sdk.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().Fetch(t.Context(), &sdk.FetchRequest{Repository: tt.repo, Dir: t.TempDir(), Credentials: tt.creds})
			if !errors.Is(err, tt.want) {
				t.Errorf("Fetch(%q) = %v, want %v", tt.repo, err, tt.want)
			}
		})
	}
}
