package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// Commands a binary hands to Main: "serve" runs the server, "healthcheck"
// (or -healthcheck) probes a running one and exits 0 when it is healthy.
const (
	CommandServe       = "serve"
	CommandHealthcheck = "healthcheck"
)

// DefaultPort is the port the server listens on unless told otherwise.
const DefaultPort = 8080

// IsCommand reports whether arg, a binary's first argument, is one of the
// server's commands.
func IsCommand(arg string) bool {
	switch arg {
	case CommandServe, CommandHealthcheck, "-healthcheck", "--healthcheck":
		return true
	}
	return false
}

// Main runs the command in args ("serve --root /site --port 8080 [--spa]
// [--clean-urls]" or "healthcheck [--port 8080]") and returns the exit
// status. The server stops gracefully on SIGTERM or SIGINT.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || !IsCommand(args[0]) {
		fmt.Fprintln(stderr, "usage: serve --root DIR [--port N] [--spa] [--clean-urls] | healthcheck [--port N]")
		return 2
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", DefaultPort, "TCP port")
	if args[0] != CommandServe {
		timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for an answer")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if err := Check(net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)), *timeout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	var cfg Config
	fs.StringVar(&cfg.Root, "root", "/site", "directory to serve")
	fs.BoolVar(&cfg.SPA, "spa", false, "serve /index.html for unknown paths that are not files")
	fs.BoolVar(&cfg.CleanURLs, "clean-urls", false, "serve /about from /about.html")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	lis, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "serving %s on :%d (spa=%v, clean-urls=%v)\n", cfg.Root, *port, cfg.SPA, cfg.CleanURLs)
	if err := Serve(ctx, lis, cfg, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// Serve serves cfg on lis until ctx ends, then shuts down gracefully,
// logging a line per request to access (nil for none).
func Serve(ctx context.Context, lis net.Listener, cfg Config, access io.Writer) error {
	h, closeRoot, err := Handler(cfg)
	if err != nil {
		return err
	}
	defer closeRoot()
	if access != nil {
		h = logRequests(h, access)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	select {
	case err := <-done:
		return fmt.Errorf("serving %s: %w", cfg.Root, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("stopping the server: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving %s: %w", cfg.Root, err)
	}
	return nil
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status.
func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

// Write records an implicit 200.
func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// logRequests writes "METHOD path status duration" per request, except for
// health checks.
func logRequests(h http.Handler, out io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if r.URL.Path != HealthPath {
			fmt.Fprintf(out, "%s %s %d %s\n", r.Method, r.URL.RequestURI(), rec.status, time.Since(start).Round(time.Microsecond))
		}
	})
}
