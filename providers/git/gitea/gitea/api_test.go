package gitea

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

func TestListRepositoriesFollowsPages(t *testing.T) {
	f := newFakeGitea(t)
	p := New()
	for name, creds := range map[string]*sdk.Credentials{
		"token":    f.creds(testToken),
		"password": {Username: testUser, Password: testPassword, BaseURL: f.srv.URL},
	} {
		t.Run(name, func(t *testing.T) {
			var got []string
			token, pages := "", 0
			for {
				r, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: creds, PageSize: 3, PageToken: token})
				if err != nil {
					t.Fatalf("page %d: %v", pages+1, err)
				}
				pages++
				for _, repo := range r.Repositories {
					got = append(got, repo.FullName)
				}
				if r.NextPageToken == "" {
					break
				}
				if !strings.HasPrefix(r.NextPageToken, f.srv.URL+"/api/v1/user/repos?") {
					t.Fatalf("NextPageToken %q is not the Link rel=next URL", r.NextPageToken)
				}
				token = r.NextPageToken
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
			}
			if pages != 3 || strings.Join(got, ",") != strings.Join(fakeRepos, ",") {
				t.Errorf("%d pages of %v, want 3 pages of %v", pages, got, fakeRepos)
			}
		})
	}
	r, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: f.creds(testToken), Query: "TEAM/"})
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Repository{FullName: "team/api", CloneURL: f.srv.URL + "/team/api.git", WebURL: f.srv.URL + "/team/api", DefaultBranch: "main", Private: true}
	if len(r.Repositories) != 3 || r.Repositories[0] != want {
		t.Errorf("query team/: %+v, want 3 repositories starting with %+v", r.Repositories, want)
	}
	for _, token := range []string{
		"https://evil.example/api/v1/user/repos?page=2",
		f.srv.URL + "/api/v1/admin/users?page=2",
		f.srv.URL + "/user/repos?page=2",
	} {
		if _, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: f.creds(testToken), PageToken: token}); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("PageToken %q: %v, want sdk.ErrInvalidArgument", token, err)
		}
	}
	if _, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: &sdk.Credentials{BaseURL: f.srv.URL}}); !errors.Is(err, sdk.ErrUnauthenticated) {
		t.Errorf("without credentials: %v, want sdk.ErrUnauthenticated", err)
	}
}

func TestListBranchesFollowsPagesAndMarksDefault(t *testing.T) {
	f := newFakeGitea(t)
	for _, repo := range []string{"team/webhooks", f.srv.URL + "/team/webhooks.git", f.srv.URL + "/api/v1/../team/webhooks"} {
		r, err := New().ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: repo, Credentials: f.creds(testToken)})
		if strings.Contains(repo, "/api/v1/") {
			if !errors.Is(err, sdk.ErrInvalidArgument) {
				t.Errorf("ListBranches(%q) = %v, want sdk.ErrInvalidArgument", repo, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ListBranches(%q): %v", repo, err)
		}
		want := []sdk.Branch{
			{Name: "develop", Commit: f.mainHead},
			{Name: "docs", Commit: f.mainHead},
			{Name: "feature", Commit: f.featureHead},
			{Name: "main", Commit: f.mainHead, Default: true},
			{Name: "release/1.x", Commit: f.mainHead},
		}
		if len(r.Branches) != len(want) {
			t.Fatalf("branches %+v, want %+v", r.Branches, want)
		}
		for i := range want {
			if r.Branches[i] != want[i] {
				t.Errorf("branch %d = %+v, want %+v", i, r.Branches[i], want[i])
			}
		}
	}
}

func TestSetCommitStatusBody(t *testing.T) {
	f := newFakeGitea(t)
	p := New()
	tests := []struct {
		req  sdk.SetCommitStatusRequest
		want string
	}{
		{
			sdk.SetCommitStatusRequest{State: sdk.CommitFailure, Context: "berth/deploy", Description: "Build failed", TargetURL: "https://berth.example.com/d/9"},
			`{"context":"berth/deploy","description":"Build failed","state":"failure","target_url":"https://berth.example.com/d/9"}`,
		},
		{
			sdk.SetCommitStatusRequest{State: sdk.CommitError, Description: strings.Repeat("x", 300)},
			`{"context":"berth","description":"` + strings.Repeat("x", 254) + `…","state":"error"}`,
		},
	}
	for i, tt := range tests {
		req := tt.req
		req.Repository, req.Commit, req.Credentials = "team/webhooks", f.mainHead, f.creds(testToken)
		if _, err := p.SetCommitStatus(t.Context(), &req); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		got, _ := json.Marshal(f.statuses[i])
		f.mu.Unlock()
		if string(got) != tt.want {
			t.Errorf("status body %s, want %s", got, tt.want)
		}
	}
	bad := sdk.SetCommitStatusRequest{Repository: "team/webhooks", Commit: "HEAD", State: sdk.CommitSuccess, Credentials: f.creds(testToken)}
	if _, err := p.SetCommitStatus(t.Context(), &bad); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("commit HEAD: %v, want sdk.ErrInvalidArgument", err)
	}
}

func TestAPIErrorsAreMapped(t *testing.T) {
	f := newFakeGitea(t)
	p := New()
	tests := []struct {
		name  string
		repo  string
		creds *sdk.Credentials
		kind  error
		parts []string
	}{
		{"401", "team/webhooks", f.creds("revoked"), sdk.ErrUnauthenticated, []string{"gitea: token rejected (401)", "user does not exist"}},
		{"404", "team/missing", f.creds(testToken), sdk.ErrNotFound, []string{"not found (404)", "/api/v1/repos/team/missing", "The target couldn't be found."}},
		{"private repository anonymously", "team/webhooks", &sdk.Credentials{BaseURL: f.srv.URL}, sdk.ErrNotFound, []string{"not found (404)"}},
		{"500", "team/broken", f.creds(testToken), sdk.ErrUnavailable, []string{"server error (500 Internal Server Error)", "database is locked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: tt.repo, Credentials: tt.creds})
			if !errors.Is(err, tt.kind) {
				t.Fatalf("error %v, want %v", err, tt.kind)
			}
			for _, part := range tt.parts {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct{ base, api, web string }{
		{"", "https://gitea.com/api/v1", "https://gitea.com"},
		{"https://git.example.com", "https://git.example.com/api/v1", "https://git.example.com"},
		{"https://git.example.com/", "https://git.example.com/api/v1", "https://git.example.com"},
		{"https://git.example.com/api/v1", "https://git.example.com/api/v1", "https://git.example.com"},
		{"https://example.com/gitea/api/v1/", "https://example.com/gitea/api/v1", "https://example.com/gitea"},
		{"http://127.0.0.1:3000/gitea", "http://127.0.0.1:3000/gitea/api/v1", "http://127.0.0.1:3000/gitea"},
	}
	for _, tt := range tests {
		api, web, err := endpoints(tt.base)
		if err != nil || api.String() != tt.api || web.String() != tt.web {
			t.Errorf("endpoints(%q) = %v, %v, %v; want %s, %s", tt.base, api, web, err, tt.api, tt.web)
		}
	}
	for _, bad := range []string{"git.example.com", "ssh://git.example.com", "https://u:p@git.example.com", "https://git.example.com/#x"} {
		if _, _, err := endpoints(bad); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("endpoints(%q) = %v, want sdk.ErrInvalidArgument", bad, err)
		}
	}
}

func TestConfigureValidatesFields(t *testing.T) {
	for settings, field := range map[string]string{
		`{"base_url": "git.example.com"}`: "base_url",
		`{"timeout_seconds": 601}`:        "timeout_seconds",
		`{"url": "https://x"}`:            "url",
	} {
		_, err := New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(settings)})
		var cfg *sdk.ConfigError
		if !errors.As(err, &cfg) || cfg.Fields[0].Field != field {
			t.Errorf("Configure(%s) = %v, want a field error on %s", settings, err, field)
		}
	}
	p := New()
	if _, err := p.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(`{"base_url": "https://git.example.com"}`)}); err != nil {
		t.Fatal(err)
	}
	c, err := p.connection(&sdk.Credentials{Token: "x"})
	if err != nil || c.api.String() != "https://git.example.com/api/v1" {
		t.Errorf("a connection without BaseURL uses the settings' base_url: %v, %v", c, err)
	}
}

func TestRequestsTimeOut(t *testing.T) {
	p := New()
	gitfixture.CheckTimeout(t, p, func(ctx context.Context, root string) error {
		_, err := p.ListBranches(ctx, &sdk.ListBranchesRequest{Repository: "o/r", Credentials: &sdk.Credentials{Token: testToken, BaseURL: root}})
		return err
	})
}
