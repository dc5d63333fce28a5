package e2e_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// forgeKind is what differs between the hosted git services the fake forge
// stands in for: where their REST API lives, how git and the API
// authenticate, and which commit states they know.
type forgeKind struct {
	// name is used in messages ("GitHub").
	name string
	// apiPrefix is the REST API root on the host ("/api/v3" for GitHub
	// Enterprise Server, "/api/v1" for Gitea).
	apiPrefix string
	// gitAuthorized checks the basic credentials of a git request.
	gitAuthorized func(user, password, token string) bool
	// apiAuthorized checks an API request's headers.
	apiAuthorized func(h http.Header, token string) error
	// states are the commit states the service accepts.
	states []string
}

// githubKind is GitHub (Enterprise Server, whose API is under /api/v3 of
// its host): git over https as x-access-token with the token as password,
// the REST API with a bearer token and the documented media type.
var githubKind = forgeKind{
	name:      "GitHub",
	apiPrefix: "/api/v3",
	gitAuthorized: func(user, password, token string) bool {
		return user == "x-access-token" && password == token
	},
	apiAuthorized: func(h http.Header, token string) error {
		if h.Get("Authorization") != "Bearer "+token {
			return fmt.Errorf("Authorization is not the connection's bearer token")
		}
		if h.Get("Accept") != "application/vnd.github+json" || h.Get("X-GitHub-Api-Version") == "" {
			return fmt.Errorf("Accept %q, X-GitHub-Api-Version %q: want the documented media type and an API version",
				h.Get("Accept"), h.Get("X-GitHub-Api-Version"))
		}
		return nil
	},
	states: []string{"error", "failure", "pending", "success"},
}

// giteaKind is Gitea: git over https with the token as password (any user
// name), the REST API with "Authorization: token ...".
var giteaKind = forgeKind{
	name:      "Gitea",
	apiPrefix: "/api/v1",
	gitAuthorized: func(user, password, token string) bool {
		return user != "" && password == token
	},
	apiAuthorized: func(h http.Header, token string) error {
		if h.Get("Authorization") != "token "+token {
			return fmt.Errorf("Authorization is not the connection's token")
		}
		return nil
	},
	states: []string{"pending", "success", "error", "failure", "warning"},
}

// forgeStatus is a commit status the fake forge received.
type forgeStatus struct {
	Repository  string
	Commit      string
	State       string `json:"state"`
	TargetURL   string `json:"target_url"`
	Description string `json:"description"`
	Context     string `json:"context"`
}

// fakeForge is a local stand-in for a hosted git service, on 127.0.0.1 so
// that the berth process and its plugins reach it: it serves repositories
// over git's smart HTTP protocol (git http-backend) to the connection's
// credentials, and answers the commit status endpoint of the REST API,
// checking the documented request shape. Any other API call fails the
// test.
type fakeForge struct {
	t     *testing.T
	kind  forgeKind
	token string
	url   string
	root  string
	git   http.Handler

	mu       sync.Mutex
	statuses []forgeStatus
}

// newFakeForge starts a fake forge of kind accepting token.
func newFakeForge(t *testing.T, kind forgeKind, token string) *fakeForge {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v (is git installed? run `make test`)", err)
	}
	f := &fakeForge{t: t, kind: kind, token: token, root: t.TempDir()}
	f.git = &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + f.root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: f}}
	srv.Start()
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// addRepository serves the git directory of repo as owner/name.
func (f *fakeForge) addRepository(owner, name string, repo *gitRepo) {
	f.t.Helper()
	dir := filepath.Join(f.root, owner)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(repo.Dir, ".git"), filepath.Join(dir, name+".git")); err != nil {
		f.t.Fatal(err)
	}
}

var statusPath = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/statuses/([0-9a-f]{40})$`)

// ServeHTTP routes API calls under the API prefix and git everywhere else.
func (f *fakeForge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, isAPI := strings.CutPrefix(r.URL.Path, f.kind.apiPrefix+"/")
	if !isAPI {
		user, password, ok := r.BasicAuth()
		if !ok || !f.kind.gitAuthorized(user, password, f.token) {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+f.kind.name+`"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		f.git.ServeHTTP(w, r)
		return
	}
	if err := f.kind.apiAuthorized(r.Header, f.token); err != nil {
		f.t.Errorf("fake %s: %s %s: %v", f.kind.name, r.Method, r.URL.Path, err)
		writeForgeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	m := statusPath.FindStringSubmatch("/" + path)
	if r.Method != http.MethodPost || m == nil {
		f.t.Errorf("fake %s: unexpected API call %s %s", f.kind.name, r.Method, r.URL.Path)
		writeForgeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	st := forgeStatus{Repository: m[1] + "/" + m[2], Commit: m[3]}
	if err := f.checkStatus(r, &st); err != nil {
		f.t.Errorf("fake %s: commit status on %s@%s: %v", f.kind.name, st.Repository, st.Commit, err)
		writeForgeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": err.Error()})
		return
	}
	f.mu.Lock()
	f.statuses = append(f.statuses, st)
	f.mu.Unlock()
	writeForgeJSON(w, http.StatusCreated, map[string]any{"id": 1, "state": st.State, "context": st.Context,
		"description": st.Description, "target_url": st.TargetURL})
}

// checkStatus decodes a commit status request into st and checks it as the
// services document it: a JSON body of state (one of the kind's), context,
// optional description of at most 140 characters and optional absolute
// target_url, nothing else; and a repository the forge serves.
func (f *fakeForge) checkStatus(r *http.Request, st *forgeStatus) error {
	if _, err := os.Stat(filepath.Join(f.root, st.Repository+".git")); err != nil {
		return fmt.Errorf("no repository %s", st.Repository)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type %q, want application/json", ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(st); err != nil {
		return fmt.Errorf("body: %v", err)
	}
	known := false
	for _, s := range f.kind.states {
		known = known || s == st.State
	}
	switch {
	case !known:
		return fmt.Errorf("state %q is not one of %v", st.State, f.kind.states)
	case st.Context == "":
		return fmt.Errorf("no context")
	case utf8.RuneCountInString(st.Description) > 140:
		return fmt.Errorf("description of %d characters, more than 140", utf8.RuneCountInString(st.Description))
	}
	if st.TargetURL != "" {
		if u, err := url.Parse(st.TargetURL); err != nil || !u.IsAbs() {
			return fmt.Errorf("target_url %q is not an absolute URL", st.TargetURL)
		}
	}
	return nil
}

// statusLines returns the statuses posted for commit, one
// "state context target_url" line each.
func (f *fakeForge) statusLines(commit string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, st := range f.statuses {
		if st.Commit == commit {
			fmt.Fprintf(&b, "%s %s %s\n", st.State, st.Context, st.TargetURL)
		}
	}
	return b.String()
}

func writeForgeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
