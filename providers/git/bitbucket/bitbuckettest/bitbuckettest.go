// Package bitbuckettest is a local stand-in for Bitbucket Cloud, for the
// tests of berth's bitbucket plugin: an HTTP server that answers the REST
// API 2.0 calls the plugin makes as Bitbucket documents them (paginated
// {"values", "next"} bodies, build statuses with their field limits),
// serves real git repositories over smart HTTP behind Bitbucket's basic
// authentication (x-token-auth for access tokens, the username for app
// passwords, x-bitbucket-api-token-auth for API tokens), and fails the test
// when a request does not have the documented shape. It also holds webhook
// payloads modelled on Bitbucket's documented examples and signs them.
//
// The server's URL plays both bitbucket.org (git) and, under /2.0,
// api.bitbucket.org.
package bitbuckettest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

// Account is who the fake Bitbucket lets in. Empty fields are not
// accepted.
type Account struct {
	// AccessToken is a repository, project or workspace access token:
	// "Authorization: Bearer" for the API, user x-token-auth for git.
	AccessToken string
	// Username and AppPassword: basic authentication for the API and git.
	Username, AppPassword string
	// Email and APIToken: basic authentication email:token for the API;
	// git takes the token with the user x-bitbucket-api-token-auth or
	// Username.
	Email, APIToken string
}

// Repository is a repository the fake Bitbucket knows.
type Repository struct {
	// FullName is "workspace/slug".
	FullName   string
	MainBranch string
	Private    bool
	Branches   []Branch
}

// Branch is a branch of a Repository.
type Branch struct {
	Name   string
	Commit string
}

// Status is a build status the fake Bitbucket received.
type Status struct {
	Repository string
	SHA        string
	// Body is the request's JSON body, as sent.
	Body map[string]any
}

// Answer is a canned answer for a path, set with Server.Fail.
type Answer = gitfixture.Answer

// Server is a fake Bitbucket Cloud. The API root is URL + "/2.0".
type Server struct {
	*httptest.Server
	Account Account
	// Root holds the bare repositories served over git's smart HTTP.
	Root string

	t        testing.TB
	mu       sync.Mutex
	repos    []Repository
	statuses []Status
	answers  gitfixture.Canned
}

// NewServer starts a fake Bitbucket accepting account, stopped when the
// test ends.
func NewServer(t testing.TB, account Account) *Server {
	t.Helper()
	s := &Server{t: t, Account: account, Root: t.TempDir()}
	git := gitfixture.SmartHTTP(t, s.Root, func(user, password string, ok bool) bool {
		a := account
		return ok && password != "" &&
			(user == "x-token-auth" && password == a.AccessToken ||
				user == a.Username && password == a.AppPassword ||
				(user == "x-bitbucket-api-token-auth" || user == a.Username) && password == a.APIToken)
	})
	s.Server = gitfixture.NewHostServer(t, git, s.serveAPI)
	return s
}

// APIURL is the API root, as a connection's BaseURL.
func (s *Server) APIURL() string { return s.URL + "/2.0" }

// AddRepository adds a repository (without git content).
func (s *Server) AddRepository(r Repository) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos = append(s.repos, r)
}

// AddGitRepository creates a real bare repository for "workspace/slug"
// (see gitfixture.New: branches main and feature), served over smart
// HTTP, and adds it with those branches and main as its main branch.
func (s *Server) AddGitRepository(fullName string) *gitfixture.Repository {
	s.t.Helper()
	repo := gitfixture.New(s.t, s.Root, fullName+".git")
	s.AddRepository(Repository{
		FullName: fullName, MainBranch: "main", Private: true,
		Branches: []Branch{{Name: "main", Commit: repo.Main}, {Name: "feature", Commit: repo.Feature}},
	})
	return repo
}

// Fail makes every request to an API path (escaped, relative to /2.0, for
// example "/repositories") get answer a.
func (s *Server) Fail(path string, a Answer) {
	s.answers.Set(path, a)
}

// Statuses returns the build statuses received so far.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Status(nil), s.statuses...)
}

// bitbucketError answers with Bitbucket's error body.
func bitbucketError(w http.ResponseWriter, status int, message string, fields map[string][]string) {
	e := map[string]any{"message": message}
	if fields != nil {
		e["fields"] = fields
	}
	writeJSON(w, status, map[string]any{"type": "error", "error": e})
}

// errorf fails the test and answers 400.
func (s *Server) errorf(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.t.Errorf("bitbuckettest: %s", msg)
	bitbucketError(w, http.StatusBadRequest, msg, nil)
}

// writeJSON answers with status and v as JSON.
var writeJSON = gitfixture.WriteJSON

// authenticated checks the API credentials.
func (s *Server) authenticated(r *http.Request) bool {
	a := s.Account
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return a.AccessToken != "" && bearer == a.AccessToken
	}
	user, password, ok := r.BasicAuth()
	return ok && password != "" &&
		(user == a.Username && password == a.AppPassword || user == a.Email && password == a.APIToken)
}

// serveAPI answers /2.0 calls.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), "/2.0")
	if !ok {
		s.errorf(w, "unexpected request %s %s (not git, not /2.0)", r.Method, r.URL)
		return
	}
	if !s.authenticated(r) {
		bitbucketError(w, http.StatusUnauthorized, "Token is invalid, expired, or not supported for this endpoint.", nil)
		return
	}
	if s.answers.Write(w, path) {
		return
	}
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if seg[0] != "repositories" {
		s.errorf(w, "unexpected request %s %s", r.Method, r.URL)
		return
	}
	if len(seg) == 1 && r.Method == http.MethodGet {
		s.listRepositories(w, r)
		return
	}
	if len(seg) < 3 {
		s.errorf(w, "unexpected request %s %s", r.Method, r.URL)
		return
	}
	ws, _ := url.PathUnescape(seg[1])
	slug, _ := url.PathUnescape(seg[2])
	repo, found := s.repository(ws + "/" + slug)
	if !found {
		bitbucketError(w, http.StatusNotFound, fmt.Sprintf("Repository %s/%s not found", ws, slug), nil)
		return
	}
	rest := strings.Join(seg[3:], "/")
	switch {
	case rest == "" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.repositoryJSON(repo))
	case rest == "refs/branches" && r.Method == http.MethodGet:
		s.listBranches(w, r, repo)
	case len(seg) == 7 && seg[3] == "commit" && seg[5] == "statuses" && seg[6] == "build" && r.Method == http.MethodPost:
		s.postStatus(w, r, repo, seg[4])
	default:
		s.errorf(w, "unexpected request %s %s", r.Method, r.URL)
	}
}

func (s *Server) repository(fullName string) (Repository, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.repos {
		if r.FullName == fullName {
			return r, true
		}
	}
	return Repository{}, false
}

func (s *Server) repositoryJSON(r Repository) map[string]any {
	ws, slug, _ := strings.Cut(r.FullName, "/")
	return map[string]any{
		"type": "repository", "full_name": r.FullName, "name": slug, "slug": slug, "is_private": r.Private, "scm": "git",
		"mainbranch": map[string]any{"type": "branch", "name": r.MainBranch},
		"workspace":  map[string]any{"type": "workspace", "slug": ws},
		"links": map[string]any{
			"self": map[string]any{"href": s.APIURL() + "/repositories/" + r.FullName},
			"html": map[string]any{"href": s.URL + "/" + r.FullName},
			"clone": []map[string]any{
				{"name": "https", "href": strings.Replace(s.URL, "://", "://someone@", 1) + "/" + r.FullName + ".git"},
				{"name": "ssh", "href": "git@" + strings.TrimPrefix(s.URL, "http://") + ":" + r.FullName + ".git"},
			},
		},
	}
}

// paginate checks pagelen and page and returns the page's bounds and the
// absolute URL of the next page ("" on the last one).
func (s *Server) paginate(w http.ResponseWriter, r *http.Request, total int) (lo, hi int, next string, ok bool) {
	q := r.URL.Query()
	pagelen := 10 // Bitbucket's default
	if v := q.Get("pagelen"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			s.errorf(w, "pagelen=%q: want 1 to 100", v)
			return 0, 0, "", false
		}
		pagelen = n
	}
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.errorf(w, "page=%q: want a positive number", v)
			return 0, 0, "", false
		}
		page = n
	}
	lo, hi = min((page-1)*pagelen, total), min(page*pagelen, total)
	if hi < total {
		q.Set("page", strconv.Itoa(page+1))
		next = s.URL + r.URL.EscapedPath() + "?" + q.Encode()
	}
	return lo, hi, next, true
}

func page(values []map[string]any, r *http.Request, total int, next string) map[string]any {
	p := map[string]any{"values": values, "size": total, "pagelen": len(values)}
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil {
		p["page"] = n
	} else {
		p["page"] = 1
	}
	if next != "" {
		p["next"] = next
	}
	return p
}

// bbqlContains matches the BBQL filter the plugin sends.
var bbqlContains = regexp.MustCompile(`^full_name ~ "((?:[^"\\]|\\.)*)"$`)

func (s *Server) listRepositories(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("role") != "member" {
		s.errorf(w, "GET /repositories without role=member lists every public repository of Bitbucket")
		return
	}
	if v := q.Get("sort"); v != "" && strings.TrimPrefix(v, "-") != "full_name" && strings.TrimPrefix(v, "-") != "updated_on" {
		s.errorf(w, "sort=%q: unexpected sort field", v)
		return
	}
	filter := ""
	if v := q.Get("q"); v != "" {
		m := bbqlContains.FindStringSubmatch(v)
		if m == nil {
			s.errorf(w, "q=%q: not a BBQL full_name ~ \"...\" filter", v)
			return
		}
		filter = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(m[1])
	}
	s.mu.Lock()
	var matched []Repository
	for _, repo := range s.repos {
		if strings.Contains(strings.ToLower(repo.FullName), strings.ToLower(filter)) {
			matched = append(matched, repo)
		}
	}
	s.mu.Unlock()
	sort.Slice(matched, func(i, j int) bool { return matched[i].FullName < matched[j].FullName })
	lo, hi, next, ok := s.paginate(w, r, len(matched))
	if !ok {
		return
	}
	values := []map[string]any{}
	for _, repo := range matched[lo:hi] {
		values = append(values, s.repositoryJSON(repo))
	}
	writeJSON(w, http.StatusOK, page(values, r, len(matched), next))
}

func (s *Server) listBranches(w http.ResponseWriter, r *http.Request, repo Repository) {
	lo, hi, next, ok := s.paginate(w, r, len(repo.Branches))
	if !ok {
		return
	}
	values := []map[string]any{}
	for _, b := range repo.Branches[lo:hi] {
		values = append(values, map[string]any{
			"type": "branch", "name": b.Name,
			"target": map[string]any{"type": "commit", "hash": b.Commit, "message": "a commit\n"},
			"links":  map[string]any{"html": map[string]any{"href": s.URL + "/" + repo.FullName + "/branch/" + b.Name}},
		})
	}
	writeJSON(w, http.StatusOK, page(values, r, len(repo.Branches), next))
}

// buildStates are the states Bitbucket accepts for a build status.
var buildStates = map[string]bool{"INPROGRESS": true, "SUCCESSFUL": true, "FAILED": true, "STOPPED": true}

// buildFields are the fields Bitbucket documents for a build status.
var buildFields = []string{"key", "state", "url", "name", "description", "refname"}

func (s *Server) postStatus(w http.ResponseWriter, r *http.Request, repo Repository, sha string) {
	body, err := gitfixture.DecodeBody(r, buildFields...)
	if err != nil {
		s.errorf(w, "build status: %v", err)
		return
	}
	str := func(k string) string { v, _ := body[k].(string); return v }
	fields := map[string][]string{}
	for k, limit := range map[string]int{"key": 40, "name": 255} {
		if n := utf8.RuneCountInString(str(k)); n > limit {
			fields[k] = []string{fmt.Sprintf("Ensure this value has at most %d characters (it has %d).", limit, n)}
		}
	}
	for _, k := range []string{"key", "state", "url"} {
		if str(k) == "" {
			fields[k] = []string{"This field is required."}
		}
	}
	if len(fields) > 0 {
		s.t.Errorf("bitbuckettest: build status refused: %v", fields)
		bitbucketError(w, http.StatusBadRequest, "Bad request", fields)
		return
	}
	if !buildStates[str("state")] {
		s.errorf(w, "build status state %q is not one of Bitbucket's", str("state"))
		return
	}
	s.mu.Lock()
	s.statuses = append(s.statuses, Status{Repository: repo.FullName, SHA: sha, Body: body})
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"type": "build", "key": str("key"), "state": str("state"), "url": str("url"), "name": str("name"),
		"description": str("description"), "uuid": "{5d8e0a2c-3f1b-4c6d-9e8f-0a1b2c3d4e5f}",
	})
}

//go:embed testdata/*.json
var payloads embed.FS

// Payload returns the webhook payload testdata/<name>.json.
func Payload(t testing.TB, name string) []byte {
	t.Helper()
	return gitfixture.Payload(t, payloads, name)
}

// SignedRequest is a webhook delivery as Bitbucket Cloud sends it: the
// event in X-Event-Key and X-Hub-Signature "sha256=<hex HMAC-SHA256 of the
// body with the secret>".
func SignedRequest(event string, body []byte, secret string) sdk.ParseWebhookRequest {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Bitbucket-Webhooks/2.0")
	h.Set("X-Event-Key", event)
	h.Set("X-Hook-UUID", "{0f6b5c64-2c4e-4a7b-9e1d-6f3c2b1a0e9d}")
	h.Set("X-Request-UUID", "3b8f1c2d-4e5a-4b6c-8d7e-9f0a1b2c3d4e")
	h.Set("X-Attempt-Number", "1")
	h.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	return sdk.ParseWebhookRequest{Header: h, Body: bytes.Clone(body), Secret: secret}
}
