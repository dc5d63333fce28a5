package gitfixture

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// NewHostServer starts a fake git host, stopped when the test ends: git's
// smart HTTP requests (see IsGitRequest) go to git, every other request to
// api.
func NewHostServer(t testing.TB, git http.Handler, api http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsGitRequest(r) {
			git.ServeHTTP(w, r)
			return
		}
		api(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Answer is a canned answer an API path gets instead of the fake's own
// (see Canned).
type Answer struct {
	Status int
	Header http.Header
	Body   string
}

// Canned holds canned answers by API path. The zero value holds none; it
// is safe for concurrent use.
type Canned struct {
	mu      sync.Mutex
	answers map[string]Answer
}

// Set makes every request to path get a.
func (c *Canned) Set(path string, a Answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answers == nil {
		c.answers = map[string]Answer{}
	}
	c.answers[path] = a
}

// Write answers w with the canned answer of path, as JSON, and reports
// whether there was one.
func (c *Canned) Write(w http.ResponseWriter, path string) bool {
	c.mu.Lock()
	a, ok := c.answers[path]
	c.mu.Unlock()
	if !ok {
		return false
	}
	for k, v := range a.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_, _ = w.Write([]byte(a.Body))
	return true
}

// WriteJSON answers w with status and v encoded as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Payload returns the webhook payload testdata/<name>.json of payloads
// (a package's embedded testdata), failing the test when it is missing.
func Payload(t testing.TB, payloads fs.FS, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(payloads, "testdata/"+name+".json")
	if err != nil {
		t.Fatalf("webhook payload: %v", err)
	}
	return b
}

// DecodeBody decodes the JSON object body of a request to a fake host,
// checking the shape hosts document for it: sent as application/json,
// only the named fields, each a string. The error says what is wrong, for
// the fake to fail the test with.
func DecodeBody(r *http.Request, fields ...string) (map[string]any, error) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		return nil, fmt.Errorf("body sent as %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %v", err)
	}
	for k, v := range body {
		if !slices.Contains(fields, k) {
			return nil, fmt.Errorf("body has %q, not a documented field (%s)", k, strings.Join(fields, ", "))
		}
		if _, isString := v.(string); !isString {
			return nil, fmt.Errorf("body field %s is %T, want a string", k, v)
		}
	}
	return body, nil
}
