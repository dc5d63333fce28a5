// Command backend is the test backend of core/accesslog's integration
// test: it answers every request on :8080 with the status given by the
// query parameter status (default 200) after sleeping delay milliseconds.
package main

import (
	"fmt"
	"log"
	"net/http"
	"strconv"
	"time"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if ms, err := strconv.Atoi(r.URL.Query().Get("delay")); err == nil && ms > 0 && ms <= 10000 {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		status := http.StatusOK
		if n, err := strconv.Atoi(r.URL.Query().Get("status")); err == nil && n >= 200 && n <= 599 {
			status = n
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "%d %s\n", status, r.URL.Path)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
