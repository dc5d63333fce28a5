// Command backend is the HTTP application berth's tests deploy: a static
// binary that answers every request with "<MESSAGE> <path>", and /healthz
// with 200 once HEALTHY_AFTER has elapsed since start (503 before). Every
// answer carries the header "X-Version: <MESSAGE>", so a load generator can
// count the answers of each release.
//
// Its environment shapes it like the apps a release must survive, with no
// shell in the image:
//
//	MESSAGE=TEXT             the text of every answer and its X-Version header
//	PORT=N                   the port to listen on (8080)
//	HEALTHY_AFTER=DURATION   /healthz answers 503 until then (port open, never ready with "1h")
//	LISTEN_AFTER=DURATION    open the port only after that long (a Rails or Spring app booting)
//	EXIT_AFTER=DURATION      serve, then exit 1 that long after the port opened (a release that crashes)
//	NEVER_LISTEN=1           run, but never open the port (never ready, for a port or an HTTP check)
//	IGNORE_SIGTERM=1         ignore SIGTERM (only SIGKILL stops it)
//	DRAIN=1                  on SIGTERM stop accepting connections, finish the requests in flight, exit 0
//
// Without IGNORE_SIGTERM or DRAIN a SIGTERM ends the process at once, as
// Go's default does.
//
// Other modes, usable without a shell in FROM-scratch images:
//
//	backend healthcheck      exit 0 when the local server's /healthz is 200 (HEALTHCHECK CMD)
//	backend sleep DURATION   sleep, then exit 0 (a slow RUN step in a Dockerfile)
//	backend crash            exit 3 at once (a release that never starts)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		os.Exit(mode(os.Args[1:]))
	}
	cfg, err := parseConfig(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	var sigterm chan os.Signal
	switch {
	case cfg.ignoreSIGTERM:
		signal.Ignore(syscall.SIGTERM)
	case cfg.drain:
		sigterm = make(chan os.Signal, 1)
		signal.Notify(sigterm, syscall.SIGTERM)
	}
	os.Exit(run(cfg, time.Now(), sigterm, nil))
}

// config is what the environment asks of the server.
type config struct {
	message, port string
	healthyAfter  time.Duration
	listenAfter   time.Duration
	exitAfter     time.Duration
	neverListen   bool
	ignoreSIGTERM bool
	drain         bool
}

// parseConfig reads the server's configuration with getenv; a value that
// does not parse is an error naming its variable.
func parseConfig(getenv func(string) string) (config, error) {
	cfg := config{message: getenv("MESSAGE"), port: getenv("PORT")}
	if cfg.port == "" {
		cfg.port = "8080"
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"HEALTHY_AFTER", &cfg.healthyAfter}, {"LISTEN_AFTER", &cfg.listenAfter}, {"EXIT_AFTER", &cfg.exitAfter}} {
		v := getenv(d.name)
		if v == "" {
			continue
		}
		dur, err := time.ParseDuration(v)
		if err != nil {
			return config{}, fmt.Errorf("%s: %q is not a duration such as 3s", d.name, v)
		}
		*d.dst = dur
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"NEVER_LISTEN", &cfg.neverListen}, {"IGNORE_SIGTERM", &cfg.ignoreSIGTERM}, {"DRAIN", &cfg.drain}} {
		v := getenv(b.name)
		if v == "" {
			continue
		}
		on, err := strconv.ParseBool(v)
		if err != nil {
			return config{}, fmt.Errorf("%s: %q is not 1, 0, true or false", b.name, v)
		}
		*b.dst = on
	}
	return cfg, nil
}

// handler answers "<MESSAGE> <path>" and /healthz, every answer with
// X-Version; started is when the process started (for HEALTHY_AFTER).
func handler(cfg config, started time.Time) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if time.Since(started) < cfg.healthyAfter {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // read a POST's body, as an app would
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s", cfg.message, r.URL.Path)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Version", cfg.message)
		mux.ServeHTTP(w, r)
	})
}

// run serves as cfg says until the server fails (1), EXIT_AFTER elapses
// (1) or a SIGTERM arrives on sigterm (nil when SIGTERM is not caught) and
// the requests in flight are done (0); it returns the exit status.
// listening, if not nil, is told the address once the port is open.
func run(cfg config, started time.Time, sigterm <-chan os.Signal, listening func(net.Addr)) int {
	var opened <-chan time.Time // nil: never
	if !cfg.neverListen {
		opened = time.After(time.Until(started.Add(cfg.listenAfter)))
	} else {
		log.Print("backend: NEVER_LISTEN: the port stays closed")
	}
	select {
	case <-opened:
	case <-sigterm:
		log.Print("backend: SIGTERM before the port opened: exiting")
		return 0
	}
	ln, err := net.Listen("tcp", ":"+cfg.port)
	if err != nil {
		log.Print(err)
		return 1
	}
	if listening != nil {
		listening(ln.Addr())
	}
	srv := &http.Server{Handler: handler(cfg, started), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var exit <-chan time.Time
	if cfg.exitAfter > 0 {
		exit = time.After(cfg.exitAfter)
	}
	select {
	case err := <-served:
		log.Print(err)
		return 1
	case <-exit:
		log.Printf("backend: EXIT_AFTER=%s: exiting with status 1 (a crash after answering)", cfg.exitAfter)
		return 1
	case <-sigterm:
		log.Print("backend: SIGTERM: draining the requests in flight")
		if err := srv.Shutdown(context.Background()); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Print(err)
		}
		log.Print("backend: drained, exiting")
		return 0
	}
}

func mode(args []string) int {
	switch args[0] {
	case "healthcheck":
		c := &http.Client{Timeout: 2 * time.Second}
		port := os.Getenv("PORT")
		if port == "" {
			port = "8080"
		}
		resp, err := c.Get("http://127.0.0.1:" + port + "/healthz")
		if err != nil {
			return 1
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 1
		}
		return 0
	case "sleep":
		d, err := time.ParseDuration(args[len(args)-1])
		if err != nil {
			return 2
		}
		time.Sleep(d)
		return 0
	case "crash":
		fmt.Fprintln(os.Stderr, "backend: crashing on purpose")
		return 3
	}
	fmt.Fprintf(os.Stderr, "backend: unknown mode %q\n", args[0])
	return 2
}
