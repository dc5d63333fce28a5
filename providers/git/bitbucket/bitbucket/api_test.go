package bitbucket_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/providers/git/bitbucket/bitbucket"
	"github.com/berth-dev/berth/providers/git/bitbucket/bitbuckettest"
	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

// account has every kind of credentials Bitbucket Cloud accepts.
var account = bitbuckettest.Account{
	AccessToken: "ATCTT3xFfGN0-access-token",
	Username:    "emma", AppPassword: "app-Password-4242",
	Email: "emma@example.com", APIToken: "ATATT3xFfGF0-api-token",
}

// credentialKinds are the ways a connection can authenticate.
func credentialKinds(srv *bitbuckettest.Server) map[string]*sdk.Credentials {
	return map[string]*sdk.Credentials{
		"access token":           {Token: account.AccessToken, BaseURL: srv.APIURL()},
		"app password":           {Username: account.Username, Password: account.AppPassword, BaseURL: srv.APIURL()},
		"API token (email)":      {Username: account.Email, Password: account.APIToken, BaseURL: srv.APIURL()},
		"access token, settings": {Token: account.AccessToken},
	}
}

// provider returns a provider whose settings point at srv.
func provider(t *testing.T, srv *bitbuckettest.Server) *bitbucket.Provider {
	p := bitbucket.New()
	if _, err := p.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(fmt.Sprintf(`{"base_url": %q}`, srv.APIURL()))}); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestListRepositoriesFollowsNext(t *testing.T) {
	srv := bitbuckettest.NewServer(t, account)
	for i := range 7 {
		srv.AddRepository(bitbuckettest.Repository{FullName: fmt.Sprintf("ws%d/repo-%d", i%2, i), MainBranch: "main", Private: i != 3})
	}
	want := []string{"ws0/repo-0", "ws0/repo-2", "ws0/repo-4", "ws0/repo-6", "ws1/repo-1", "ws1/repo-3", "ws1/repo-5"}
	p := provider(t, srv)
	for kind, creds := range credentialKinds(srv) {
		t.Run(kind, func(t *testing.T) {
			var got []sdk.Repository
			pages := 0
			req := &sdk.ListRepositoriesRequest{Credentials: creds, PageSize: 3}
			for {
				r, err := p.ListRepositories(t.Context(), req)
				if err != nil {
					t.Fatalf("ListRepositories(page %d): %v", pages+1, err)
				}
				pages++
				got = append(got, r.Repositories...)
				if r.NextPageToken == "" {
					break
				}
				if !strings.HasPrefix(r.NextPageToken, srv.APIURL()+"/repositories?") {
					t.Errorf("page token %q is not Bitbucket's next URL", r.NextPageToken)
				}
				req.PageToken = r.NextPageToken
			}
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			var names []string
			for _, r := range got {
				names = append(names, r.FullName)
			}
			if !reflect.DeepEqual(names, want) {
				t.Fatalf("repositories %v, want %v", names, want)
			}
			wantFirst := sdk.Repository{FullName: "ws0/repo-0", CloneURL: srv.URL + "/ws0/repo-0.git", WebURL: srv.URL + "/ws0/repo-0", DefaultBranch: "main", Private: true}
			if got[0] != wantFirst {
				t.Errorf("first repository %+v, want %+v", got[0], wantFirst)
			}
			if got[5].Private {
				t.Errorf("public repository %s listed as private", got[5].FullName)
			}
		})
	}

	p = provider(t, srv)
	creds := &sdk.Credentials{Token: account.AccessToken}
	r, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: creds, Query: `ws1/`})
	if err != nil || len(r.Repositories) != 3 {
		t.Errorf("ListRepositories(query) = %+v, %v; want the 3 repositories of ws1", r, err)
	}
	if r, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: creds, Query: `a" OR full_name ~ "`}); err != nil || len(r.Repositories) != 0 {
		t.Errorf("ListRepositories(query with quotes) = %+v, %v; want no repository", r, err)
	}
	// A page token is only followed under the API root.
	for _, bad := range []string{"https://evil.example.com/2.0/repositories?page=2", srv.URL + "/elsewhere?page=2", "2"} {
		if _, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: creds, PageToken: bad}); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("ListRepositories(page token %q) = %v, want sdk.ErrInvalidArgument", bad, err)
		}
	}
}

func TestListRepositoriesRefusesNextElsewhere(t *testing.T) {
	srv := bitbuckettest.NewServer(t, account)
	srv.Fail("/repositories", bitbuckettest.Answer{Status: 200, Body: `{"pagelen": 1, "values": [{"full_name": "ws/a"}], "next": "https://evil.example.com/2.0/repositories?page=2"}`})
	_, err := provider(t, srv).ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: &sdk.Credentials{Token: account.AccessToken}})
	if !errors.Is(err, sdk.ErrInvalidArgument) || !strings.Contains(err.Error(), "not under the API root") {
		t.Errorf("ListRepositories(next elsewhere) = %v, want a refusal", err)
	}
}

func TestListBranchesFollowsNextAndMarksMain(t *testing.T) {
	srv := bitbuckettest.NewServer(t, account)
	var branches []bitbuckettest.Branch
	for i := range 230 {
		branches = append(branches, bitbuckettest.Branch{Name: fmt.Sprintf("branch-%03d", i), Commit: fmt.Sprintf("%040x", i)})
	}
	branches = append(branches, bitbuckettest.Branch{Name: "develop", Commit: strings.Repeat("d", 40)})
	srv.AddRepository(bitbuckettest.Repository{FullName: "ws/app", MainBranch: "develop", Branches: branches})
	p := provider(t, srv)
	creds := &sdk.Credentials{Token: account.AccessToken}
	for _, repo := range []string{"ws/app", srv.URL + "/ws/app.git", srv.URL + "/ws/app/src/develop/"} {
		r, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: repo, Credentials: creds})
		if err != nil {
			t.Fatalf("ListBranches(%s): %v", repo, err)
		}
		gitfixture.CheckBranches(t, r.Branches, 231, sdk.Branch{Name: "develop", Commit: strings.Repeat("d", 40), Default: true})
	}
	_, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: "ws/missing", Credentials: creds})
	if !errors.Is(err, sdk.ErrNotFound) || !strings.Contains(err.Error(), "Repository ws/missing not found") {
		t.Errorf("ListBranches(missing) = %v, want sdk.ErrNotFound with Bitbucket's message", err)
	}
	for _, bad := range []string{"ws/app/extra", "ws", "https://bitbucket.org/ws/app"} {
		if _, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: bad, Credentials: creds}); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("ListBranches(%q) = %v, want sdk.ErrInvalidArgument", bad, err)
		}
	}
}

func TestSetCommitStatus(t *testing.T) {
	srv := bitbuckettest.NewServer(t, account)
	srv.AddRepository(bitbuckettest.Repository{FullName: "ws/app", MainBranch: "main"})
	p := provider(t, srv)
	creds := &sdk.Credentials{Username: account.Username, Password: account.AppPassword}
	sha := strings.Repeat("e", 40)
	longContext := "berth/deploy/" + strings.Repeat("very-long-application-name-", 3)
	steps := []struct {
		req  sdk.SetCommitStatusRequest
		want map[string]any
	}{
		{
			sdk.SetCommitStatusRequest{State: sdk.CommitPending, Context: "berth/deploy", Description: "Deploying", TargetURL: "https://berth.example.com/apps/1"},
			map[string]any{"key": "berth/deploy", "state": "INPROGRESS", "url": "https://berth.example.com/apps/1", "name": "berth/deploy", "description": "Deploying"},
		},
		{
			sdk.SetCommitStatusRequest{State: sdk.CommitSuccess, Context: "berth/deploy", Description: strings.Repeat("x", 300), TargetURL: "https://berth.example.com/apps/1"},
			map[string]any{"key": "berth/deploy", "state": "SUCCESSFUL", "url": "https://berth.example.com/apps/1", "name": "berth/deploy", "description": strings.Repeat("x", 254) + "…"},
		},
		{
			// No target URL: Bitbucket requires one, the repository's page is used.
			sdk.SetCommitStatusRequest{State: sdk.CommitFailure, Context: "berth/deploy", Description: "Failed"},
			map[string]any{"key": "berth/deploy", "state": "FAILED", "url": srv.URL + "/ws/app", "name": "berth/deploy", "description": "Failed"},
		},
		{
			sdk.SetCommitStatusRequest{State: sdk.CommitError, Context: longContext},
			map[string]any{"key": longContext[:27] + "-", "state": "FAILED", "url": srv.URL + "/ws/app", "name": longContext},
		},
		{
			sdk.SetCommitStatusRequest{State: sdk.CommitSuccess},
			map[string]any{"key": "berth", "state": "SUCCESSFUL", "url": srv.URL + "/ws/app", "name": "berth"},
		},
	}
	for i, step := range steps {
		req := step.req
		req.Repository, req.Commit, req.Credentials = "ws/app", sha, creds
		if _, err := p.SetCommitStatus(t.Context(), &req); err != nil {
			t.Fatalf("step %d: SetCommitStatus: %v", i, err)
		}
	}
	got := srv.Statuses()
	if len(got) != len(steps) {
		t.Fatalf("Bitbucket received %d statuses, want %d", len(got), len(steps))
	}
	for i, s := range got {
		want := steps[i].want
		if key, _ := s.Body["key"].(string); strings.HasSuffix(want["key"].(string), "-") {
			// A long context gets a stable, hashed key of 40 characters.
			if len(key) != 40 || !strings.HasPrefix(key, want["key"].(string)) {
				t.Errorf("status %d: key %q, want 40 characters starting with %q", i, key, want["key"])
			}
			want["key"] = key
		}
		if s.Repository != "ws/app" || s.SHA != sha || !reflect.DeepEqual(s.Body, want) {
			t.Errorf("status %d: %s@%s %v, want ws/app@%s %v", i, s.Repository, s.SHA, s.Body, sha, want)
		}
	}
	for name, req := range map[string]*sdk.SetCommitStatusRequest{
		"bad state":  {Repository: "ws/app", Commit: sha, State: "done", Credentials: creds},
		"bad commit": {Repository: "ws/app", Commit: "HEAD", State: sdk.CommitSuccess, Credentials: creds},
		"bad repo":   {Repository: "ws/app/x", Commit: sha, State: sdk.CommitSuccess, Credentials: creds},
	} {
		if _, err := p.SetCommitStatus(t.Context(), req); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("SetCommitStatus(%s) = %v, want sdk.ErrInvalidArgument", name, err)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	reset := time.Now().Add(time.Minute).Truncate(time.Second)
	for _, c := range []struct {
		name    string
		creds   *sdk.Credentials
		answer  *bitbuckettest.Answer
		want    error
		message string
	}{
		{name: "wrong token", creds: &sdk.Credentials{Token: "wrong"}, want: sdk.ErrUnauthenticated,
			message: "bitbucket: credentials rejected (401): GET /2.0/repositories: Token is invalid, expired, or not supported for this endpoint."},
		{name: "wrong app password", creds: &sdk.Credentials{Username: account.Username, Password: "wrong"}, want: sdk.ErrUnauthenticated, message: "credentials rejected (401)"},
		{name: "no username", creds: &sdk.Credentials{Password: account.AppPassword}, want: sdk.ErrInvalidArgument, message: "needs the username"},
		{name: "missing scope", answer: &bitbuckettest.Answer{Status: 403, Body: `{"type": "error", "error": {"message": "Your credentials lack one or more required privilege scopes.", "detail": {"granted": ["account"], "required": ["repository"]}}}`},
			want: sdk.ErrUnauthenticated, message: "permission denied (403): GET /2.0/repositories: Your credentials lack one or more required privilege scopes."},
		{name: "server error", answer: &bitbuckettest.Answer{Status: 503, Body: `{"type": "error", "error": {"message": "Service unavailable"}}`}, want: sdk.ErrUnavailable, message: "server error (503 Service Unavailable): GET /2.0/repositories: Service unavailable"},
		{name: "rate limited", answer: &bitbuckettest.Answer{Status: 429, Header: http.Header{"Retry-After": {"60"}, "X-Ratelimit-Limit": {"1000"}}, Body: `{"type": "error", "error": {"message": "Rate limit for this resource has been exceeded"}}`},
			want: sdk.ErrUnavailable, message: "rate limit exceeded (429), resets at "},
		{name: "rate limited reset header", answer: &bitbuckettest.Answer{Status: 429, Header: http.Header{"X-Ratelimit-Reset": {fmt.Sprint(reset.Unix())}}, Body: `Too many requests`},
			want: sdk.ErrUnavailable, message: "resets at " + reset.UTC().Format(time.RFC3339) + ": GET /2.0/repositories: Too many requests"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := bitbuckettest.NewServer(t, account)
			if c.answer != nil {
				srv.Fail("/repositories", *c.answer)
			}
			creds := c.creds
			if creds == nil {
				creds = &sdk.Credentials{Token: account.AccessToken}
			}
			_, err := provider(t, srv).ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: creds})
			if !errors.Is(err, c.want) {
				t.Fatalf("ListRepositories = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q does not say %q", err, c.message)
			}
			for _, secret := range []string{account.AccessToken, account.AppPassword, account.APIToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows a secret", err)
				}
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	p := bitbucket.New()
	gitfixture.CheckTimeout(t, p, func(ctx context.Context, root string) error {
		_, err := p.ListBranches(ctx, &sdk.ListBranchesRequest{Repository: "ws/app", Credentials: &sdk.Credentials{Token: "t", BaseURL: root + "/2.0"}})
		return err
	})
}

func TestConfigure(t *testing.T) {
	for _, c := range []struct {
		settings string
		field    string
	}{
		{`{}`, ""},
		{`{"base_url": "https://api.bitbucket.org/2.0", "timeout_seconds": 10}`, ""},
		{`{"base_url": "api.bitbucket.org"}`, "base_url"},
		{`{"timeout_seconds": -1}`, "timeout_seconds"},
		{`{"username": "x"}`, "username"},
	} {
		_, err := bitbucket.New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(c.settings)})
		var cfg *sdk.ConfigError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("Configure(%s) = %v, want success", c.settings, err)
		case c.field != "" && (!errors.As(err, &cfg) || cfg.Fields[0].Field != c.field):
			t.Errorf("Configure(%s) = %v, want a field error on %s", c.settings, err, c.field)
		}
	}
}
