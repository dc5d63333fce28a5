package httpsend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
)

const secretPath = "/services/T000/B000/XXXXsecretXXXXtoken"

func TestDo(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		body       string
		want       error
		wantAfter  time.Duration // -1: no RetryAfterError
		wantText   string
	}{
		{"ok", 200, "", "ok", nil, -1, ""},
		{"no content", 204, "", "", nil, -1, ""},
		{"rate limited seconds", 429, "7", "slow down", sdk.ErrUnavailable, 7 * time.Second, "slow down"},
		{"rate limited date", 429, time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), "", sdk.ErrUnavailable, time.Hour, "429"},
		{"rate limited no header", 429, "", "", sdk.ErrUnavailable, -1, "429"},
		{"server error", 502, "", "bad gateway", sdk.ErrUnavailable, -1, "bad gateway"},
		{"unavailable with retry", 503, "2", "", sdk.ErrUnavailable, 2 * time.Second, "503"},
		{"unauthorized", 401, "", "invalid_token", sdk.ErrUnauthenticated, -1, "invalid_token"},
		{"forbidden", 403, "", "no", sdk.ErrUnauthenticated, -1, "403"},
		{"not found", 404, "", "no_service", sdk.ErrNotFound, -1, "no_service"},
		{"bad request", 400, "", "invalid_blocks\n at " + secretPath, sdk.ErrInvalidArgument, -1, "invalid_blocks at [redacted]"},
		{"long error", 400, "", strings.Repeat("x", 5000), sdk.ErrInvalidArgument, -1, strings.Repeat("x", maxErrorText-1) + Ellipsis},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("User-Agent") != "berth-test/1" {
					t.Errorf("User-Agent = %q", r.Header.Get("User-Agent"))
				}
				if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Extra") != "1" {
					t.Errorf("headers %v", r.Header)
				}
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := &Client{UserAgent: "berth-test/1"}
			resp, body, err := c.PostJSON(t.Context(), srv.URL+secretPath+"?token=querysecret123", map[string]string{"a": "b"}, http.Header{"X-Extra": {"1"}})
			if tt.want == nil {
				if err != nil || resp.StatusCode != tt.status || string(body) != tt.body {
					t.Fatalf("Do = %v, %q, %v", resp, body, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Do error = %v, want %v", err, tt.want)
			}
			var ra *RetryAfterError
			switch {
			case tt.wantAfter < 0 && errors.As(err, &ra):
				t.Errorf("unexpected RetryAfterError %v", ra)
			case tt.wantAfter >= 0 && !errors.As(err, &ra):
				t.Errorf("no RetryAfterError in %v", err)
			case tt.wantAfter >= 0 && (ra.After > tt.wantAfter || ra.After < tt.wantAfter-2*time.Second):
				t.Errorf("RetryAfter = %v, want about %v", ra.After, tt.wantAfter)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantText) {
				t.Errorf("error %q lacks %q", msg, tt.wantText)
			}
			for _, secret := range []string{"XXXXsecretXXXXtoken", "querysecret123", "T000/B000"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q leaks %q", msg, secret)
				}
			}
		})
	}
}

func TestDoNetworkAndContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	addr := srv.URL
	srv.Close()
	c := &Client{}
	_, _, err := c.PostJSON(t.Context(), addr+secretPath, 1, nil)
	if !errors.Is(err, sdk.ErrUnavailable) || strings.Contains(err.Error(), "secret") {
		t.Errorf("closed server: %v, want ErrUnavailable without the path", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err = c.PostJSON(ctx, addr+secretPath, 1, nil)
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "secret") {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
	_, _, err = c.PostJSON(t.Context(), "http://h/\x7fsecretsecret", 1, nil)
	if !errors.Is(err, sdk.ErrInvalidArgument) || strings.Contains(err.Error(), "secret") {
		t.Errorf("bad URL: %v", err)
	}
}

func TestAuthorizationScrubbed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad token "+r.Header.Get("Authorization"), http.StatusUnauthorized)
	}))
	defer srv.Close()
	_, _, err := (&Client{}).PostJSON(t.Context(), srv.URL, 1, http.Header{"Authorization": {"Bearer tk_very_secret"}})
	if !errors.Is(err, sdk.ErrUnauthenticated) || strings.Contains(err.Error(), "tk_very_secret") {
		t.Errorf("err = %v", err)
	}
}

func TestLimitedBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, MaxResponseBytes+1000))
	}))
	defer srv.Close()
	_, body, err := (&Client{}).PostJSON(t.Context(), srv.URL, 1, nil)
	if err != nil || len(body) != MaxResponseBytes {
		t.Errorf("read %d bytes, %v; want %d", len(body), err, MaxResponseBytes)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"hello", 5, "hello"},
		{"hello", 10, "hello"},
		{"hello!", 5, "hell…"},
		{"héllo wörld", 6, "héllo…"},
		{"日本語テキスト", 3, "日本…"},
		{"abc", 1, "…"},
		{"abc", 0, ""},
		{"", 3, ""},
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.limit); got != tt.want || RuneLen(got) > max(tt.limit, 0) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	tests := map[string]bool{
		"https://hooks.slack.com/services/x": true,
		"http://127.0.0.1:8080/hook":         true,
		"":                                   false,
		"ftp://x/y":                          false,
		"https://":                           false,
		"/relative":                          false,
	}
	for in, ok := range tests {
		if got := CheckURL(in); (got == "") != ok {
			t.Errorf("CheckURL(%q) = %q, want ok=%v", in, got, ok)
		}
	}
}

func TestTruncateEscaped(t *testing.T) {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;").Replace
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"a<b", 10, "a&lt;b"},
		{"a<b", 6, "a&lt;b"},
		{"a<b", 5, "a…"},
		{"<<<<", 9, "&lt;&lt;…"},
		{"plain text", 6, "plain…"},
		{"&", 3, "…"},
		{"x", 0, ""},
		{strings.Repeat("<&", 3000), 3000, strings.Repeat("&lt;&amp;", 333) + "…"},
	}
	for _, tt := range tests {
		if got := TruncateEscaped(tt.in, tt.limit, esc); got != tt.want || RuneLen(got) > tt.limit {
			t.Errorf("TruncateEscaped(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	base := fmt.Errorf("POST https://api.x: token 123:abc refused: %w (%w)", sdk.ErrUnavailable, &RetryAfterError{After: time.Second})
	err := Redact(base, "123:abc", "")
	var ra *RetryAfterError
	if strings.Contains(err.Error(), "123:abc") || !errors.Is(err, sdk.ErrUnavailable) || !errors.As(err, &ra) || ra.After != time.Second {
		t.Errorf("Redact = %v", err)
	}
	if Redact(nil, "x") != nil {
		t.Error("Redact(nil) != nil")
	}
}
