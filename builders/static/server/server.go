// Package server is the web server inside the images berth's static
// builder makes. It serves a directory as a static site or a single-page
// app: GET and HEAD only, no path leaves the directory (symbolic links
// included), hidden files are never served, HTML is revalidated on every
// visit while fingerprinted assets are cached for a year, and responses are
// gzip-compressed for clients that accept it. /healthz answers 200 for
// health checks, and the "healthcheck" command probes it, for a Docker
// HEALTHCHECK in an image without a shell.
package server

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
	"time"
)

// Config says what to serve and how.
type Config struct {
	// Root is the directory to serve.
	Root string
	// SPA serves /index.html, with status 200, for unknown paths that do
	// not name a file (no extension, or .html), so that a single-page
	// app's client-side routes work. Other unknown paths are 404.
	SPA bool
	// CleanURLs serves /about from /about.html.
	CleanURLs bool
}

// HealthPath is the path that answers 200 while the server runs.
const HealthPath = "/healthz"

// handler serves files from root.
type handler struct {
	root *os.Root
	cfg  Config
}

// Handler returns the handler serving cfg.Root. Files are opened through
// an os.Root, which refuses any path (or symbolic link) leading out of it.
func Handler(cfg Config) (http.Handler, func() error, error) {
	root, err := os.OpenRoot(cfg.Root)
	if err != nil {
		return nil, nil, fmt.Errorf("site directory: %w", err)
	}
	return &handler{root: root, cfg: cfg}, root.Close, nil
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.URL.Path == HealthPath {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := sitePath(r.URL.Path)
	if !ok {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if name == "" {
		name = "index.html"
	}
	switch st, err := h.root.Stat(name); {
	case err == nil && st.IsDir():
		if !strings.HasSuffix(r.URL.Path, "/") {
			redirect(w, r, r.URL.Path+"/")
			return
		}
		if h.serveFile(w, r, path.Join(name, "index.html"), http.StatusOK) {
			return
		}
	case err == nil:
		if h.serveFile(w, r, name, http.StatusOK) {
			return
		}
	case h.cfg.CleanURLs && path.Ext(name) == "":
		if h.serveFile(w, r, name+".html", http.StatusOK) {
			return
		}
	}
	if h.cfg.SPA && (path.Ext(name) == "" || path.Ext(name) == ".html") && h.serveFile(w, r, "index.html", http.StatusOK) {
		return
	}
	if h.serveFile(w, r, "404.html", http.StatusNotFound) {
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.Error(w, "404 page not found", http.StatusNotFound)
}

// sitePath turns a URL path into a name relative to the root, "" for the
// root itself. It refuses ".." segments, back slashes, NUL bytes and hidden
// files (other than under /.well-known).
func sitePath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return "", false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." || (strings.HasPrefix(seg, ".") && seg != ".well-known" && seg != ".") {
			return "", false
		}
	}
	return strings.TrimPrefix(path.Clean(p), "/"), true
}

// redirect sends a permanent redirect to p, keeping the query.
func redirect(w http.ResponseWriter, r *http.Request, p string) {
	if r.URL.RawQuery != "" {
		p += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, p, http.StatusMovedPermanently)
}

// serveFile serves the regular file name with status, and reports whether
// there was one. With status 200 conditional and range requests work.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name string, status int) bool {
	f, err := h.root.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	hdr := w.Header()
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype != "" {
		hdr.Set("Content-Type", ctype)
	}
	hdr.Set("Cache-Control", CacheControl(name))
	compressible := st.Size() >= 256 && isCompressible(ctype)
	if compressible {
		hdr.Add("Vary", "Accept-Encoding")
	}
	if status != http.StatusOK {
		hdr.Set("Content-Length", fmt.Sprint(st.Size()))
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = io.Copy(w, f)
		}
		return true
	}
	if compressible && acceptsGzip(r) {
		// A precompressed file next to the original wins.
		if gz, err := h.root.Open(name + ".gz"); err == nil {
			defer gz.Close()
			if gst, err := gz.Stat(); err == nil && gst.Mode().IsRegular() {
				hdr.Set("Content-Encoding", "gzip")
				hdr.Set("ETag", etag(gst, "gz"))
				http.ServeContent(w, r, name, gst.ModTime(), gz)
				return true
			}
		}
		hdr.Set("ETag", etag(st, "gzip"))
		gw := &gzipWriter{ResponseWriter: w}
		plain := r.Clone(r.Context())
		plain.Header.Del("Range") // ranges of the uncompressed bytes make no sense here
		http.ServeContent(gw, plain, name, st.ModTime(), f)
		gw.close()
		return true
	}
	hdr.Set("ETag", etag(st, ""))
	http.ServeContent(w, r, name, st.ModTime(), f)
	return true
}

// etag is a strong validator from a file's size and modification time,
// distinct per encoding.
func etag(st fs.FileInfo, encoding string) string {
	tag := fmt.Sprintf("%x-%x", st.ModTime().UnixNano(), st.Size())
	if encoding != "" {
		tag += "-" + encoding
	}
	return `"` + tag + `"`
}

// acceptsGzip reports whether the request accepts gzip content coding.
func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") || strings.TrimSpace(coding) == "*" {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// isCompressible reports whether content of type ctype gains from gzip.
func isCompressible(ctype string) bool {
	mt, _, _ := strings.Cut(ctype, ";")
	switch {
	case strings.HasPrefix(mt, "text/"):
		return true
	case strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/javascript", "application/json", "application/xml", "application/wasm",
		"image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon", "font/ttf", "font/otf", "application/vnd.ms-fontobject":
		return true
	}
	return false
}

// gzipWriter compresses a 200 response's body; other statuses (304, 416)
// pass through without a body encoding.
type gzipWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer
	decided bool
	plain   bool
}

// WriteHeader switches to gzip for status 200.
func (g *gzipWriter) WriteHeader(status int) {
	if !g.decided {
		g.decided = true
		h := g.Header()
		if status == http.StatusOK {
			h.Del("Content-Length")
			h.Set("Content-Encoding", "gzip")
		} else {
			g.plain = true
			h.Del("ETag")
			h.Del("Content-Encoding")
		}
	}
	g.ResponseWriter.WriteHeader(status)
}

// Write compresses p.
func (g *gzipWriter) Write(p []byte) (int, error) {
	if !g.decided {
		g.WriteHeader(http.StatusOK)
	}
	if g.plain {
		return g.ResponseWriter.Write(p)
	}
	if g.gz == nil {
		g.gz = gzip.NewWriter(g.ResponseWriter)
	}
	return g.gz.Write(p)
}

func (g *gzipWriter) close() {
	if g.gz != nil {
		_ = g.gz.Close()
	}
}

// CacheControl is the Cache-Control header for a file: HTML and anything
// not fingerprinted is revalidated on every use (cheap, with ETag and
// Last-Modified); fingerprinted assets ("app.3f9a1c2b.js",
// "index-BXk3h2a9.css", anything under /_next/static/) never change under
// their name and are cached for a year.
func CacheControl(name string) string {
	if !strings.HasSuffix(name, ".html") && (strings.HasPrefix(name, "_next/static/") || IsFingerprinted(name)) {
		return "public, max-age=31536000, immutable"
	}
	return "no-cache"
}

// IsFingerprinted reports whether a file name carries a content hash, as
// bundlers write them: a part of the name, after a '.' or '-', of at least 8
// characters that is lower-case hex, upper-case letters and digits, or
// mixed-case letters and digits, with at least one digit and one letter.
func IsFingerprinted(name string) bool {
	base := path.Base(name)
	parts := strings.Split(base, ".")
	if len(parts) < 2 {
		return false
	}
	for i, part := range parts[:len(parts)-1] {
		if i == 0 {
			j := strings.LastIndexByte(part, '-')
			if j < 0 {
				continue
			}
			part = part[j+1:]
		}
		if isHash(part) {
			return true
		}
	}
	return false
}

func isHash(s string) bool {
	if len(s) < 8 {
		return false
	}
	var digit, lower, upper, nonHex bool
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9':
			digit = true
		case 'a' <= r && r <= 'z':
			lower = true
			nonHex = nonHex || r > 'f'
		case 'A' <= r && r <= 'Z':
			upper = true
		case r == '_' || r == '-':
		default:
			return false
		}
	}
	switch {
	case !digit || !(lower || upper):
		return false
	case lower && !upper:
		return !nonHex // hex
	default:
		return true // upper-case (esbuild) or mixed case (Vite, Rollup)
	}
}

// ErrUnhealthy is returned by Check when the server does not answer 200.
var ErrUnhealthy = errors.New("site server is not healthy")

// Check asks the server at addr ("127.0.0.1:8080") for HealthPath.
func Check(addr string, timeout time.Duration) error {
	c := &http.Client{Timeout: timeout}
	resp, err := c.Get("http://" + addr + HealthPath)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnhealthy, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s answered %s", ErrUnhealthy, HealthPath, resp.Status)
	}
	return nil
}
