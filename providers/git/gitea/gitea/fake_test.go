package gitea

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

// Test credentials the fake Gitea knows.
const (
	testToken    = "3f6c0a1b2d4e5f60718293a4b5c6d7e8f9012345"
	testUser     = "alice"
	testPassword = "correct horse battery staple"
)

// fakeGitea is a local stand-in for a Gitea instance: the REST API under
// /api/v1 and git smart HTTP everywhere else. It answers as Gitea documents
// (its swagger and webhook docs) and fails the test when a request does not
// have the documented shape.
type fakeGitea struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	statuses []map[string]any

	mainHead, featureHead string
}

func newFakeGitea(t *testing.T) *fakeGitea {
	t.Helper()
	f := &fakeGitea{t: t}
	root := t.TempDir()
	repo := gitfixture.New(t, root, "team/webhooks.git")
	f.mainHead, f.featureHead = repo.Main, repo.Feature
	// Gitea's git over https: the token as password (any user name), or
	// the token as user name with an empty or "x-oauth-basic" password, or
	// a user's password.
	git := gitfixture.SmartHTTP(t, root, func(user, password string, ok bool) bool {
		return ok && (user != "" && password == testToken ||
			user == testToken && (password == "" || password == "x-oauth-basic") ||
			user == testUser && password == testPassword)
	})
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", http.StripPrefix("/api/v1", http.HandlerFunc(f.api)))
	mux.Handle("/", git)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// creds are token credentials for the fake instance.
func (f *fakeGitea) creds(token string) *sdk.Credentials {
	return &sdk.Credentials{Token: token, BaseURL: f.srv.URL}
}

func (f *fakeGitea) fail(w http.ResponseWriter, format string, args ...any) {
	f.t.Errorf("fake Gitea: "+format, args...)
	writeJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf(format, args...)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is Gitea's APIError body.
func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "url": "https://git.example.com/api/swagger"})
}

// user authenticates a request the ways Gitea's API accepts: "token X",
// "Bearer X" or basic credentials. ok is false when credentials were sent
// but are wrong.
func (f *fakeGitea) user(r *http.Request) (name string, ok bool) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", true
	}
	if tok, found := strings.CutPrefix(auth, "token "); found {
		return testUser, tok == testToken
	}
	if tok, found := strings.CutPrefix(auth, "Bearer "); found {
		return testUser, tok == testToken
	}
	if u, p, found := r.BasicAuth(); found {
		return testUser, u == testUser && p == testPassword
	}
	return "", false
}

func (f *fakeGitea) api(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("User-Agent") == "" {
		f.fail(w, "%s %s: no User-Agent", r.Method, r.URL.Path)
		return
	}
	user, ok := f.user(r)
	if !ok {
		apiError(w, http.StatusUnauthorized, "user does not exist [uid: 0, name: ]")
		return
	}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == "/user/repos":
		if user == "" {
			apiError(w, http.StatusUnauthorized, "token is required")
			return
		}
		f.userRepos(w, r)
	case r.Method == http.MethodGet && path == "/repos/team/webhooks":
		if user == "" { // a private repository is hidden from anonymous users
			apiError(w, http.StatusNotFound, "The target couldn't be found.")
			return
		}
		writeJSON(w, http.StatusOK, repoJSON(f.srv.URL, "team/webhooks"))
	case r.Method == http.MethodGet && path == "/repos/team/webhooks/branches":
		f.branches(w, r)
	case r.Method == http.MethodGet && path == "/repos/team/broken":
		apiError(w, http.StatusInternalServerError, "GetRepositoryByName: database is locked")
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/repos/team/webhooks/statuses/"):
		if user == "" {
			apiError(w, http.StatusUnauthorized, "token is required")
			return
		}
		f.createStatus(w, r, strings.TrimPrefix(path, "/repos/team/webhooks/statuses/"))
	default:
		apiError(w, http.StatusNotFound, "The target couldn't be found.")
	}
}

// repoJSON is a repository as Gitea's API returns it, trimmed.
func repoJSON(host, fullName string) map[string]any {
	owner, name, _ := strings.Cut(fullName, "/")
	return map[string]any{
		"id": 140, "name": name, "full_name": fullName, "private": owner == "team",
		"owner":          map[string]any{"id": 3, "login": owner, "username": owner},
		"html_url":       host + "/" + fullName,
		"clone_url":      host + "/" + fullName + ".git",
		"ssh_url":        "ssh://git@git.example.com:2222/" + fullName + ".git",
		"default_branch": "main",
	}
}

// fakeRepos are the repositories /user/repos lists.
var fakeRepos = []string{"alice/dotfiles", "alice/notes", "team/api", "team/webhooks", "team/website", "infra/ansible", "infra/terraform"}

// page serves Gitea's page and limit parameters (both required here, as
// berth sends them; Gitea caps limit at MAX_RESPONSE_ITEMS) and writes
// Gitea's Link and X-Total-Count headers.
func page[T any](f *fakeGitea, w http.ResponseWriter, r *http.Request, items []T, maxLimit int) ([]T, bool) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 50 {
		f.fail(w, "%s: limit %q, want 1..50", r.URL.Path, q.Get("limit"))
		return nil, false
	}
	limit = min(limit, maxLimit)
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n < 1 {
		f.fail(w, "%s: page %q, want >= 1", r.URL.Path, q.Get("page"))
		return nil, false
	}
	last := max(1, (len(items)+limit-1)/limit)
	link := func(p int, rel string) string {
		return fmt.Sprintf(`<%s/api/v1%s?limit=%d&page=%d>; rel="%s"`, f.srv.URL, r.URL.Path, limit, p, rel)
	}
	var links []string
	if n < last {
		links = append(links, link(n+1, "next"), link(last, "last"))
	}
	if n > 1 {
		links = append(links, link(1, "first"), link(n-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ","))
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(len(items)))
	start := min((n-1)*limit, len(items))
	return items[start:min(start+limit, len(items))], true
}

func (f *fakeGitea) userRepos(w http.ResponseWriter, r *http.Request) {
	items, ok := page(f, w, r, fakeRepos, 50)
	if !ok {
		return
	}
	out := []any{}
	for _, name := range items {
		out = append(out, repoJSON(f.srv.URL, name))
	}
	writeJSON(w, http.StatusOK, out)
}

// branches serves five branches, two a page whatever the limit asked.
func (f *fakeGitea) branches(w http.ResponseWriter, r *http.Request) {
	type commit struct {
		ID      string `json:"id"`
		Message string `json:"message"`
		URL     string `json:"url"`
	}
	type branch struct {
		Name      string `json:"name"`
		Commit    commit `json:"commit"`
		Protected bool   `json:"protected"`
	}
	var all []branch
	for _, b := range []struct{ name, sha string }{
		{"main", f.mainHead}, {"feature", f.featureHead}, {"develop", f.mainHead}, {"release/1.x", f.mainHead}, {"docs", f.mainHead},
	} {
		all = append(all, branch{Name: b.name, Commit: commit{ID: b.sha, Message: "commit\n", URL: f.srv.URL + "/team/webhooks/commit/" + b.sha}, Protected: b.name == "main"})
	}
	items, ok := page(f, w, r, all, 2)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, items)
}

func (f *fakeGitea) createStatus(w http.ResponseWriter, r *http.Request, sha string) {
	if len(sha) != 40 || strings.Trim(sha, "0123456789abcdef") != "" {
		f.fail(w, "statuses: %q is not a full lower-case SHA", sha)
		return
	}
	body, err := gitfixture.DecodeBody(r, "state", "target_url", "description", "context")
	if err != nil {
		f.fail(w, "statuses: %v", err)
		return
	}
	switch body["state"] {
	case "pending", "success", "error", "failure", "warning":
	default:
		apiError(w, http.StatusUnprocessableEntity, "invalid state")
		return
	}
	f.mu.Lock()
	f.statuses = append(f.statuses, body)
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": 1, "status": body["state"], "context": body["context"]})
}
