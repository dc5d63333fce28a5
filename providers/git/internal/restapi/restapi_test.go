package restapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestNextLink(t *testing.T) {
	base := mustURL(t, "https://api.github.com/user/repos?page=1")
	tests := []struct{ header, want string }{
		{`<https://api.github.com/user/repos?page=2>; rel="next", <https://api.github.com/user/repos?page=5>; rel="last"`, "https://api.github.com/user/repos?page=2"},
		{`<https://api.github.com/user/repos?page=1>; rel="prev", <https://api.github.com/user/repos?page=3>; rel="next"`, "https://api.github.com/user/repos?page=3"},
		{`<https://api.github.com/user/repos?page=1>; rel="first", <https://api.github.com/user/repos?page=4>; rel="prev"`, ""},
		{`</api/v1/user/repos?limit=2&page=2>; rel="next"`, "https://api.github.com/api/v1/user/repos?limit=2&page=2"},
		{`<https://x/a?q=a,b>; title="x, y"; rel="next last"`, "https://x/a?q=a,b"},
		{`<https://x/a?page=2>; REL=NEXT`, "https://x/a?page=2"},
		{``, ""},
		{`garbage; rel="next"`, ""},
	}
	for _, tt := range tests {
		if got := NextLink(tt.header, base); got != tt.want {
			t.Errorf("NextLink(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestResolveStaysUnderTheRoot(t *testing.T) {
	c := &Client{Provider: "gitea", Base: mustURL(t, "https://git.example.com/gitea/api/v1")}
	ok := map[string]string{
		"repos/o/r/branches?page=2": "https://git.example.com/gitea/api/v1/repos/o/r/branches?page=2",
		"/user/repos":               "https://git.example.com/gitea/api/v1/user/repos",
		"https://git.example.com/gitea/api/v1/user/repos?page=3":       "https://git.example.com/gitea/api/v1/user/repos?page=3",
		"https://GIT.example.com/gitea/api/v1/repositories/7/branches": "https://GIT.example.com/gitea/api/v1/repositories/7/branches",
	}
	for ref, want := range ok {
		u, err := c.Resolve(ref)
		if err != nil || u.String() != want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", ref, u, err, want)
		}
	}
	for _, ref := range []string{
		"https://evil.example.com/gitea/api/v1/user/repos",
		"http://git.example.com/gitea/api/v1/user/repos",
		"https://git.example.com:8443/gitea/api/v1/user/repos",
		"https://git.example.com/gitea/api/v2/user/repos",
		"https://git.example.com/gitea/api/v1/../../admin",
		"https://user@git.example.com/gitea/api/v1/user/repos",
		"../../admin",
		"repos/%2e%2e/%2e%2e/admin",
		"user/repos#frag",
	} {
		if u, err := c.Resolve(ref); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Resolve(%q) = %v, %v; want sdk.ErrInvalidArgument", ref, u, err)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	reset := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		kind   error
		parts  []string
	}{
		{"401", 401, nil, `{"message":"Bad credentials"}`, sdk.ErrUnauthenticated, []string{"test: token rejected (401): GET /api/x: Bad credentials"}},
		{"401 credentials", 401, nil, `{"type":"error","error":{"message":"Token is invalid"}}`, sdk.ErrUnauthenticated, []string{"test: token rejected (401): GET /api/x: Token is invalid"}},
		{"403", 403, nil, `{"message":"Resource not accessible by integration"}`, sdk.ErrUnauthenticated, []string{"permission denied (403)", "Resource not accessible"}},
		{"403 rate limit", 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1714557600"}, `{"message":"API rate limit exceeded"}`, sdk.ErrUnavailable, []string{"rate limit exceeded (403), resets at " + reset.Format(time.RFC3339)}},
		{"403 secondary limit", 403, map[string]string{"Retry-After": "60"}, `{"message":"You have exceeded a secondary rate limit"}`, sdk.ErrUnavailable, []string{"rate limit exceeded (403), resets at"}},
		{"429", 429, nil, `{"message":"Too many requests"}`, sdk.ErrUnavailable, []string{"rate limit exceeded (429)"}},
		{"404", 404, nil, `{"message":"Not Found"}`, sdk.ErrNotFound, []string{"not found (404)"}},
		{"422 details", 422, nil, `{"message":"Validation Failed","errors":[{"field":"description","code":"custom","message":"description is too long"}]}`, sdk.ErrInvalidArgument, []string{"Validation Failed (description is too long)"}},
		{"500 text", 500, nil, "upstream\nexploded", sdk.ErrUnavailable, []string{"server error (500 Internal Server Error): GET /api/x: upstream exploded"}},
		{"502 html", 502, nil, "<html><body>Bad Gateway</body></html>", sdk.ErrUnavailable, []string{"server error (502 Bad Gateway): GET /api/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := &Client{Provider: "test", Base: mustURL(t, srv.URL+"/api"), Timeout: 5 * time.Second}
			_, err := c.Do(t.Context(), http.MethodGet, "x", nil, nil)
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status {
				t.Fatalf("error %v, want an *Error with status %d", err, tt.status)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %v does not match %v", err, tt.kind)
			}
			for _, p := range tt.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q lacks %q", err, p)
				}
			}
			if strings.Contains(err.Error(), "<html>") {
				t.Errorf("error %q shows an HTML page", err)
			}
		})
	}
}

func TestDoSendsAndDecodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token abc" || r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Link", `<`+"http://"+r.Host+`/api/v1/items?page=2>; rel="next"`)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id": 7}`))
	}))
	defer srv.Close()
	c := &Client{Provider: "test", Base: mustURL(t, srv.URL+"/api/v1"), Header: http.Header{"Authorization": {"token abc"}}}
	var out struct{ ID int }
	r, err := c.Do(t.Context(), http.MethodPost, "items", map[string]string{"a": "b"}, &out)
	if err != nil || out.ID != 7 || r.Status != 201 || r.Next != srv.URL+"/api/v1/items?page=2" {
		t.Errorf("Do = %+v, %+v, %v", r, out, err)
	}
	if _, err := (&Client{Provider: "test", Base: mustURL(t, "http://127.0.0.1:1/api")}).Do(t.Context(), http.MethodGet, "x", nil, nil); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("unreachable host: %v, want sdk.ErrUnavailable", err)
	}
}

func TestRedirectsStayOnTheOrigin(t *testing.T) {
	var leaked bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = true
	}))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/moved":
			http.Redirect(w, r, "/api/here", http.StatusMovedPermanently)
		case "/api/here":
			_, _ = w.Write([]byte(`{"id": 1}`))
		default:
			http.Redirect(w, r, elsewhere.URL+"/steal", http.StatusFound)
		}
	}))
	defer srv.Close()
	c := &Client{Provider: "test", Base: mustURL(t, srv.URL+"/api"), Header: http.Header{"Authorization": {"token abc"}}}
	var out struct{ ID int }
	if _, err := c.Do(t.Context(), http.MethodGet, "moved", nil, &out); err != nil || out.ID != 1 {
		t.Errorf("same-origin redirect: %+v, %v", out, err)
	}
	if _, err := c.Do(t.Context(), http.MethodGet, "away", nil, nil); err == nil || leaked {
		t.Errorf("cross-origin redirect: err %v, reached the other host: %v", err, leaked)
	}
}

func TestEachPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Query().Get("page")
		next := map[string]string{"1": "2", "2": "3", "3": ""}[page]
		if next != "" {
			w.Header().Set("Link", `</api/items?page=`+next+`>; rel="next"`)
		}
		_, _ = w.Write([]byte(`["item` + page + `"]`))
	}))
	defer srv.Close()
	c := &Client{Provider: "test", Base: mustURL(t, srv.URL+"/api")}
	var got []string
	collect := func(items []string) bool { got = append(got, items...); return true }
	if err := EachPage(t.Context(), c, "items?page=1", 5, collect); err != nil || strings.Join(got, ",") != "item1,item2,item3" {
		t.Errorf("EachPage = %v, %v", got, err)
	}
	got = nil
	if err := EachPage(t.Context(), c, "items?page=1", 2, collect); err == nil || len(got) != 2 {
		t.Errorf("EachPage past its limit = %v, %v; want an error after 2 pages", got, err)
	}
	got = nil
	stop := func(items []string) bool { got = append(got, items...); return false }
	if err := EachPage(t.Context(), c, "items?page=1", 5, stop); err != nil || len(got) != 1 {
		t.Errorf("EachPage stopped = %v, %v; want one page", got, err)
	}
}
