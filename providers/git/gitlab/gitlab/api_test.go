package gitlab_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/providers/git/gitlab/gitlab"
	"github.com/berth-dev/berth/providers/git/gitlab/gitlabtest"
	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

const token = "glpat-Secret-4242"

// connect returns a provider and the credentials of a connection to srv.
func connect(srv *gitlabtest.Server) (*gitlab.Provider, *sdk.Credentials) {
	return gitlab.New(), &sdk.Credentials{Token: srv.Token, BaseURL: srv.URL}
}

func TestListRepositoriesFollowsPages(t *testing.T) {
	srv := gitlabtest.NewServer(t, token)
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("group%d/app%d", i%2, i)
		visibility := "private"
		if i == 3 {
			visibility = "public"
		}
		srv.AddProject(gitlabtest.Project{PathWithNamespace: name, DefaultBranch: "main", Visibility: visibility})
		want = append(want, name)
	}
	p, creds := connect(srv)
	var got []sdk.Repository
	var tokens []string
	req := &sdk.ListRepositoriesRequest{Credentials: creds, PageSize: 3}
	for {
		r, err := p.ListRepositories(t.Context(), req)
		if err != nil {
			t.Fatalf("ListRepositories(page %q): %v", req.PageToken, err)
		}
		got = append(got, r.Repositories...)
		tokens = append(tokens, r.NextPageToken)
		if r.NextPageToken == "" {
			break
		}
		req.PageToken = r.NextPageToken
	}
	if !reflect.DeepEqual(tokens, []string{"2", "3", ""}) {
		t.Errorf("page tokens %q, want 2, 3 and the end", tokens)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.FullName)
	}
	sort.Strings(want)
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("repositories %v, want %v", names, want)
	}
	first := got[0]
	wantFirst := sdk.Repository{
		FullName: "group0/app0", CloneURL: srv.URL + "/group0/app0.git", WebURL: srv.URL + "/group0/app0",
		DefaultBranch: "main", Private: true,
	}
	if first != wantFirst {
		t.Errorf("first repository %+v, want %+v", first, wantFirst)
	}
	for _, r := range got {
		if r.FullName == "group1/app3" && r.Private {
			t.Errorf("public project %s listed as private", r.FullName)
		}
	}

	r, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: creds, Query: "group1/"})
	if err != nil || len(r.Repositories) != 3 {
		t.Errorf("ListRepositories(query) = %+v, %v; want the 3 projects of group1", r, err)
	}
	if _, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: creds, PageToken: "https://elsewhere"}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("ListRepositories(bad page token) = %v, want sdk.ErrInvalidArgument", err)
	}
}

func TestListBranchesFollowsPagesAndMarksDefault(t *testing.T) {
	srv := gitlabtest.NewServer(t, token)
	const project = "group/subgroup/app" // nested: the id must be URL-encoded
	var branches []gitlabtest.Branch
	for i := range 230 {
		branches = append(branches, gitlabtest.Branch{Name: fmt.Sprintf("branch-%03d", i), Commit: fmt.Sprintf("%040x", i)})
	}
	branches = append(branches, gitlabtest.Branch{Name: "main", Commit: strings.Repeat("a", 40)})
	srv.AddProject(gitlabtest.Project{PathWithNamespace: project, DefaultBranch: "main", Branches: branches})
	p, creds := connect(srv)

	for _, repo := range []string{project, srv.URL + "/" + project + ".git", srv.URL + "/" + project + "/-/tree/main"} {
		r, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: repo, Credentials: creds})
		if err != nil {
			t.Fatalf("ListBranches(%s): %v", repo, err)
		}
		gitfixture.CheckBranches(t, r.Branches, 231, sdk.Branch{Name: "main", Commit: strings.Repeat("a", 40), Default: true})
	}

	_, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: "group/missing", Credentials: creds})
	if !errors.Is(err, sdk.ErrNotFound) || !strings.Contains(err.Error(), "404 Project Not Found") {
		t.Errorf("ListBranches(missing project) = %v, want sdk.ErrNotFound with GitLab's message", err)
	}
}

func TestSetCommitStatus(t *testing.T) {
	srv := gitlabtest.NewServer(t, token)
	srv.AddProject(gitlabtest.Project{PathWithNamespace: "group/app", DefaultBranch: "main"})
	p, creds := connect(srv)
	sha := strings.Repeat("b", 40)
	long := strings.Repeat("é", 300)
	steps := []struct {
		state       sdk.CommitState
		description string
		want        map[string]any
	}{
		{sdk.CommitPending, "Deploying", map[string]any{"state": "pending", "name": "berth/deploy", "target_url": "https://berth.example.com/apps/1", "description": "Deploying"}},
		// GitLab refuses pending -> pending; it is not an error.
		{sdk.CommitPending, "Deploying", nil},
		{sdk.CommitSuccess, long, map[string]any{"state": "success", "name": "berth/deploy", "target_url": "https://berth.example.com/apps/1", "description": strings.Repeat("é", 254) + "…"}},
		{sdk.CommitFailure, "Failed", map[string]any{"state": "failed", "name": "berth/deploy", "target_url": "https://berth.example.com/apps/1", "description": "Failed"}},
		{sdk.CommitError, "Failed", nil},
	}
	for i, step := range steps {
		_, err := p.SetCommitStatus(t.Context(), &sdk.SetCommitStatusRequest{
			Repository: "group/app", Commit: sha, State: step.state, Context: "berth/deploy",
			Description: step.description, TargetURL: "https://berth.example.com/apps/1", Credentials: creds,
		})
		if err != nil {
			t.Fatalf("step %d: SetCommitStatus(%s): %v", i, step.state, err)
		}
	}
	got := srv.Statuses()
	var wantBodies []map[string]any
	for _, step := range steps {
		if step.want != nil {
			wantBodies = append(wantBodies, step.want)
		}
	}
	if len(got) != len(wantBodies) {
		t.Fatalf("GitLab received %d statuses, want %d: %+v", len(got), len(wantBodies), got)
	}
	for i, s := range got {
		if s.Project != "group/app" || s.SHA != sha || !reflect.DeepEqual(s.Body, wantBodies[i]) {
			t.Errorf("status %d: %s@%s %v, want group/app@%s %v", i, s.Project, s.SHA, s.Body, sha, wantBodies[i])
		}
	}

	for name, req := range map[string]*sdk.SetCommitStatusRequest{
		"bad state":  {Repository: "group/app", Commit: sha, State: "done", Credentials: creds},
		"bad commit": {Repository: "group/app", Commit: "main; rm", State: sdk.CommitSuccess, Credentials: creds},
		"bad repo":   {Repository: "https://evil.example.com/group/app", Commit: sha, State: sdk.CommitSuccess, Credentials: creds},
	} {
		if _, err := p.SetCommitStatus(t.Context(), req); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("SetCommitStatus(%s) = %v, want sdk.ErrInvalidArgument", name, err)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	reset := time.Now().Add(42 * time.Second).Truncate(time.Second)
	for _, c := range []struct {
		name    string
		token   string
		answer  *gitlabtest.Answer
		want    error
		message string
	}{
		{name: "wrong token", token: "wrong", want: sdk.ErrUnauthenticated, message: "gitlab: token rejected (401): GET /api/v4/projects: 401 Unauthorized"},
		{name: "missing scope", answer: &gitlabtest.Answer{Status: 403, Body: `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api read_api"}`},
			want: sdk.ErrUnauthenticated, message: "permission denied (403): GET /api/v4/projects: insufficient_scope: The request requires higher privileges"},
		{name: "not found", answer: &gitlabtest.Answer{Status: 404, Body: `{"message":"404 Not found"}`}, want: sdk.ErrNotFound, message: "404 Not found"},
		{name: "server error", answer: &gitlabtest.Answer{Status: 500, Body: `{"message":"500 Internal Server Error"}`}, want: sdk.ErrUnavailable, message: "server error (500 Internal Server Error): GET /api/v4/projects: 500 Internal Server Error"},
		{name: "bad gateway page", answer: &gitlabtest.Answer{Status: 502, Body: `<html><body>502 Whoops, GitLab is taking too much time to respond.</body></html>`}, want: sdk.ErrUnavailable, message: "(502 Bad Gateway)"},
		{name: "rate limited", answer: &gitlabtest.Answer{Status: 429, Header: http.Header{
			"Ratelimit-Limit": {"600"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {fmt.Sprint(reset.Unix())},
		}, Body: `{"message":"Retry later"}`}, want: sdk.ErrUnavailable, message: "rate limit exceeded (429), resets at " + reset.UTC().Format(time.RFC3339) + ": GET /api/v4/projects: Retry later"},
		{name: "rate limited 403", answer: &gitlabtest.Answer{Status: 403, Header: http.Header{"Ratelimit-Remaining": {"0"}, "Retry-After": {"60"}}, Body: `{"message":"Forbidden"}`},
			want: sdk.ErrUnavailable, message: "rate limit exceeded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := gitlabtest.NewServer(t, token)
			if c.answer != nil {
				srv.Fail("/projects", *c.answer)
			}
			creds := &sdk.Credentials{Token: token, BaseURL: srv.URL}
			if c.token != "" {
				creds.Token = c.token
			}
			_, err := gitlab.New().ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: creds})
			if !errors.Is(err, c.want) {
				t.Fatalf("ListRepositories = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q does not say %q", err, c.message)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	p := gitlab.New()
	gitfixture.CheckTimeout(t, p, func(ctx context.Context, root string) error {
		_, err := p.ListRepositories(ctx, &sdk.ListRepositoriesRequest{Credentials: &sdk.Credentials{Token: token, BaseURL: root}})
		return err
	})
}

func TestRedirectToAnotherHostIsRefused(t *testing.T) {
	var leaked string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("Authorization") + r.Header.Get("PRIVATE-TOKEN")
		w.Write([]byte(`[]`))
	}))
	defer other.Close()
	srv := gitlabtest.NewServer(t, token)
	srv.Fail("/projects", gitlabtest.Answer{Status: http.StatusFound, Header: http.Header{"Location": {other.URL + "/api/v4/projects"}}})
	p, creds := connect(srv)
	_, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: creds})
	if err == nil || !strings.Contains(err.Error(), "refusing to follow a redirect") {
		t.Errorf("ListRepositories(redirected elsewhere) = %v, want a refused redirect", err)
	}
	if leaked != "" {
		t.Errorf("the other host received credentials %q", leaked)
	}
}

func TestBaseURL(t *testing.T) {
	srv := gitlabtest.NewServer(t, token)
	srv.AddProject(gitlabtest.Project{PathWithNamespace: "group/app", DefaultBranch: "main", Branches: []gitlabtest.Branch{{Name: "main", Commit: strings.Repeat("c", 40)}}})
	list := func(p *gitlab.Provider, creds *sdk.Credentials) error {
		_, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: "group/app", Credentials: creds})
		return err
	}
	if err := list(gitlab.New(), &sdk.Credentials{Token: token, BaseURL: srv.URL + "/api/v4/"}); err != nil {
		t.Errorf("BaseURL with /api/v4: %v", err)
	}
	p := gitlab.New()
	if _, err := p.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(fmt.Sprintf(`{"base_url": %q}`, srv.URL))}); err != nil {
		t.Fatal(err)
	}
	if err := list(p, &sdk.Credentials{Token: token}); err != nil {
		t.Errorf("base_url from the settings: %v", err)
	}
	for _, bad := range []string{"ftp://gitlab.example.com", "gitlab.example.com", "https://user:pw@gitlab.example.com"} {
		if err := list(gitlab.New(), &sdk.Credentials{Token: token, BaseURL: bad}); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("BaseURL %q: %v, want sdk.ErrInvalidArgument", bad, err)
		}
	}
}

func TestConfigure(t *testing.T) {
	for _, c := range []struct {
		settings string
		field    string
	}{
		{`{}`, ""},
		{`{"base_url": "https://gitlab.example.com", "timeout_seconds": 10}`, ""},
		{`{"base_url": "gitlab.example.com"}`, "base_url"},
		{`{"timeout_seconds": 301}`, "timeout_seconds"},
		{`{"timeout_seconds": "10"}`, "timeout_seconds"},
		{`{"token": "x"}`, "token"},
	} {
		_, err := gitlab.New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(c.settings)})
		var cfg *sdk.ConfigError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("Configure(%s) = %v, want success", c.settings, err)
		case c.field != "" && (!errors.As(err, &cfg) || cfg.Fields[0].Field != c.field):
			t.Errorf("Configure(%s) = %v, want a field error on %s", c.settings, err, c.field)
		}
	}
}
