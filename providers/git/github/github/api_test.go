package github

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

func TestListRepositoriesFollowsPages(t *testing.T) {
	p, f, _ := setup(t)
	var got []sdk.Repository
	token := ""
	pages := 0
	for {
		r, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: tokenCreds(f, testToken), PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatalf("ListRepositories page %d: %v", pages+1, err)
		}
		pages++
		got = append(got, r.Repositories...)
		if r.NextPageToken == "" {
			break
		}
		if !strings.HasPrefix(r.NextPageToken, f.apiURL()+"/user/repos?") {
			t.Fatalf("NextPageToken %q is not the Link rel=next URL", r.NextPageToken)
		}
		token = r.NextPageToken
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3 (7 repositories, 3 a page)", pages)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.FullName)
	}
	if strings.Join(names, ",") != strings.Join(fakeRepos, ",") {
		t.Errorf("repositories %v, want %v", names, fakeRepos)
	}
	want := sdk.Repository{FullName: "octo-org/api", CloneURL: f.srv.URL + "/octo-org/api.git", WebURL: f.srv.URL + "/octo-org/api", DefaultBranch: "main", Private: true}
	if got[1] != want {
		t.Errorf("repository %+v, want %+v", got[1], want)
	}
}

func TestListRepositoriesQueryAndTokens(t *testing.T) {
	p, f, _ := setup(t)
	r, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: tokenCreds(f, testToken), Query: "OCTO-ORG/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Repositories) != 3 || r.NextPageToken != "" {
		t.Errorf("query octo-org/: %+v, want the 3 octo-org repositories on one page", r)
	}
	for _, token := range []string{
		"https://evil.example/api/v3/user/repos?page=2",                              // another host
		f.apiURL() + "/repos/octo-org/hello-world?page=2",                            // another endpoint
		strings.Replace(f.apiURL(), "http://", "https://", 1) + "/user/repos?page=2", // another scheme
		f.srv.URL + "/user/repos?page=2",                                             // outside the API root
	} {
		_, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: tokenCreds(f, testToken), PageToken: token})
		if !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("PageToken %q: %v, want sdk.ErrInvalidArgument", token, err)
		}
	}
	if _, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: &sdk.Credentials{BaseURL: f.apiURL()}}); !errors.Is(err, sdk.ErrUnauthenticated) {
		t.Errorf("ListRepositories without a token: %v, want sdk.ErrUnauthenticated", err)
	}
}

func TestListBranchesFollowsPagesAndMarksDefault(t *testing.T) {
	p, f, _ := setup(t)
	for _, creds := range map[string]*sdk.Credentials{"token": tokenCreds(f, testToken), "anonymous": {BaseURL: f.apiURL()}} {
		r, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: "octo-org/hello-world", Credentials: creds})
		if err != nil {
			t.Fatal(err)
		}
		want := []sdk.Branch{
			{Name: "develop", Commit: f.mainHead},
			{Name: "feature", Commit: f.featureHead},
			{Name: "gh-pages", Commit: f.mainHead},
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
	r, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: f.srv.URL + "/octo-org/hello-world.git", Credentials: tokenCreds(f, testToken)})
	if err != nil || len(r.Branches) != 5 {
		t.Errorf("ListBranches(clone URL) = %+v, %v", r, err)
	}
}

func TestSetCommitStatusBody(t *testing.T) {
	p, f, _ := setup(t)
	sha := f.mainHead
	long := strings.Repeat("é", 200)
	tests := []struct {
		name string
		req  sdk.SetCommitStatusRequest
		want map[string]any
	}{
		{
			name: "all fields",
			req:  sdk.SetCommitStatusRequest{State: sdk.CommitSuccess, Context: "berth/deploy", Description: "Deployed to production", TargetURL: "https://berth.example.com/apps/web/deployments/7"},
			want: map[string]any{"state": "success", "context": "berth/deploy", "description": "Deployed to production", "target_url": "https://berth.example.com/apps/web/deployments/7"},
		},
		{
			name: "defaults and truncation",
			req:  sdk.SetCommitStatusRequest{State: sdk.CommitPending, Description: long},
			want: map[string]any{"state": "pending", "context": "berth", "description": strings.Repeat("é", 139) + "…"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Repository, req.Commit, req.Credentials = "octo-org/hello-world", strings.ToUpper(sha), tokenCreds(f, testToken)
			if _, err := p.SetCommitStatus(t.Context(), &req); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			got := f.statuses[i]
			f.mu.Unlock()
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tt.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("status body %s, want %s", gotJSON, wantJSON)
			}
		})
	}
	for name, req := range map[string]sdk.SetCommitStatusRequest{
		"short sha":  {Commit: sha[:7], State: sdk.CommitSuccess},
		"bad state":  {Commit: sha, State: "done"},
		"bad target": {Commit: sha, State: sdk.CommitSuccess, TargetURL: "javascript:alert(1)"},
		"bad repo":   {Repository: "../../etc", Commit: sha, State: sdk.CommitSuccess},
	} {
		if req.Repository == "" {
			req.Repository = "octo-org/hello-world"
		}
		req.Credentials = tokenCreds(f, testToken)
		if _, err := p.SetCommitStatus(t.Context(), &req); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("%s: %v, want sdk.ErrInvalidArgument", name, err)
		}
	}
	if n := len(f.statuses); n != 2 {
		t.Errorf("%d statuses reached GitHub, want 2", n)
	}
}

func TestAPIErrorsAreMapped(t *testing.T) {
	p, f, _ := setup(t)
	tests := []struct {
		name  string
		call  func() error
		kind  error
		parts []string
	}{
		{
			name: "401 bad token",
			call: func() error {
				_, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: tokenCreds(f, "ghp_revoked")})
				return err
			},
			kind: sdk.ErrUnauthenticated, parts: []string{"github: token rejected (401)", "Bad credentials"},
		},
		{
			name: "404 repository",
			call: func() error {
				_, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: "octo-org/missing", Credentials: tokenCreds(f, testToken)})
				return err
			},
			kind: sdk.ErrNotFound, parts: []string{"not found (404)", "/repos/octo-org/missing", "Not Found"},
		},
		{
			name: "5xx",
			call: func() error {
				_, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: "octo-org/broken", Credentials: tokenCreds(f, testToken)})
				return err
			},
			kind: sdk.ErrUnavailable, parts: []string{"server error (502 Bad Gateway)", "Server Error"},
		},
		{
			name: "rate limit",
			call: func() error {
				_, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: tokenCreds(f, rateLimitedToken)})
				return err
			},
			kind: sdk.ErrUnavailable, parts: []string{"rate limit exceeded (403)", "resets at 2024-05-01T10:00:00Z", "API rate limit exceeded"},
		},
		{
			name: "422 validation",
			call: func() error {
				// Bypass the provider's own checks to see GitHub's answer mapped.
				c, _ := p.connection(tokenCreds(f, testToken))
				api, _, _ := p.authorized(t.Context(), c)
				_, err := api.Do(t.Context(), http.MethodPost, "repos/octo-org/hello-world/statuses/"+f.mainHead, map[string]string{"state": "done"}, nil)
				return err
			},
			kind: sdk.ErrInvalidArgument, parts: []string{"request refused (422", "Validation Failed", "state is not included in the list"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
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

func TestRequestsTimeOut(t *testing.T) {
	p := New()
	gitfixture.CheckTimeout(t, p, func(ctx context.Context, root string) error {
		_, err := p.ListBranches(ctx, &sdk.ListBranchesRequest{Repository: "o/r", Credentials: &sdk.Credentials{BaseURL: root + "/api/v3"}})
		return err
	})
}

func TestEndpoints(t *testing.T) {
	tests := []struct{ base, api, web string }{
		{"", "https://api.github.com", "https://github.com"},
		{"https://api.github.com/", "https://api.github.com", "https://github.com"},
		{"https://github.com", "https://api.github.com", "https://github.com"},
		{"https://github.example.com/api/v3", "https://github.example.com/api/v3", "https://github.example.com"},
		{"https://github.example.com/api/v3/", "https://github.example.com/api/v3", "https://github.example.com"},
		{"https://github.example.com", "https://github.example.com/api/v3", "https://github.example.com"},
		{"https://api.octocorp.ghe.com", "https://api.octocorp.ghe.com", "https://octocorp.ghe.com"},
		{"http://127.0.0.1:8080/api/v3", "http://127.0.0.1:8080/api/v3", "http://127.0.0.1:8080"},
	}
	for _, tt := range tests {
		api, web, err := endpoints(tt.base)
		if err != nil || api.String() != tt.api || web.String() != tt.web {
			t.Errorf("endpoints(%q) = %v, %v, %v; want %s, %s", tt.base, api, web, err, tt.api, tt.web)
		}
	}
	for _, bad := range []string{"ftp://github.example.com", "https://user:pw@github.example.com", "https://github.example.com/?x=1", "not a url", "https://"} {
		if _, _, err := endpoints(bad); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("endpoints(%q) = %v, want sdk.ErrInvalidArgument", bad, err)
		}
	}
}

func TestConfigureValidatesFields(t *testing.T) {
	tests := []struct {
		settings string
		field    string
	}{
		{`{"base_url": "ftp://x"}`, "base_url"},
		{`{"timeout_seconds": -1}`, "timeout_seconds"},
		{`{"timeout_seconds": "10"}`, "timeout_seconds"},
		{`{"token": "x"}`, "token"},
	}
	for _, tt := range tests {
		_, err := New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var cfg *sdk.ConfigError
		if !errors.As(err, &cfg) || len(cfg.Fields) == 0 || cfg.Fields[0].Field != tt.field {
			t.Errorf("Configure(%s) = %v, want a field error on %s", tt.settings, err, tt.field)
		}
	}
}
