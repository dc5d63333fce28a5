// Command backend is the HTTP application berth's tests deploy: a static
// binary that answers every request with "<MESSAGE> <path>", and /healthz
// with 200 once HEALTHY_AFTER has elapsed since start (503 before).
//
// Other modes, usable without a shell in FROM-scratch images:
//
//	backend healthcheck      exit 0 when the local server's /healthz is 200 (HEALTHCHECK CMD)
//	backend sleep DURATION   sleep, then exit 0 (a slow RUN step in a Dockerfile)
//	backend crash            exit 3 at once (a release that never starts)
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		os.Exit(mode(os.Args[1:]))
	}
	msg := os.Getenv("MESSAGE")
	var healthyAfter time.Duration
	if v := os.Getenv("HEALTHY_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			log.Fatalf("HEALTHY_AFTER: %v", err)
		}
		healthyAfter = d
	}
	start := time.Now()
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if time.Since(start) < healthyAfter {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s", msg, r.URL.Path)
	})
	log.Fatal(http.ListenAndServe(":"+port(), nil))
}

func port() string {
	if p := os.Getenv("PORT"); p != "" {
		return p
	}
	return "8080"
}

func mode(args []string) int {
	switch args[0] {
	case "healthcheck":
		c := &http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get("http://127.0.0.1:" + port() + "/healthz")
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
