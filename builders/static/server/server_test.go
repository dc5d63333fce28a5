package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var bigCSS = strings.Repeat("body { color: red; }\n", 100)

// site writes a small site and returns its directory and a directory
// outside it holding a secret.
func site(t testing.TB) (root, outside string) {
	t.Helper()
	root, outside = t.TempDir(), t.TempDir()
	files := map[string]string{
		"index.html":                    "<h1>home</h1>",
		"about.html":                    "<h1>about</h1>",
		"docs/index.html":               "<h1>docs</h1>",
		"assets/app.3f9a1c2b.js":        "console.log(1)",
		"assets/site.css":               bigCSS,
		"assets/pre.css":                bigCSS,
		"assets/pre.css.gz":             gzipped(t, bigCSS),
		".env":                          "SECRET=1",
		".well-known/security.txt":      "Contact: x",
		"data.json":                     `{"a":1}`,
		"_next/static/chunks/main-1.js": "x",
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("TOP SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "secret.txt")); err != nil {
		t.Fatal(err)
	}
	return root, outside
}

func gzipped(t testing.TB, s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestHandler(t *testing.T) {
	root, _ := site(t)
	type want struct {
		status   int
		body     string // substring of the (decoded) body
		cache    string
		encoding string
		location string
	}
	tests := []struct {
		name      string
		cfg       Config
		method    string
		path      string
		header    map[string]string
		want      want
		forbidden string // must not be in the body
	}{
		{name: "index", path: "/", want: want{status: 200, body: "home", cache: "no-cache"}},
		{name: "index.html", path: "/index.html", want: want{status: 200, body: "home", cache: "no-cache"}},
		{name: "page", path: "/about.html", want: want{status: 200, body: "about"}},
		{name: "directory index", path: "/docs/", want: want{status: 200, body: "docs"}},
		{name: "directory redirect", path: "/docs?x=1", want: want{status: 301, location: "/docs/?x=1"}},
		{name: "fingerprinted asset", path: "/assets/app.3f9a1c2b.js", want: want{status: 200, body: "console.log", cache: "public, max-age=31536000, immutable"}},
		{name: "next static", path: "/_next/static/chunks/main-1.js", want: want{status: 200, cache: "public, max-age=31536000, immutable"}},
		{name: "plain asset", path: "/assets/site.css", want: want{status: 200, body: "color: red", cache: "no-cache"}},
		{name: "gzip", path: "/assets/site.css", header: map[string]string{"Accept-Encoding": "br, gzip"}, want: want{status: 200, body: "color: red", encoding: "gzip"}},
		{name: "gzip refused", path: "/assets/site.css", header: map[string]string{"Accept-Encoding": "gzip;q=0"}, want: want{status: 200, body: "color: red"}},
		{name: "precompressed", path: "/assets/pre.css", header: map[string]string{"Accept-Encoding": "gzip"}, want: want{status: 200, body: "color: red", encoding: "gzip"}},
		{name: "small file not compressed", path: "/data.json", header: map[string]string{"Accept-Encoding": "gzip"}, want: want{status: 200, body: `"a"`}},
		{name: "HEAD", method: "HEAD", path: "/", want: want{status: 200}},
		{name: "POST refused", method: "POST", path: "/", want: want{status: 405}},
		{name: "DELETE refused", method: "DELETE", path: "/index.html", want: want{status: 405}},
		{name: "unknown path", path: "/app/settings", want: want{status: 404}},
		{name: "SPA route", cfg: Config{SPA: true}, path: "/app/settings", want: want{status: 200, body: "home", cache: "no-cache"}},
		{name: "SPA missing asset", cfg: Config{SPA: true}, path: "/assets/missing.js", want: want{status: 404}},
		{name: "clean URL", cfg: Config{CleanURLs: true}, path: "/about", want: want{status: 200, body: "about"}},
		{name: "no clean URLs", path: "/about", want: want{status: 404}},
		{name: "dot-dot", path: "/../secret.txt", want: want{status: 400}, forbidden: "TOP SECRET"},
		{name: "encoded dot-dot", path: "/%2e%2e/%2e%2e/etc/passwd", want: want{status: 400}, forbidden: "root:"},
		{name: "back slash", path: "/..%5c..%5cetc%5cpasswd", want: want{status: 400}, forbidden: "root:"},
		{name: "link out of the root", path: "/escape/secret.txt", want: want{status: 404}, forbidden: "TOP SECRET"},
		{name: "file link out of the root", path: "/secret.txt", want: want{status: 404}, forbidden: "TOP SECRET"},
		{name: "hidden file", path: "/.env", want: want{status: 400}, forbidden: "SECRET=1"},
		{name: "well-known", path: "/.well-known/security.txt", want: want{status: 200, body: "Contact"}},
		{name: "health", path: "/healthz", want: want{status: 200, body: "ok", cache: "no-store"}},
		{name: "health answers any method", method: "POST", path: "/healthz", want: want{status: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Root = root
			h, closeRoot, err := Handler(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer closeRoot()
			srv := httptest.NewServer(h)
			defer srv.Close()
			status, hdr, body := rawRequest(t, srv.Listener.Addr().String(), tt.method, tt.path, tt.header)
			if status != tt.want.status {
				t.Errorf("status %d, want %d (body %q)", status, tt.want.status, body)
			}
			if hdr.Get("Content-Encoding") != tt.want.encoding {
				t.Errorf("Content-Encoding %q, want %q", hdr.Get("Content-Encoding"), tt.want.encoding)
			}
			if tt.want.encoding == "gzip" {
				zr, err := gzip.NewReader(strings.NewReader(body))
				if err != nil {
					t.Fatalf("body is not gzip: %v", err)
				}
				b, _ := io.ReadAll(zr)
				body = string(b)
			}
			if !strings.Contains(body, tt.want.body) {
				t.Errorf("body %q, want it to contain %q", body, tt.want.body)
			}
			if tt.forbidden != "" && strings.Contains(body, tt.forbidden) {
				t.Errorf("body leaks %q", tt.forbidden)
			}
			if tt.want.cache != "" && hdr.Get("Cache-Control") != tt.want.cache {
				t.Errorf("Cache-Control %q, want %q", hdr.Get("Cache-Control"), tt.want.cache)
			}
			if tt.want.location != "" && hdr.Get("Location") != tt.want.location {
				t.Errorf("Location %q, want %q", hdr.Get("Location"), tt.want.location)
			}
			if tt.method == "HEAD" && body != "" {
				t.Errorf("HEAD returned a body")
			}
		})
	}
}

// rawRequest sends a request line exactly as given (no client-side
// cleaning of the path) and returns the response.
func rawRequest(t testing.TB, addr, method, target string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	if method == "" {
		method = "GET"
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: site\r\nConnection: close\r\n", method, target)
	for k, v := range header {
		fmt.Fprintf(&req, "%s: %s\r\n", k, v)
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(c, req.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestConditionalRequests(t *testing.T) {
	root, _ := site(t)
	h, closeRoot, err := Handler(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer closeRoot()
	for _, enc := range []string{"", "gzip"} {
		req := httptest.NewRequest("GET", "/assets/site.css", nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		tag := rec.Header().Get("ETag")
		if tag == "" {
			t.Fatalf("no ETag (encoding %q)", enc)
		}
		req.Header.Set("If-None-Match", tag)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("revalidation with %s (encoding %q) = %d with %d bytes, want 304 and no body", tag, enc, rec.Code, rec.Body.Len())
		}
	}
}

func TestNotFoundPage(t *testing.T) {
	root, _ := site(t)
	if err := os.WriteFile(filepath.Join(root, "404.html"), []byte("<h1>custom 404</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, closeRoot, err := Handler(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer closeRoot()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/nope", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "custom 404") {
		t.Errorf("GET /nope = %d %q, want 404 with 404.html", rec.Code, rec.Body.String())
	}
}

func TestIsFingerprinted(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"main.3f9a1c2b.js", true},
		{"main.3f9a1c2b.chunk.js", true},
		{"index-BXk3h2a9.js", true},
		{"chunk-ABCD1234.js", true},
		{"styles.5e2c0b7d1a9f4e3c.css", true},
		{"logo.png", false},
		{"app.js", false},
		{"jquery-3.6.0.min.js", false},
		{"report-2024final.pdf", false},
		{"something.overview.css", false},
		{"picture-2.png", false},
		{"12345678.png", false},
		{"sw.js", false},
	}
	for _, tt := range tests {
		if got := IsFingerprinted(tt.name); got != tt.want {
			t.Errorf("IsFingerprinted(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMainServeAndHealthcheck(t *testing.T) {
	root, _ := site(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(lis.Addr().(*net.TCPAddr).Port)
	var stderr bytes.Buffer
	if code := Main([]string{"healthcheck", "--port", port, "--timeout", "1s"}, io.Discard, &stderr); code != 1 {
		t.Errorf("healthcheck with no server = %d, want 1", code)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var access bytes.Buffer
	go func() { done <- Serve(ctx, lis, Config{Root: root}, &access) }()
	for _, arg := range []string{"healthcheck", "-healthcheck"} {
		if code := Main([]string{arg, "--port", port}, io.Discard, &stderr); code != 0 {
			t.Errorf("%s with a server = %d, want 0 (%s)", arg, code, stderr.String())
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if code := Main([]string{"serve", "--root", filepath.Join(root, "missing"), "--port", "0"}, io.Discard, &stderr); code != 1 {
		t.Errorf("serve of a missing directory = %d, want 1", code)
	}
	if code := Main([]string{"bogus"}, io.Discard, &stderr); code != 2 {
		t.Errorf("unknown command = %d, want 2", code)
	}
}
