// Package gitlabtest is a local stand-in for GitLab, for the tests of
// berth's gitlab plugin: an HTTP server that answers the REST API v4 calls
// the plugin makes as GitLab documents them (offset pagination with
// X-Next-Page, URL-encoded project paths, commit statuses that refuse a
// same-state transition), serves real git repositories over smart HTTP
// behind GitLab's "oauth2" + token basic authentication, and fails the test
// when a request does not have the documented shape. It also holds webhook
// payloads modelled on GitLab's documented examples and signs them.
package gitlabtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

// Project is a project the fake GitLab knows.
type Project struct {
	PathWithNamespace string
	DefaultBranch     string
	// Visibility is "private", "internal" or "public".
	Visibility string
	Branches   []Branch
}

// Branch is a branch of a Project.
type Branch struct {
	Name   string
	Commit string
}

// Status is a commit status the fake GitLab received.
type Status struct {
	// Project is the decoded project path of the request.
	Project string
	SHA     string
	// Body is the request's JSON body, as sent.
	Body map[string]any
}

// Answer is a canned answer for a path, set with Server.Fail.
type Answer = gitfixture.Answer

// Server is a fake GitLab instance. Its URL is the instance root (the API
// is under /api/v4).
type Server struct {
	*httptest.Server
	// Token is the access token the API and git accept.
	Token string
	// Root holds the bare repositories served over git's smart HTTP.
	Root string

	t        testing.TB
	mu       sync.Mutex
	projects []Project
	statuses []Status
	answers  gitfixture.Canned
}

// NewServer starts a fake GitLab accepting token, stopped when the test
// ends.
func NewServer(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{t: t, Token: token, Root: t.TempDir()}
	git := gitfixture.SmartHTTP(t, s.Root, func(user, password string, ok bool) bool {
		return ok && user == "oauth2" && password == token
	})
	s.Server = gitfixture.NewHostServer(t, git, s.serveAPI)
	return s
}

// AddProject adds a project (without a git repository).
func (s *Server) AddProject(p Project) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projects = append(s.projects, p)
}

// AddRepository creates a real bare repository for project name (see
// gitfixture.New: branches main and feature), served over smart HTTP, and
// adds the project with those branches and main as its default.
func (s *Server) AddRepository(name string) *gitfixture.Repository {
	s.t.Helper()
	repo := gitfixture.New(s.t, s.Root, name+".git")
	s.AddProject(Project{
		PathWithNamespace: name, DefaultBranch: "main", Visibility: "private",
		Branches: []Branch{{Name: "main", Commit: repo.Main}, {Name: "feature", Commit: repo.Feature}},
	})
	return repo
}

// Fail makes every request to an API path (escaped, relative to /api/v4,
// for example "/projects") get answer a.
func (s *Server) Fail(path string, a Answer) {
	s.answers.Set(path, a)
}

// Statuses returns the commit statuses received so far.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Status(nil), s.statuses...)
}

// errorf fails the test and answers 400, as GitLab does for a malformed
// request.
func (s *Server) errorf(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.t.Errorf("gitlabtest: %s", msg)
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": msg})
}

// writeJSON answers with status and v as JSON.
var writeJSON = gitfixture.WriteJSON

// serveAPI answers /api/v4 calls.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), "/api/v4")
	if !ok {
		s.errorf(w, "unexpected request %s %s (not git, not /api/v4)", r.Method, r.URL)
		return
	}
	token := r.Header.Get("PRIVATE-TOKEN")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = bearer
	}
	if token != s.Token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}
	if s.answers.Write(w, path) {
		return
	}
	segments := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case len(segments) == 1 && segments[0] == "projects" && r.Method == http.MethodGet:
		s.listProjects(w, r)
	case len(segments) >= 2 && segments[0] == "projects":
		name, err := url.PathUnescape(segments[1])
		p, found := s.project(name)
		if err != nil || !found {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
			return
		}
		rest := strings.Join(segments[2:], "/")
		switch {
		case rest == "" && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, projectJSON(s.URL, p))
		case rest == "repository/branches" && r.Method == http.MethodGet:
			s.listBranches(w, r, p)
		case len(segments) == 4 && segments[2] == "statuses" && r.Method == http.MethodPost:
			s.postStatus(w, r, p, segments[3])
		default:
			s.errorf(w, "unexpected request %s %s", r.Method, r.URL)
		}
	default:
		s.errorf(w, "unexpected request %s %s", r.Method, r.URL)
	}
}

func (s *Server) project(name string) (Project, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.projects {
		if p.PathWithNamespace == name {
			return p, true
		}
	}
	return Project{}, false
}

func projectJSON(base string, p Project) map[string]any {
	return map[string]any{
		"id":                  len(p.PathWithNamespace),
		"path":                p.PathWithNamespace[strings.LastIndex(p.PathWithNamespace, "/")+1:],
		"path_with_namespace": p.PathWithNamespace,
		"default_branch":      p.DefaultBranch,
		"visibility":          p.Visibility,
		"web_url":             base + "/" + p.PathWithNamespace,
		"http_url_to_repo":    base + "/" + p.PathWithNamespace + ".git",
		"ssh_url_to_repo":     "git@" + strings.TrimPrefix(base, "http://") + ":" + p.PathWithNamespace + ".git",
		"archived":            false,
	}
}

// paginate checks per_page and page as GitLab documents them and writes
// the pagination headers; it returns the bounds of the page.
func (s *Server) paginate(w http.ResponseWriter, r *http.Request, total int) (lo, hi int, ok bool) {
	q := r.URL.Query()
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage < 1 || perPage > 100 {
		s.errorf(w, "per_page=%q: want 1 to 100", q.Get("per_page"))
		return 0, 0, false
	}
	page := 1
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			s.errorf(w, "page=%q: want a positive number", v)
			return 0, 0, false
		}
	}
	lo, hi = min((page-1)*perPage, total), min(page*perPage, total)
	pages := max(1, (total+perPage-1)/perPage)
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(perPage))
	h.Set("X-Total", strconv.Itoa(total))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Next-Page", "")
	h.Set("X-Prev-Page", "")
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
	}
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
	}
	return lo, hi, true
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("membership") != "true" {
		s.errorf(w, "GET /projects without membership=true lists every public project of the instance")
		return
	}
	s.mu.Lock()
	var matched []Project
	for _, p := range s.projects {
		if strings.Contains(p.PathWithNamespace, q.Get("search")) {
			matched = append(matched, p)
		}
	}
	s.mu.Unlock()
	sort.Slice(matched, func(i, j int) bool { return matched[i].PathWithNamespace < matched[j].PathWithNamespace })
	lo, hi, ok := s.paginate(w, r, len(matched))
	if !ok {
		return
	}
	out := []map[string]any{}
	for _, p := range matched[lo:hi] {
		out = append(out, projectJSON(s.URL, p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listBranches(w http.ResponseWriter, r *http.Request, p Project) {
	lo, hi, ok := s.paginate(w, r, len(p.Branches))
	if !ok {
		return
	}
	out := []map[string]any{}
	for _, b := range p.Branches[lo:hi] {
		out = append(out, map[string]any{
			"name":      b.Name,
			"merged":    false,
			"protected": b.Name == p.DefaultBranch,
			"default":   b.Name == p.DefaultBranch,
			"web_url":   s.URL + "/" + p.PathWithNamespace + "/-/tree/" + b.Name,
			"commit":    map[string]any{"id": b.Commit, "short_id": b.Commit[:8], "title": "a commit"},
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// gitlabStates are the states POST /projects/:id/statuses/:sha accepts.
var gitlabStates = map[string]bool{"pending": true, "running": true, "success": true, "failed": true, "canceled": true, "skipped": true}

// statusFields are the string body attributes GitLab documents for commit
// statuses (berth sends neither coverage nor pipeline_id).
var statusFields = []string{"state", "ref", "name", "context", "target_url", "description"}

func (s *Server) postStatus(w http.ResponseWriter, r *http.Request, p Project, sha string) {
	body, err := gitfixture.DecodeBody(r, statusFields...)
	if err != nil {
		s.errorf(w, "commit status: %v", err)
		return
	}
	state, _ := body["state"].(string)
	if !gitlabStates[state] {
		s.errorf(w, "commit status state %q is not one of GitLab's", state)
		return
	}
	name, _ := body["name"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.statuses) - 1; i >= 0; i-- {
		prev := s.statuses[i]
		if prev.SHA == sha && prev.Project == p.PathWithNamespace && prev.Body["name"] == name {
			if prev.Body["state"] == state {
				// GitLab's commit status state machine refuses this.
				event := map[string]string{"pending": "enqueue", "running": "run", "success": "succeed", "failed": "drop"}[state]
				writeJSON(w, http.StatusBadRequest, map[string]string{
					"message": fmt.Sprintf("Cannot transition status via :%s from :%s (Reason(s): Status cannot transition via %q)", event, state, event),
				})
				return
			}
			break
		}
	}
	s.statuses = append(s.statuses, Status{Project: p.PathWithNamespace, SHA: sha, Body: body})
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": len(s.statuses), "sha": sha, "ref": p.DefaultBranch, "status": state, "name": name,
		"target_url": body["target_url"], "description": body["description"], "created_at": time.Now().UTC().Format(time.RFC3339),
		"allow_failure": false, "author": map[string]any{"username": "berth"},
	})
}

//go:embed testdata/*.json
var payloads embed.FS

// Payload returns the webhook payload testdata/<name>.json.
func Payload(t testing.TB, name string) []byte {
	t.Helper()
	return gitfixture.Payload(t, payloads, name)
}

// TokenRequest is a webhook delivery authenticated with a secret token, as
// GitLab sends it: the token as is in X-Gitlab-Token.
func TokenRequest(event string, body []byte, secret string) sdk.ParseWebhookRequest {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Gitlab-Event", event)
	h.Set("X-Gitlab-Instance", "https://gitlab.example.com")
	h.Set("X-Gitlab-Webhook-UUID", "0c9dcd4f-6b1c-4bb0-a5b0-63e1b4c6f0d1")
	h.Set("X-Gitlab-Token", secret)
	return sdk.ParseWebhookRequest{Header: h, Body: body, Secret: secret}
}

// SignedRequest is a webhook delivery signed with a signing token, as
// GitLab sends it (Standard Webhooks): webhook-id, webhook-timestamp and
// webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>".
func SignedRequest(event string, body []byte, signingToken string, at time.Time) sdk.ParseWebhookRequest {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(signingToken, "whsec_"))
	if err != nil {
		panic("gitlabtest: signing token is not whsec_<base64>")
	}
	id := "d1f3c0b2-8a4e-4f7a-9b6d-2e5c7a9f1b3d"
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Gitlab-Event", event)
	h.Set("Idempotency-Key", id)
	h.Set("Webhook-Id", id)
	h.Set("Webhook-Timestamp", ts)
	h.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return sdk.ParseWebhookRequest{Header: h, Body: bytes.Clone(body), Secret: signingToken}
}

// NewSigningToken returns a random signing token in GitLab's format,
// "whsec_" and the base64 of 32 random bytes.
func NewSigningToken() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}
