package github

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/providers/git/internal/gitfixture"
	"github.com/berth-dev/berth/sdk"
)

// Test credentials the fake GitHub knows.
const (
	testToken          = "ghp_testPersonalToken123"
	testAppID          = "424242"
	testInstallationID = "99"
	rateLimitedToken   = "ghp_rateLimited"
)

// fakeGitHub is a local stand-in for the GitHub REST API (under /api/v3,
// as on GitHub Enterprise Server) and for GitHub's git smart HTTP (every
// other path). It answers as GitHub documents and fails the test when a
// request does not have the documented shape.
type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server
	key *rsa.PrivateKey
	// now is the fake's clock, which the provider under test shares.
	now func() time.Time

	mu        sync.Mutex
	exchanges int
	// installationTokens are the tokens handed out, valid until expiry.
	installationTokens map[string]time.Time
	statuses           []map[string]any

	mainHead, featureHead string
}

// testKey is generated once: RSA key generation is slow.
var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
)

func appKey(t *testing.T) *rsa.PrivateKey {
	testKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// appKeyPEM is the app key as GitHub hands it out (PKCS#1 PEM).
func appKeyPEM(t *testing.T) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(appKey(t))})
}

func newFakeGitHub(t *testing.T, now func() time.Time) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, key: appKey(t), now: now, installationTokens: map[string]time.Time{}}
	root := t.TempDir()
	repo := gitfixture.New(t, root, "octo-org/hello-world.git")
	f.mainHead, f.featureHead = repo.Main, repo.Feature
	git := gitfixture.SmartHTTP(t, root, func(user, password string, ok bool) bool {
		return ok && user == gitUser && f.validToken(password)
	})
	mux := http.NewServeMux()
	mux.Handle("/api/v3/", http.StripPrefix("/api/v3", http.HandlerFunc(f.api)))
	mux.Handle("/", git)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// apiURL is the API root to put in Credentials.BaseURL.
func (f *fakeGitHub) apiURL() string { return f.srv.URL + "/api/v3" }

func (f *fakeGitHub) validToken(tok string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if tok == testToken || tok == rateLimitedToken {
		return true
	}
	exp, ok := f.installationTokens[tok]
	return ok && f.now().Before(exp)
}

func (f *fakeGitHub) exchangeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exchanges
}

// fail reports a request of the wrong shape and answers 400.
func (f *fakeGitHub) fail(w http.ResponseWriter, format string, args ...any) {
	f.t.Errorf("fake GitHub: "+format, args...)
	writeJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf(format, args...)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitHub) api(w http.ResponseWriter, r *http.Request) {
	if got := r.Header.Get("Accept"); got != "application/vnd.github+json" {
		f.fail(w, "%s %s: Accept %q, want application/vnd.github+json", r.Method, r.URL.Path, got)
		return
	}
	if got := r.Header.Get("X-GitHub-Api-Version"); got != apiVersion {
		f.fail(w, "%s %s: X-GitHub-Api-Version %q, want %s", r.Method, r.URL.Path, got, apiVersion)
		return
	}
	if r.Header.Get("User-Agent") == "" {
		f.fail(w, "%s %s: no User-Agent (GitHub requires one)", r.Method, r.URL.Path)
		return
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/app/installations/") {
		f.accessToken(w, r)
		return
	}
	auth := r.Header.Get("Authorization")
	tok, bearer := strings.CutPrefix(auth, "Bearer ")
	switch {
	case auth != "" && (!bearer || !f.validToken(tok)):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	case tok == rateLimitedToken:
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "1714557600")
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})
		return
	}
	installation := bearer && strings.HasPrefix(tok, "ghs_")
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == "/user/repos":
		if auth == "" || installation {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Requires authentication"})
			return
		}
		f.userRepos(w, r)
	case r.Method == http.MethodGet && path == "/installation/repositories":
		if !installation {
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "You must authenticate with an installation access token in order to list repositories for an installation."})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"total_count":          1,
			"repository_selection": "selected",
			"repositories":         []any{repoJSON(f.srv.URL, "octo-org/hello-world", true)},
		})
	case r.Method == http.MethodGet && path == "/repos/octo-org/hello-world":
		writeJSON(w, http.StatusOK, repoJSON(f.srv.URL, "octo-org/hello-world", false))
	case r.Method == http.MethodGet && (path == "/repos/octo-org/hello-world/branches" || path == "/repositories/1296269/branches"):
		f.branches(w, r)
	case r.Method == http.MethodGet && path == "/repos/octo-org/broken":
		writeJSON(w, http.StatusBadGateway, map[string]string{"message": "Server Error"})
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/repos/octo-org/hello-world/statuses/"):
		if auth == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Requires authentication"})
			return
		}
		f.createStatus(w, r, strings.TrimPrefix(path, "/repos/octo-org/hello-world/statuses/"))
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
	}
}

// repoJSON is a repository as the REST API returns it, trimmed.
func repoJSON(host, fullName string, private bool) map[string]any {
	owner, name, _ := strings.Cut(fullName, "/")
	return map[string]any{
		"id": 1296269, "name": name, "full_name": fullName, "private": private,
		"owner":          map[string]any{"login": owner, "id": 6811672},
		"html_url":       host + "/" + fullName,
		"clone_url":      host + "/" + fullName + ".git",
		"ssh_url":        "git@github.com:" + fullName + ".git",
		"default_branch": "main",
	}
}

// fakeRepos are the repositories /user/repos lists, in full_name order.
var fakeRepos = []string{"hubot/dotfiles", "octo-org/api", "octo-org/hello-world", "octo-org/website", "octocat/linguist", "octocat/Spoon-Knife", "octocat/test"}

// pageLinks writes GitHub's Link header for page of last (1-based), with
// the other query parameters of r kept.
func pageLinks(w http.ResponseWriter, base string, r *http.Request, path string, page, last int) {
	link := func(n int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, base, path, q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"), link(1, "first"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
}

// paginate returns the page of items r asks for, with the page size of
// per_page (required to be 1..100).
func paginate[T any](f *fakeGitHub, w http.ResponseWriter, r *http.Request, items []T, perPage int) ([]T, int, int, bool) {
	page := 1
	if s := r.URL.Query().Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			f.fail(w, "bad page %q", s)
			return nil, 0, 0, false
		}
		page = n
	}
	last := max(1, (len(items)+perPage-1)/perPage)
	start := min((page-1)*perPage, len(items))
	end := min(start+perPage, len(items))
	return items[start:end], page, last, true
}

func (f *fakeGitHub) userRepos(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage < 1 || perPage > 100 {
		f.fail(w, "/user/repos: per_page %q, want 1..100", q.Get("per_page"))
		return
	}
	if q.Get("sort") != "full_name" {
		f.fail(w, "/user/repos: sort %q, want full_name", q.Get("sort"))
		return
	}
	items, page, last, ok := paginate(f, w, r, fakeRepos, perPage)
	if !ok {
		return
	}
	out := []any{}
	for _, name := range items {
		out = append(out, repoJSON(f.srv.URL, name, strings.HasPrefix(name, "octo-org/")))
	}
	pageLinks(w, f.apiURL(), r, "/user/repos", page, last)
	writeJSON(w, http.StatusOK, out)
}

// branches serves five branches, two a page (GitHub may serve fewer than
// per_page asks), with Link targets in the /repositories/{id} form GitHub
// uses.
func (f *fakeGitHub) branches(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("per_page") == "" {
		f.fail(w, "branches: no per_page")
		return
	}
	type branch struct {
		Name   string `json:"name"`
		Commit struct {
			SHA string `json:"sha"`
			URL string `json:"url"`
		} `json:"commit"`
		Protected bool `json:"protected"`
	}
	var all []branch
	for _, b := range []struct{ name, sha string }{
		{"main", f.mainHead}, {"feature", f.featureHead}, {"develop", f.mainHead}, {"release/1.x", f.mainHead}, {"gh-pages", f.mainHead},
	} {
		br := branch{Name: b.name, Protected: b.name == "main"}
		br.Commit.SHA = b.sha
		br.Commit.URL = f.apiURL() + "/repos/octo-org/hello-world/commits/" + b.sha
		all = append(all, br)
	}
	items, page, last, ok := paginate(f, w, r, all, 2)
	if !ok {
		return
	}
	pageLinks(w, f.apiURL(), r, "/repositories/1296269/branches", page, last)
	writeJSON(w, http.StatusOK, items)
}

func (f *fakeGitHub) createStatus(w http.ResponseWriter, r *http.Request, sha string) {
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
	case "error", "failure", "pending", "success":
	default:
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": []any{map[string]string{"resource": "Status", "code": "custom", "field": "state", "message": "state is not included in the list"}}})
		return
	}
	if d, _ := body["description"].(string); len([]rune(d)) > 140 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": []any{map[string]string{"resource": "Status", "code": "custom", "field": "description", "message": "description is too long (maximum is 140 characters)"}}})
		return
	}
	f.mu.Lock()
	f.statuses = append(f.statuses, body)
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": 1, "state": body["state"], "context": body["context"]})
}

// accessToken serves POST /app/installations/{id}/access_tokens: the
// Authorization header must carry an RS256 JWT signed with the app's key,
// issued by the app, within GitHub's time limits.
func (f *fakeGitHub) accessToken(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/app/installations/"), "/access_tokens")
	jwt, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded"})
		return
	}
	if err := verifyAppJWT(jwt, &f.key.PublicKey, testAppID, f.now()); err != nil {
		f.t.Errorf("fake GitHub: app JWT: %v", err)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded"})
		return
	}
	if id != testInstallationID {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	f.mu.Lock()
	f.exchanges++
	tok := fmt.Sprintf("ghs_installationToken%d", f.exchanges)
	expires := f.now().Add(time.Hour).Truncate(time.Second)
	f.installationTokens[tok] = expires
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"token":                tok,
		"expires_at":           expires.UTC().Format(time.RFC3339),
		"permissions":          map[string]string{"contents": "read", "statuses": "write", "metadata": "read"},
		"repository_selection": "selected",
	})
}

// verifyAppJWT checks a GitHub App JWT the way GitHub does: RS256 signature
// with the app's public key, iss the app id, iat not in the future, exp
// after now and at most 10 minutes after iat.
func verifyAppJWT(token string, pub *rsa.PublicKey, appID string, now time.Time) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%d parts, want 3", len(parts))
	}
	dec := base64.RawURLEncoding
	var header struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	var claims struct {
		Iat int64           `json:"iat"`
		Exp int64           `json:"exp"`
		Iss json.RawMessage `json:"iss"`
	}
	for i, v := range []any{&header, &claims} {
		b, err := dec.DecodeString(parts[i])
		if err != nil {
			return fmt.Errorf("part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("part %d: %v", i, err)
		}
	}
	sig, err := dec.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("signature: %v", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch {
	case header.Alg != "RS256":
		return fmt.Errorf("alg %q, want RS256", header.Alg)
	case rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil:
		return fmt.Errorf("signature does not verify with the app's public key")
	case strings.Trim(string(claims.Iss), `"`) != appID:
		return fmt.Errorf("iss %s, want %s", claims.Iss, appID)
	case claims.Iat > now.Unix():
		return fmt.Errorf("iat %d is in the future (now %d)", claims.Iat, now.Unix())
	case claims.Exp <= now.Unix():
		return fmt.Errorf("exp %d has passed (now %d)", claims.Exp, now.Unix())
	case claims.Exp-claims.Iat > 600:
		return fmt.Errorf("exp - iat = %ds, GitHub allows at most 600", claims.Exp-claims.Iat)
	}
	return nil
}

// clock is a settable clock for token expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setup returns a provider and a fake GitHub sharing a clock.
func setup(t *testing.T) (*Provider, *fakeGitHub, *clock) {
	t.Helper()
	clk := newClock()
	f := newFakeGitHub(t, clk.Now)
	p := New()
	p.now = clk.Now
	return p, f, clk
}

func tokenCreds(f *fakeGitHub, token string) *sdk.Credentials {
	return &sdk.Credentials{Token: token, BaseURL: f.apiURL()}
}

func appCreds(t *testing.T, f *fakeGitHub) *sdk.Credentials {
	return &sdk.Credentials{BaseURL: f.apiURL(), App: &sdk.AppCredentials{AppID: testAppID, InstallationID: testInstallationID, PrivateKey: appKeyPEM(t)}}
}
