package restapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
)

func TestProviderMessage(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{``, ``},
		{`{"message":"401 Unauthorized"}`, `401 Unauthorized`},
		{`{"message":{"name":["has already been taken"]}}`, `{"name":["has already been taken"]}`},
		{`{"error":"invalid_token","error_description":"Token was revoked."}`, `invalid_token: Token was revoked.`},
		{`{"type":"error","error":{"message":"Repository not found"}}`, `Repository not found`},
		{`{"type":"error","error":{"message":"Bad request","detail":"key is too long"}}`, `Bad request: key is too long`},
		{`{"type":"error","error":{"message":"Denied","detail":{"required":["repository"]}}}`, `Denied: {"required":["repository"]}`},
		{`<html><body>502 Bad Gateway</body></html>`, ``},
		{"Too many\n requests", `Too many requests`},
		{`"just a string"`, `"just a string"`},
		{strings.Repeat("x", 400), strings.Repeat("x", 299) + "…"},
	} {
		if got := providerMessage([]byte(c.body)); got != c.want {
			t.Errorf("providerMessage(%.40q) = %q, want %q", c.body, got, c.want)
		}
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		name    string
		status  int
		header  http.Header
		limited bool
		reset   time.Time
	}{
		{"429 without headers", 429, nil, true, time.Time{}},
		{"429 RateLimit-Reset", 429, http.Header{"Ratelimit-Reset": {"1767323100"}}, true, time.Unix(1767323100, 0)},
		{"429 Retry-After seconds", 429, http.Header{"Retry-After": {"30"}}, true, now.Add(30 * time.Second)},
		{"429 Retry-After date", 429, http.Header{"Retry-After": {"Fri, 02 Jan 2026 03:05:00 GMT"}}, true, time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)},
		{"403 exhausted", 403, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1767323100"}}, true, time.Unix(1767323100, 0)},
		{"403 with quota left", 403, http.Header{"X-Ratelimit-Remaining": {"12"}}, false, time.Time{}},
		{"403 plain", 403, nil, false, time.Time{}},
		{"500", 500, http.Header{"Retry-After": {"30"}}, false, time.Time{}},
	} {
		limited, reset := rateLimit(&http.Response{StatusCode: c.status, Header: c.header}, now)
		if limited != c.limited || !reset.Equal(c.reset) {
			t.Errorf("%s: rateLimit = %v, %v; want %v, %v", c.name, reset, limited, c.reset, c.limited)
		}
	}
}

func TestCheckURL(t *testing.T) {
	base, err := ParseBaseURL("https://api.example.com/2.0/")
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Provider: "test", Base: base}
	for _, u := range []string{
		"https://api.example.com/2.0/repositories?page=2",
		"https://api.example.com:443/2.0/repositories/ws/app/refs/branches?page=3",
		"HTTPS://API.example.com/2.0",
	} {
		if _, err := c.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%s) = %v, want it accepted", u, err)
		}
	}
	for _, u := range []string{
		"http://api.example.com/2.0/repositories",
		"https://api.example.com.evil.com/2.0/repositories",
		"https://evil.com/2.0/repositories",
		"https://api.example.com/2.0evil/repositories",
		"https://api.example.com/other",
		"https://user:pw@api.example.com/2.0/repositories",
		"/2.0/repositories",
		"2",
	} {
		if _, err := c.CheckURL(u); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("CheckURL(%s) = %v, want sdk.ErrInvalidArgument", u, err)
		}
	}
}

func TestPathsStayEscaped(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.RequestURI
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := &Client{Provider: "test", Base: mustURL(t, srv.URL+"/api/v4")}
	if _, err := c.Get(t.Context(), "/projects/group%2Fsub%2Fapp/repository/branches", map[string][]string{"page": {"2"}}, nil); err != nil {
		t.Fatal(err)
	}
	if want := "/api/v4/projects/group%2Fsub%2Fapp/repository/branches?page=2"; got != want {
		t.Errorf("request URI %s, want %s", got, want)
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"more than ten", 10, "more than…"},
		{"ééééé", 3, "éé…"},
	} {
		if got := Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
