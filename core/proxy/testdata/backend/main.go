// Command backend is the test backend of core/proxy's integration test: a
// static HTTP server that answers every request with "<MESSAGE> <path>".
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	msg := os.Getenv("MESSAGE")
	addr := ":" + os.Getenv("PORT")
	if addr == ":" {
		addr = ":8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s", msg, r.URL.Path)
	})
	log.Fatal(http.ListenAndServe(addr, nil))
}
