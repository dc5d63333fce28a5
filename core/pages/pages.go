// Package pages is the maintenance page server that berth runs, as the
// hidden `berth pages` subcommand, in the Swarm service <instance>-pages.
// Traefik sends it the requests of every application in maintenance mode
// (see core/proxy's Route.Maintenance), with two request headers that
// carry everything it answers: the page (HeaderPage, base64) and the
// seconds of Retry-After (HeaderRetryAfter). The server itself is
// stateless, so entering or leaving maintenance never restarts it.
package pages

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Request headers Traefik sets on the maintenance route.
const (
	// HeaderPage carries the page, standard base64 of its HTML.
	HeaderPage = "X-Berth-Maintenance-Page"
	// HeaderRetryAfter carries the Retry-After seconds.
	HeaderRetryAfter = "X-Berth-Retry-After"
)

// Limits and defaults of a maintenance page.
const (
	// MaxPageBytes is the largest page accepted (32 KiB of HTML).
	MaxPageBytes = 32 << 10
	// DefaultRetryAfter is the Retry-After of an application that set none.
	DefaultRetryAfter = 120
	// MaxRetryAfter is the largest Retry-After accepted (one week).
	MaxRetryAfter = 7 * 24 * 3600
	// Port is the port the server listens on inside its container.
	Port = 8080
)

// DefaultPage is the page of an application in maintenance that set none.
func DefaultPage(app string) string {
	name := html.EscapeString(app)
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + name + ` is under maintenance</title>
<style>body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;font-family:system-ui,sans-serif;background:#f6f7f9;color:#1f2933}main{max-width:32rem;padding:2rem;text-align:center}h1{font-size:1.5rem;margin:0 0 .75rem}p{margin:0;color:#52606d}</style>
</head><body><main><h1>` + name + ` is under maintenance</h1><p>We will be back shortly. Please try again in a few minutes.</p></main></body></html>
`
}

// fallbackPage is answered when a request carries no readable page (it
// did not come through a maintenance route).
const fallbackPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Under maintenance</title></head><body><h1>Under maintenance</h1></body></html>
`

// Handler answers every request, whatever its method and path, with 503,
// Retry-After, Cache-Control: no-store and the page from the request's
// headers. A missing or invalid page gives a generic one, a missing or
// invalid Retry-After DefaultRetryAfter.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := []byte(fallbackPage)
		if enc := r.Header.Get(HeaderPage); enc != "" && base64.StdEncoding.DecodedLen(len(enc)) <= MaxPageBytes+3 {
			if b, err := base64.StdEncoding.DecodeString(enc); err == nil && len(b) <= MaxPageBytes {
				page = b
			}
		}
		retry := DefaultRetryAfter
		if n, err := strconv.Atoi(r.Header.Get(HeaderRetryAfter)); err == nil && n > 0 && n <= MaxRetryAfter {
			retry = n
		}
		h := w.Header()
		h.Set("Retry-After", strconv.Itoa(retry))
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(page)))
		w.WriteHeader(http.StatusServiceUnavailable)
		if r.Method != http.MethodHead {
			_, _ = w.Write(page)
		}
	})
}

// Serve runs the page server on addr until ctx ends, then shuts it down.
func Serve(ctx context.Context, addr string) error {
	srv := &http.Server{Handler: Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 2 * MaxPageBytes}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pages: listen: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("pages: serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return fmt.Errorf("pages: shutdown: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("pages: serve: %w", err)
	}
	return nil
}
