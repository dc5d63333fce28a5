// Command backend is the test backend of core/proxy's integration test: a
// static HTTP server that answers every request with "<MESSAGE> <path>",
// with status 200, or NNN for paths under /status/NNN.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
)

func main() {
	msg := os.Getenv("MESSAGE")
	addr := ":" + os.Getenv("PORT")
	if addr == ":" {
		addr = ":8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if code, ok := strings.CutPrefix(r.URL.Path, "/status/"); ok {
			if n, err := strconv.Atoi(code[:min(3, len(code))]); err == nil && n >= 200 && n <= 599 {
				w.WriteHeader(n)
			}
		}
		fmt.Fprintf(w, "%s %s", msg, r.URL.Path)
	})
	log.Fatal(http.ListenAndServe(addr, nil))
}
