package pages

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandler(t *testing.T) {
	custom := "<h1>Back at noon</h1>"
	tests := []struct {
		name, method, page, retry string
		wantBody, wantRetry       string
	}{
		{"GET with page and retry", http.MethodGet, base64.StdEncoding.EncodeToString([]byte(custom)), "300", custom, "300"},
		{"POST gets the page too", http.MethodPost, base64.StdEncoding.EncodeToString([]byte(custom)), "60", custom, "60"},
		{"HEAD has no body", http.MethodHead, base64.StdEncoding.EncodeToString([]byte(custom)), "60", "", "60"},
		{"no headers", http.MethodGet, "", "", fallbackPage, "120"},
		{"page not base64", http.MethodGet, "%%%", "x", fallbackPage, "120"},
		{"page too large", http.MethodGet, base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", MaxPageBytes+1))), "0", fallbackPage, "120"},
		{"retry too large", http.MethodGet, "", "999999999", fallbackPage, "120"},
		{"largest page", http.MethodGet, base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", MaxPageBytes))), "604800", strings.Repeat("a", MaxPageBytes), "604800"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/any/path?q=1", strings.NewReader("body"))
			if tc.page != "" {
				req.Header.Set(HeaderPage, tc.page)
			}
			if tc.retry != "" {
				req.Header.Set(HeaderRetryAfter, tc.retry)
			}
			rec := httptest.NewRecorder()
			Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503", rec.Code)
			}
			for k, want := range map[string]string{"Retry-After": tc.wantRetry, "Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8"} {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got := rec.Body.String(); got != tc.wantBody {
				t.Errorf("body = %.80q, want %.80q", got, tc.wantBody)
			}
		})
	}
}

func TestDefaultPageEscapesName(t *testing.T) {
	p := DefaultPage("shop<script>")
	if !strings.Contains(p, "shop&lt;script&gt; is under maintenance") || strings.Contains(p, "<script>") {
		t.Errorf("default page does not escape the name:\n%s", p)
	}
}

func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, addr) }()
	var resp *http.Response
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err = http.Get("http://" + addr + "/"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), "Under maintenance") {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
