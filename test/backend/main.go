// Command backend is the HTTP application berth's tests deploy: a static
// binary that answers every request with "<MESSAGE> <path>", and /healthz
// with 200 once HEALTHY_AFTER has elapsed since start (503 before).
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	msg := os.Getenv("MESSAGE")
	addr := ":" + os.Getenv("PORT")
	if addr == ":" {
		addr = ":8080"
	}
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
	log.Fatal(http.ListenAndServe(addr, nil))
}
