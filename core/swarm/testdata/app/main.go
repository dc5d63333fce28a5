// Command app is the program core/swarm's tests deploy. Its behaviour comes
// from the environment, so one binary makes every image the tests need:
//
//   - default: serve HTTP on :8080, answering "<MESSAGE> <path>"; /healthz
//     answers 200 once HEALTHY_AFTER has elapsed (503 before, and always when
//     NEVER_HEALTHY is set); /file/<path> returns the file at /<path>.
//   - EXIT_CODE=n: print a line and exit with status n at once.
//   - app -healthcheck: GET http://127.0.0.1:8080/healthz and exit 0 on 200,
//     1 otherwise (a HEALTHCHECK that needs no shell).
//   - app -get URL: print the body of URL and exit 0 on 200, 1 otherwise
//     (a probe run on the service's overlay network).
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	healthcheck := flag.Bool("healthcheck", false, "probe the local /healthz and exit")
	get := flag.String("get", "", "print the body of this URL and exit")
	flag.Parse()
	switch {
	case *healthcheck:
		os.Exit(fetch("http://127.0.0.1:8080/healthz"))
	case *get != "":
		os.Exit(fetch(*get))
	}
	if v := os.Getenv("EXIT_CODE"); v != "" {
		code, _ := strconv.Atoi(v)
		fmt.Printf("app: exiting with code %d as asked\n", code)
		os.Exit(code)
	}
	// As PID 1 the process would ignore SIGTERM: stop at once instead.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-stop; os.Exit(0) }()
	serve()
}

// fetch prints the body of url and returns the process exit status.
func fetch(url string) int {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s", body)
	if resp.StatusCode != http.StatusOK {
		fmt.Printf("\nstatus %d\n", resp.StatusCode)
		return 1
	}
	return 0
}

func serve() {
	msg := os.Getenv("MESSAGE")
	var healthyAfter time.Duration
	if v := os.Getenv("HEALTHY_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			log.Fatalf("HEALTHY_AFTER: %v", err)
		}
		healthyAfter = d
	}
	never := os.Getenv("NEVER_HEALTHY") != ""
	start := time.Now()
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if never || time.Since(start) < healthyAfter {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "not ready yet")
			return
		}
		fmt.Fprint(w, "ok")
	})
	http.HandleFunc("/file/", func(w http.ResponseWriter, r *http.Request) {
		data, err := os.ReadFile(r.URL.Path[len("/file"):])
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Write(data)
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", msg, r.URL.Path)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
